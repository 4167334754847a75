"""Cross-site request forgery: every route that changes something refuses a request without
a valid CSRF token, whoever is signed in, and changes nothing. (The API takes no cookies,
only tokens, so it has nothing to forge: tests/test_api.py.) The browser version, a real
page on another origin posting to Tessera, is in tests/e2e/test_cross_origin.py."""

from __future__ import annotations

import time

import flask_wtf.csrf
import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token
from tests.factories import make_user
from tests.permissions_table import TABLE
from tests.test_permissions import scene, url_for_row, visitor_client
from tests.test_sessions import signed_in
from webapp.extensions import db

WRITES = sorted({(m, e) for m, e, _cells, _data in TABLE
                 if m != "GET" and not e.startswith("api.")})  # fmt: skip
FORMS = {(m, e): data for m, e, _cells, data in TABLE}


def everything() -> dict[str, tuple]:
    """Every row of every table, to see that nothing at all changed."""
    rows = {}
    for table in db.metadata.sorted_tables:
        rows[table.name] = tuple(sorted(map(repr, db.session.execute(sa.select(table)))))
    db.session.rollback()
    return rows


@pytest.mark.parametrize("token", ["missing", "forged"])
def test_no_write_without_a_valid_token(app, token):
    ids = scene(app)
    client = visitor_client(app, "admin", ids)  # the one who may do the most
    csrf_token(client, "/")  # the session has a token; the requests below don't send it
    before = everything()
    accepted = []
    for method, endpoint in WRITES:
        if endpoint in ("auth.login", "auth.register"):
            continue  # signed-out forms: below
        form = {k: v.format(**ids) for k, v in (FORMS[(method, endpoint)] or {}).items()
                if not v.startswith("@")}  # fmt: skip
        if token == "forged":
            form["csrf_token"] = "IjY4YjQ1ZDZmIg.aaaaaa.forged-signature"
        url = url_for_row(app, endpoint, ids)
        for headers in ({}, {"HX-Request": "true"}):
            response = client.open(url, method=method, data=form, headers=headers)
            if response.status_code != 400:
                accepted.append(f"{method} {url} {headers}: {response.status_code}")
    assert accepted == []
    assert everything() == before


def test_signing_in_and_registering_need_the_token_too(app):
    scene(app)
    client = app.test_client()
    for url, form in (("/login", {"username": "alice", "password": "secret-pass"}),
                      ("/register", {"username": "mallory", "email": "m@example.com",
                                     "password": "long-password-1",
                                     "confirm": "long-password-1"})):  # fmt: skip
        response = client.post(url, data=form)
        assert response.status_code == 400
        assert "security token" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_a_sessions_pages_carry_its_one_token_and_no_other_sessions(app):
    """The worker signs a session's token once (webapp/csrf_tokens.py); a page kept as
    drawn for one sign-in is served to another with the other's token."""
    make_user("alice", role="staff")
    first, second = signed_in(app, "alice"), signed_in(app, "alice")
    mine = csrf_token(first, "/tickets/")
    assert csrf_token(first, "/tickets/") == csrf_token(first, "/account") == mine
    theirs = csrf_token(second, "/tickets/")  # the same list, kept
    assert theirs != mine and mine not in second.get("/tickets/").get_data(as_text=True)
    assert _new_token(second, mine).status_code == 400
    assert _new_token(second, theirs).status_code == 201


def test_with_a_time_limit_a_token_lasts_from_the_page_that_brought_it(app, monkeypatch):
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    make_user("alice")
    client = signed_in(app, "alice")
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start)
    csrf_token(client, "/account")
    monkeypatch.setattr(time, "time", lambda: start + 50 * 60)
    token = csrf_token(client, "/account")
    monkeypatch.setattr(time, "time", lambda: start + 61 * 60)
    assert _new_token(client, token).status_code == 201


@pytest.fixture
def signature_checks(monkeypatch) -> list[str]:
    """The tokens whose signature Flask-WTF checked."""
    checked = []
    validate = flask_wtf.csrf.validate_csrf

    def counted(data, *args, **kwargs):
        checked.append(data)
        return validate(data, *args, **kwargs)

    monkeypatch.setattr(flask_wtf.csrf, "validate_csrf", counted)
    return checked


def test_a_token_found_valid_is_not_checked_again_for_its_session(app, signature_checks):
    """The worker keeps what a valid token said (webapp/csrf_tokens.py)."""
    make_user("alice")
    client = signed_in(app, "alice")
    token = csrf_token(client, "/account")
    signature_checks.clear()
    assert [_new_token(client, token).status_code for _ in range(3)] == [201, 201, 201]
    assert signature_checks == [token]


def test_a_token_kept_for_one_session_is_refused_to_another(app, signature_checks):
    make_user("alice")
    first, second = signed_in(app, "alice"), signed_in(app, "alice")
    mine = csrf_token(first, "/account")
    assert _new_token(first, mine).status_code == 201  # kept as valid, for the first
    assert _new_token(second, mine).status_code == 400
    assert _new_token(second, "").status_code == 400
    assert _new_token(second, csrf_token(second, "/account")).status_code == 201


def test_a_kept_token_is_refused_under_a_new_csrf_key(app):
    app.config["WTF_CSRF_SECRET_KEY"] = "the first key"
    make_user("alice")
    client = signed_in(app, "alice")
    token = csrf_token(client, "/account")
    assert _new_token(client, token).status_code == 201
    app.config["WTF_CSRF_SECRET_KEY"] = "a new key"
    assert _new_token(client, token).status_code == 400
    assert _new_token(client, csrf_token(client, "/account")).status_code == 201


def test_with_a_time_limit_every_request_has_its_token_checked(app, signature_checks):
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    make_user("alice")
    client = signed_in(app, "alice")
    token = csrf_token(client, "/account")
    signature_checks.clear()
    assert [_new_token(client, token).status_code for _ in range(2)] == [201, 201]
    assert signature_checks == [token, token]


def _new_token(client, token: str):
    return client.post("/account/tokens", data={"name": "ci", "csrf_token": token})
