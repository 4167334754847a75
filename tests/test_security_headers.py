"""Security headers on every response, templates the Content-Security-Policy allows,
cookies marked Secure over HTTPS, and the proxy's headers trusted only when configured."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from tests.conftest import AuthActions
from tests.factories import PASSWORD, make_ticket, make_user
from webapp import create_app, services
from webapp.extensions import db
from webapp.models import Attachment
from webapp.security import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).parent.parent
HTMX = {"HX-Request": "true"}


def directives(policy: str) -> dict[str, str]:
    return dict(d.strip().partition(" ")[::2] for d in policy.split(";"))


def test_the_policy_allows_only_our_own_files_and_no_inline_code():
    policy = directives(CONTENT_SECURITY_POLICY)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == policy["form-action"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "data:" not in CONTENT_SECURITY_POLICY


@pytest.fixture
def signed_in(app, client):
    alice = make_user("alice")
    ticket = make_ticket(alice, "The printer jams")
    AuthActions(client).login("alice")
    return {"ticket": ticket, "alice": alice}


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/", {}, 200),
        ("/tickets/?tab=all", HTMX, 200),
        ("/tickets/{ticket}", {}, 200),
        ("/tickets/{ticket}/monitor.csv", {}, 200),
        ("/tickets.csv", {}, 200),
        ("/static/app.css", {}, 200),
        ("/no/such/page", {}, 404),
        ("/no/such/page", HTMX, 404),
        ("/logout", {}, 405),
        ("/login", {}, 302),
        ("/healthz", {}, 200),
        ("/api/v1/me", {}, 401),
    ],
)
def test_every_kind_of_response_carries_the_headers(client, signed_in, path, headers, status):
    response = client.get(path.format(ticket=signed_in["ticket"].id), headers=headers)
    response.close()
    assert response.status_code == status
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_attachments_keep_their_own_sandboxed_policy(client, signed_in):
    file = FileStorage(io.BytesIO(b"<script>alert(1)</script>"), filename="x.html")
    services.attach(actor=signed_in["alice"], ticket=signed_in["ticket"], files=[file])
    attached = db.session.scalar(sa.select(Attachment.id))
    response = client.get(f"/attachments/{attached}")
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Referrer-Policy"] == "same-origin"


TEMPLATES = sorted(p for p in (ROOT / "templates").rglob("*") if p.is_file())
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event handler attribute"),
    (re.compile(r"\shx-on[:-]", re.I), "an hx-on handler (htmx evaluates it)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_no_template_needs_inline_code_or_style(path):
    source = re.sub(r"{#.*?#}", "", path.read_text(), flags=re.S)
    found = [what for pattern, what in INLINE if pattern.search(source)]
    assert not found, f"{path.name} has {', '.join(found)}: the CSP refuses it"


def test_htmx_is_configured_for_the_policy(client):
    page = client.get("/login").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page)[1]
    for setting in ('"allowEval": false', '"allowScriptTags": false',
                    '"includeIndicatorStyles": false'):  # fmt: skip
        assert setting in config
    css = (ROOT / "static/app.css").read_text()
    assert ".htmx-indicator" in css and ".htmx-request .htmx-indicator" in css


def test_scripts_use_no_eval():
    for script in ("tessera.js", "attachments.js"):
        source = (ROOT / "static" / script).read_text()
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*['\"]", source), script


def login_over(client, scheme: str, headers: dict | None = None):
    """Sign alice in (keeping her signed in) over HTTP or HTTPS."""
    base = f"{scheme}://localhost"
    headers = {"Referer": f"{base}/login", **(headers or {})}  # checked over HTTPS
    page = client.get("/login", base_url=base, headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    data = {"username": "alice", "password": PASSWORD, "remember": "y", "csrf_token": token}
    return client.post("/login", data=data, base_url=base, headers=headers)


def cookie_flags(response) -> dict[str, str]:
    """Each cookie set, by name, with its attributes as one lower-case string."""
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        cookies[name] = header.lower()
    return cookies


def test_cookies_over_https_are_secure_httponly_and_samesite(app, client):
    make_user("alice")
    response = login_over(client, "https")
    assert response.status_code == 303
    cookies = cookie_flags(response)
    assert set(cookies) == {"session", "remember_token"}
    for name, flags in cookies.items():
        assert "; secure" in flags, name
        assert "; httponly" in flags, name
        assert "; samesite=lax" in flags, name


def test_cookies_over_plain_http_are_not_marked_secure_unless_configured(app, client):
    make_user("alice")
    flags = cookie_flags(login_over(client, "http"))
    assert all("; secure" not in f and "; httponly" in f for f in flags.values())
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    flags = cookie_flags(login_over(app.test_client(), "http"))
    assert all("; secure" in f for f in flags.values())


def test_forwarded_headers_count_only_behind_a_configured_proxy(database_url, caplog, logged):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    for proxies, secure, address in ((0, False, "127.0.0.1"), (1, True, "203.0.113.9")):
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "TESTING": True,
                          "PROXY_FIX": proxies})  # fmt: skip
        with app.app_context():
            if proxies == 0:
                make_user("alice")
            caplog.clear()
            flags = cookie_flags(login_over(app.test_client(), "http", forwarded))
            assert all(("; secure" in f) is secure for f in flags.values()), proxies
            addresses = [line["remote_addr"] for line in logged()]
            assert addresses and set(addresses) == {address}
            db.engine.dispose()
