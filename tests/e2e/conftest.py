"""Browser tests: Debian's Chromium (its headless shell) driven by Playwright against a real
server that runs the app with the demo data, on SQLite and (when configured) on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from playwright.sync_api import Browser
from werkzeug.serving import make_server

from tests.conftest import BACKENDS, new_postgres_database
from webapp import create_app, demo
from webapp.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium-headless-shell")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    """Mark the browser tests; run the sweeps over every page's markup (``markup``) once,
    against the SQLite server: the journeys run on both databases."""
    once = [i for i in items if i.get_closest_marker("markup") and "postgresql" in i.name]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [i for i in items if i not in once]
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


# Reports every Content-Security-Policy violation on the console, where the listener below
# hears it (Playwright's init scripts run outside the page's policy).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  `CSP violation: ${e.violatedDirective} refused ${e.blockedURI || "inline code"}`
  + ` in ${e.documentURI} (${e.sourceFile || "the page"}:${e.lineNumber})`));
"""


@pytest.fixture(autouse=True)
def csp_violations(monkeypatch):
    """Every browser context a test opens reports what the CSP refused and every script
    error; the test fails if anything was (a test that provokes one clears the list)."""
    problems: list[str] = []
    new_context = Browser.new_context

    def watched_context(self, *args, **kwargs):
        context = new_context(self, *args, **kwargs)
        context.add_init_script(REPORT_CSP_VIOLATIONS)

        def on_console(message):
            text = message.text
            if "Content Security Policy" in text or text.startswith("CSP violation"):
                problems.append(text)

        context.on("console", on_console)
        context.on("weberror", lambda error: problems.append(f"script error: {error.error}"))
        return context

    monkeypatch.setattr(Browser, "new_context", watched_context)
    yield problems
    assert not problems, "in the browser:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


def read_whole(app):
    """The app with each response read whole before the server writes it. werkzeug's
    development server closes a response only once it has written all of it: when the
    browser dropped the connection first (leaving a page while its icon loaded), the
    file stayed open, and its ResourceWarning failed whichever test was running then."""

    def wsgi(environ, start_response):
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return wsgi


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request, tmp_path_factory):
    """The demo help desk, served over HTTP for the session; yields its base URL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("e2e") / "tessera.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = new_postgres_database("e2e")
    files = str(tmp_path_factory.mktemp("attachments"))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "e2e-secret", "ATTACHMENTS_DIR": files})
    with app.app_context():
        demo.seed(password="demo")
        db.session.remove()
    server = make_server("127.0.0.1", 0, read_whole(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def sign_in(page, live_server):
    def sign_in(username: str, password: str = "demo"):
        page.goto(f"{live_server}/login")
        page.get_by_label("Username or e-mail").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        return page

    return sign_in
