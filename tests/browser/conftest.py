"""Browser tests: the app on a real loopback HTTP server in this process, driven by
Playwright through Debian's Chromium (/usr/bin/chromium; never a downloaded browser).

- `live_server` serves the session's `app` with a threaded werkzeug server, so several
  browser contexts (people) use it at once and Server-Sent Events stream through it.
- `browser` is one headless Chromium for this package's tests (closed after them);
  `person()` opens a fresh context (its own cookies) for each person in a journey.
- `visit(page, path)` loads a page, checks it with axe-core (WCAG 2.x A and AA rules) and
  fails on any violation; `shoot(page, name)` saves desktop and 375 px screenshots into
  artifacts/screenshots/ (git-ignored; left there by CI for collection).

Without Chromium or Playwright the tests skip with the reason; with CI=true they fail.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from extensions import db
from tests.conftest import IN_CI
from tests.factories import PASSWORD

CHROMIUM = os.environ.get("FIXQUEST_CHROMIUM", "/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
AXE_SOURCE = HERE / "vendor" / "axe.min.js"
SCREENSHOTS = HERE.parent.parent / "artifacts" / "screenshots"
AXE_URL_PATH = "/__axe__/axe.min.js"  # served by a route in each context, so the CSP's script-src 'self' allows it
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 375, "height": 812}
TIMEOUT_MS = 15_000
# A blank 1x1 PNG for map tiles: the test machine has no internet, and a tile server is not ours to load.
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a8f20000000049454e44ae426082")


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"browser tests need {reason} in CI")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="package")
def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package (pip install -r requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(_playwright):
    browser = _playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
    yield browser
    browser.close()


class LiveServer:
    def __init__(self, app):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="package")
def live_server(app):
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def person(browser, live_server, ctx):
    """person(viewport=...) -> a new page in a fresh browser context (one person)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)  # live updates on a busy CI machine can take more than 5 s
    contexts = []

    def open_person(*, viewport: dict | None = None):
        context = browser.new_context(base_url=live_server.url, viewport=viewport or DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        context.route(f"**{AXE_URL_PATH}", lambda route: route.fulfill(
            body=AXE_SOURCE.read_text(encoding="utf-8"), content_type="text/javascript"))
        context.route(lambda url: not url.startswith(live_server.url),
                      lambda route: route.fulfill(body=BLANK_PNG, content_type="image/png"))
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: page.errors.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text else None)
        page.on("response", lambda response: page.errors.append(f"{response.status} for {response.url}")
                if response.status >= 400 and response.request.resource_type != "document" else None)
        contexts.append(context)
        return page

    yield open_person
    for context in contexts:
        context.close()
    db.session.remove()


def check_accessibility(page) -> None:
    """Run axe-core on the page as it is now; fail on any WCAG 2.x A/AA violation."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL_PATH)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS)
    problems = []
    for violation in result["violations"]:
        for node in violation["nodes"]:
            problems.append(f"{violation['id']} ({violation['impact']}): {violation['help']}\n"
                            f"    at {node['target']}: {node.get('failureSummary', '')}")
    assert not problems, f"axe found {len(problems)} problem(s) on {page.url}:\n" + "\n".join(problems)
    assert not page.errors, f"script errors, CSP refusals or failed requests on {page.url}: {page.errors}"


def visit(page, path: str):
    """Open a page, check it loaded (no error status), and check its accessibility."""
    response = page.goto(path)
    assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
    check_accessibility(page)
    return page


def shoot(page, name: str) -> None:
    """Save the page as it is at desktop width and at 375 px (then back to desktop)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    for label, size in (("desktop", DESKTOP), ("mobile", MOBILE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(before)


def log_in(page, user, *, password: str = PASSWORD) -> None:
    visit(page, "/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"login failed for {user.email}"
