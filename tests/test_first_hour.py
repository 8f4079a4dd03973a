"""The first hour of a new user: the start page, the README's commands, a key that stays."""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What a new user's shell has: none of the test run's settings.
SCRUBBED = {
    "DATABASE_URL",
    "DEBUG",
    "SECRET_KEY",
    "DJANGO_SETTINGS_MODULE",
    "VIRTUAL_ENV",
    "PYTEST_CURRENT_TEST",
    "PYTEST_ADDOPTS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "MAKEFLAGS",
    "MAKELEVEL",
}


def user_env(**extra) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in SCRUBBED}, **extra}


def make(*args, cwd, timeout=120, **extra):
    return subprocess.run(  # noqa: S603 - make with fixed arguments
        ["make", *args],  # noqa: S607
        cwd=cwd,
        env=user_env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.django_db
def test_start_page_leads_to_the_admin_the_api_docs_and_the_health_check(client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    for href in ('href="/admin/"', 'href="/api/v1/docs/"', 'href="/healthz"'):
        assert href in html


@pytest.mark.django_db
def test_admin_view_site_link_leads_to_the_start_page(client, superuser):
    client.force_login(superuser)

    html = client.get("/admin/").content.decode()

    assert 'href="/"' in html
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_admin_is_branded_with_a_favicon(client, superuser):
    client.force_login(superuser)

    html = client.get("/admin/").content.decode()

    assert "Shop back office" in html
    assert "Django administration" not in html
    assert "shop/favicon.svg" in html
    assert (ROOT / "static" / "shop" / "favicon.svg").is_file()


@pytest.mark.django_db
def test_admin_403_is_a_page_in_the_admins_look_with_a_way_back(client, analyst):
    client.force_login(analyst)

    response = client.get("/admin/inventory/product/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "Shop back office" in html
    assert analyst.email in html
    assert 'href="/admin/"' in html and "Back to the back office" in html


@pytest.mark.django_db
def test_api_403_stays_json(client_for, customer):
    response = client_for(customer).get("/api/v1/analytics/profit/")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


def test_make_writes_env_once_and_keeps_its_key(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    venv = f"VENV={ROOT / '.venv'}"

    first = make(".env", venv, cwd=tmp_path)
    written = (tmp_path / ".env").read_text()
    second = make(".env", venv, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "DEBUG=true" in written.splitlines()
    key = next(line for line in written.splitlines() if line.startswith("SECRET_KEY="))
    assert len(key) > len("SECRET_KEY=") + 50
    assert (tmp_path / ".env").read_text() == written


def test_env_is_ignored_by_git():
    result = subprocess.run(  # noqa: S603
        ["git", "check-ignore", "-q", ".env"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
    )

    assert result.returncode == 0


def test_make_run_prints_links_on_the_port_asked_for():
    result = make("-n", "run", "PORT=8765", cwd=ROOT)

    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8765/admin/" in result.stdout
    assert "http://127.0.0.1:8765/api/v1/docs/" in result.stdout
    assert "runserver 127.0.0.1:8765" in result.stdout
    assert ":8000" not in result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serves(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("RUN_SLOW")),
    reason="a fresh clone installs a whole .venv (minutes): set RUN_SLOW=1 (CI always runs it)",
)
def test_readme_commands_work_as_written_in_a_fresh_clone(tmp_path):
    clone = tmp_path / "shop"
    subprocess.run(  # noqa: S603
        ["git", "clone", "--quiet", str(ROOT), str(clone)],  # noqa: S607
        check=True,
        timeout=120,
    )
    readme = (clone / "README.md").read_text()
    assert "make run" in readme and ".venv/bin/python manage.py export_products" in readme
    port = _free_port()
    log = (tmp_path / "make-run.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        ["make", "run", f"PORT={port}"],  # noqa: S607
        cwd=clone,
        env=user_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 900
        while not _serves(f"http://127.0.0.1:{port}/") and time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            time.sleep(2)
        assert _serves(f"http://127.0.0.1:{port}/admin/login/")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    output = (tmp_path / "make-run.log").read_text()
    assert f"http://127.0.0.1:{port}/admin/" in output
    assert "Wrote .env" in output

    # A documented command, as the README writes it, in a new shell.
    result = subprocess.run(  # noqa: S603
        [".venv/bin/python", "manage.py", "export_products", "products.csv"],
        cwd=clone,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    rows = (clone / "products.csv").read_text().splitlines()
    assert rows[0].lstrip("\ufeff").startswith("sku,name,category,price,cost,quantity")
    assert len(rows) == 301  # the demo's 300 products
    assert (
        ".env"
        not in subprocess.run(  # noqa: S603
            ["git", "status", "--porcelain"],  # noqa: S607
            cwd=clone,
            capture_output=True,
            text=True,
        ).stdout
    )
