"""The session cookie is checked once per worker (webapp/session_cookies.py): the same
cookie again is not checked anew, yet one changed by a byte, one past its lifetime and
one signed with another secret key sign nobody in, and what a request does to its
session does not change what the next request with the cookie finds."""

from __future__ import annotations

from itsdangerous import URLSafeTimedSerializer

from tests.factories import make_user
from tests.test_sessions import is_signed_in, signed_in
from webapp import session_cookies


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def with_cookie(app, value: str):
    browser = app.test_client()
    browser.set_cookie("session", value)
    return browser


def test_the_same_cookie_is_checked_once(app, monkeypatch):
    make_user("alice")
    client = signed_in(app)
    # The first page puts a CSRF token in the session: a new cookie, checked by the next.
    assert is_signed_in(client) and is_signed_in(client)
    checked = []
    loads = URLSafeTimedSerializer.loads

    def counted(self, *args, **kwargs):
        checked.append(1)
        return loads(self, *args, **kwargs)

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", counted)
    for _ in range(3):
        assert is_signed_in(client)
    assert checked == []


def test_a_cookie_changed_by_a_byte_signs_nobody_in(app):
    make_user("alice")
    value = cookie_of(signed_in(app))
    assert is_signed_in(with_cookie(app, value))  # kept now
    flipped = value[:-3] + ("A" if value[-3] != "A" else "B") + value[-2:]
    assert not is_signed_in(with_cookie(app, flipped))


def test_a_kept_cookie_past_its_lifetime_signs_nobody_in(app, monkeypatch):
    make_user("alice")
    client = signed_in(app)
    assert is_signed_in(client)  # kept now
    later = session_cookies.time.time() + app.permanent_session_lifetime.total_seconds() + 5
    monkeypatch.setattr(session_cookies.time, "time", lambda: later)
    assert not is_signed_in(with_cookie(app, cookie_of(client)))


def test_a_new_secret_key_checks_the_cookie_anew(app):
    make_user("alice")
    client = signed_in(app)
    assert is_signed_in(client)  # kept now
    app.config["SECRET_KEY"] = app.secret_key + "-changed"
    assert not is_signed_in(with_cookie(app, cookie_of(client)))


def test_what_a_request_does_to_its_session_stays_with_that_request(app):
    make_user("alice")
    value = cookie_of(signed_in(app))
    first, second = with_cookie(app, value), with_cookie(app, value)
    with first.session_transaction() as session:  # opened from the kept cookie
        session["note"] = ["kept?"]
        session["_user_id"] = "0:nobody"
    assert not is_signed_in(first)
    assert is_signed_in(second)
