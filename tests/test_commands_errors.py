"""API.md: a command answers a database or file error with one line on stderr and exit 1
(issue 17, finding 15)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from shop.commands import BaseCommand

ROOT = Path(__file__).resolve().parent.parent


def run_command(*args, **env):
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "tests-only-not-a-secret-0123456789", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_import_products_database_unreachable_is_one_line_and_exit_1(tmp_path):
    """Finding 15: 74–109 lines of traceback."""
    sheet = tmp_path / "products.csv"
    sheet.write_text("sku,name,category,price,cost,quantity\nA-1,Lamp,Home,9.90,4.00,3\n")

    result = run_command(
        "import_products",
        str(sheet),
        DATABASE_URL="postgres://nobody@127.0.0.1:9/shop",  # the discard port: refused
        DATABASE_CONNECT_TIMEOUT="2",
    )

    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("CommandError: Database error:")
    assert "Traceback" not in result.stderr


def test_command_traceback_option_still_shows_the_real_error(tmp_path):
    result = run_command(
        "purge_idempotency_keys", "--traceback", DATABASE_URL="postgres://nobody@127.0.0.1:9/x"
    )

    assert result.returncode != 0
    assert "Traceback" in result.stderr and "OperationalError" in result.stderr


@pytest.mark.django_db
def test_export_products_unwritable_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("export_products", str(tmp_path / "missing" / "dir" / "products.csv"))

    assert "\n" not in str(exc.value)


class Broken(BaseCommand):
    def __init__(self, error):
        super().__init__()
        self.error = error

    def handle(self, *args, **options):
        raise self.error


@pytest.mark.parametrize(
    ("error", "prefix"),
    [
        (OperationalError("connection failed:\n  server closed\n"), "Database error:"),
        (PermissionError(13, "Permission denied", "/root/x.csv"), "File error:"),
    ],
)
def test_base_command_turns_database_and_file_errors_into_one_line(error, prefix):
    with pytest.raises(CommandError) as exc:
        Broken(error).execute(skip_checks=True, traceback=False, no_color=True, force_color=False)

    message = str(exc.value)
    assert message.startswith(prefix) and "\n" not in message
    assert exc.value.returncode == 1
