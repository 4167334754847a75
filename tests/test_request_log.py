"""Structured request logs: one JSON line per request, an id on every response, and a server
error's traceback logged under the id its error page shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AuthActions
from tests.factories import make_user
from webapp import api_tokens

HTMX = {"HX-Request": "true"}
FIELDS = {"request_id", "user_id", "method", "path", "route", "endpoint", "status",
          "duration_ms", "remote_addr"}  # fmt: skip


def test_one_line_per_request_with_who_what_and_how_long(app, client, logged):
    alice = make_user("alice")
    AuthActions(client).login("alice")
    response = client.get("/tickets/?tab=all")
    line = logged()[-1]
    assert FIELDS <= set(line) and line["level"] == "info"
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert line["user_id"] == alice.id
    assert (line["method"], line["path"], line["route"]) == ("GET", "/tickets/", "/tickets/")
    assert (line["endpoint"], line["status"]) == ("tickets.index", 200)
    assert 0 < line["duration_ms"] < 60_000
    assert line["time"].endswith("+00:00")
    methods = [(entry["method"], entry["endpoint"], entry["status"]) for entry in logged()]
    assert methods == [("GET", "auth.login", 200), ("POST", "auth.login", 303),
                       ("GET", "tickets.index", 200)]  # fmt: skip


def test_anonymous_unknown_and_api_requests_are_logged_too(app, client, logged):
    alice = make_user("alice")
    secret = api_tokens.create(user=alice, name="script")[1]
    client.get("/no/such/page")
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    missing, api = logged()
    assert (missing["user_id"], missing["route"], missing["status"]) == (None, None, 404)
    assert (api["user_id"], api["endpoint"], api["status"]) == (alice.id, "api.me", 200)


def test_every_response_has_its_own_request_id(client):
    ids = {client.get(path).headers["X-Request-Id"] for path in ("/login", "/login", "/nope")}
    assert len(ids) == 3 and all(len(i) == 16 for i in ids)


@pytest.mark.parametrize(("proxies", "sent", "kept"), [
    (0, "nginx-0123456789abcdef", False),
    (1, "nginx-0123456789abcdef", True),
    (1, "bad id; with=spaces", False),
    (1, "x" * 65, False),
])  # fmt: skip
def test_a_proxys_request_id_is_kept_only_when_the_proxy_is_trusted(
    app, client, proxies, sent, kept
):
    app.config["PROXY_FIX"] = proxies
    got = client.get("/login", headers={"X-Request-Id": sent}).headers["X-Request-Id"]
    assert (got == sent) is kept


@pytest.fixture
def failing(fresh_app):
    """A client of an app with a route that fails, answered as production answers it
    (no exception propagated)."""

    def fail():
        raise ZeroDivisionError("the failure under test")

    fresh_app.add_url_rule("/fail", "fail", fail)
    fresh_app.config["PROPAGATE_EXCEPTIONS"] = False
    return fresh_app.test_client()


def test_a_server_error_logs_its_traceback_under_the_id_the_page_shows(failing, logged):
    response = failing.get("/fail")
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    page = response.get_data(as_text=True)
    assert f"please quote the request ID {request_id}." in page
    assert "the failure under test" not in page and "Traceback" not in page
    (error,) = logged("tessera.error")
    assert error["level"] == "error" and error["request_id"] == request_id
    assert error["path"] == "/fail" and error["endpoint"] == "fail"
    assert "ZeroDivisionError: the failure under test" in error["traceback"]
    (line,) = logged()
    assert (line["request_id"], line["status"]) == (request_id, 500)


def test_a_server_error_in_an_htmx_request_tells_the_id_in_the_alert(failing):
    response = failing.get("/fail", headers=HTMX)
    assert response.status_code == 500
    assert f"Request ID: {response.headers['X-Request-Id']}." in response.get_data(as_text=True)


def test_client_errors_do_not_show_a_request_id(client):
    assert "request ID" not in client.get("/no/such/page").get_data(as_text=True)


def test_without_logging_configured_the_lines_go_to_standard_error_as_json(tmp_path):
    """As under gunicorn: nothing configures logging, Tessera writes its own lines."""
    script = (
        "from webapp import create_app\n"
        f"app = create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/x.db', 'SECRET_KEY': 'x'}})\n"
        "app.test_client().get('/login')\n"
    )
    root = Path(__file__).parent.parent
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{")]
    assert line["logger"] == "tessera.request" and line["path"] == "/login"
    assert line["status"] == 200 and FIELDS <= set(line)


def test_logging_adds_no_query(app, client):
    """The user id comes from the user the request loaded anyway; static files load none."""
    from tests.test_views_lists import counting_queries

    with counting_queries() as statements:
        client.get("/static/app.css").close()
    assert statements == []
