"""Playwright fixtures: Debian's headless Chromium against pytest-django's live server.

One browser for the run, a fresh context (cookies, storage) per test. Every page a test visits
is saved as a screenshot in `test-artifacts/screenshots/<test name>/NN-<step>.png`; when a test
fails, the page as it was at the failure is saved too, and nothing is deleted.
"""

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            # WhiteNoise looks for STATIC_ROOT, which only `collectstatic` makes.
            item.add_marker(pytest.mark.filterwarnings("ignore:No directory at:UserWarning"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests of the run (pytest-django runs them together).

    While Playwright runs, its event loop counts as running in this thread, so Django would
    refuse every ORM call here (SynchronousOnlyOperation) although they are plain synchronous
    calls: DJANGO_ALLOW_ASYNC_UNSAFE is set for the browser's lifetime only, so that no other
    test (nor a subprocess one starts) inherits it.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Starting Playwright leaves this thread in another context (contextvars), where Django's
    # per-context connection handler would open new connection objects, without the test
    # database's serialized contents that `serialized_rollback` restores: keep the same ones.
    saved = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        for alias, connection in saved.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


class Screens:
    """Saves numbered screenshots of the pages a test visits."""

    def __init__(self, page, folder: Path):
        self.page = page
        self.folder = folder
        self.count = 0

    def shot(self, step: str) -> Path:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{self.count:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


class AdminUI:
    """The few moves a staff member makes in the admin; each page reached is photographed."""

    def __init__(self, page, base_url: str, screens: Screens):
        self.page = page
        self.base_url = base_url
        self.screens = screens

    def goto(self, path: str, step: str):
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        self.screens.shot(step)
        return response

    def submit(self, selector: str, step: str):
        """Click a submit button (or link) that loads a new page; returns that page's response."""
        with self.page.expect_navigation() as navigation:
            self.page.click(selector)
        self.page.wait_for_load_state("load")
        self.screens.shot(step)
        return navigation.value

    def login(self, email: str, password: str, *, next_path: str = "/admin/"):
        self.goto(f"/admin/login/?next={next_path}", "login page")
        self.page.fill("input[name=username]", email)
        self.page.fill("input[name=password]", password)
        return self.submit("input[type=submit], button[type=submit]", "logged in")


@pytest.fixture
def screens_dir(request) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    folder = SCREENSHOTS / name
    shutil.rmtree(folder, ignore_errors=True)  # only this test's previous run
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def checked_page(browser, live_server, screens_dir, request, viewport=(1280, 900)):
    """A page in a fresh browser context, photographed as it is when the test fails.

    Every page of every browser test runs under the Content-Security-Policy: Chromium reports
    what the policy blocked on the console, and any such report fails the test."""
    width, height = viewport
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.screens = Screens(page, screens_dir)
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_violations.append(message.text)
        ),
    )
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        try:
            page.screens.shot("failure")
        except Exception:  # noqa: BLE001, S110 - the page may already be gone
            pass
    context.close()
    assert page.csp_violations == [], "blocked by the Content-Security-Policy"


@pytest.fixture
def page(browser, live_server, screens_dir, request):
    with checked_page(browser, live_server, screens_dir, request) as page:
        yield page


@pytest.fixture
def admin_ui(page, live_server) -> AdminUI:
    return AdminUI(page, live_server.url, page.screens)
