"""Sign-in: failed attempts are rate-limited per account and per client address, with a
429 page that explains it; unknown names, wrong passwords and deactivated accounts get
the same answer after the same work; the counters can live in Redis, shared by servers."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from tests.conftest import Client, csrf_token
from tests.factories import PASSWORD, make_user, password_hash
from webapp import accounts, create_app, models
from webapp.extensions import db, limiter

MESSAGE = "Too many failed sign-ins in a short time"


def attempt(client, username: str, password: str = "wrong-password", address="192.0.2.1"):
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client)
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=data, environ_base=environ)


def test_ten_failures_for_an_account_pause_its_sign_in_even_with_the_right_password(app):
    make_user("alice")
    client = app.test_client()
    for _ in range(10):
        assert attempt(client, "alice").status_code == 401
    response = attempt(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert MESSAGE in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    # The e-mail address names the same account; others are not affected.
    assert attempt(client, "ALICE@example.com", PASSWORD).status_code == 429
    make_user("bob")
    assert attempt(client, "bob", PASSWORD).status_code == 303


def test_sign_ins_that_succeed_do_not_count(app):
    make_user("alice")
    for _ in range(15):
        assert attempt(app.test_client(), "alice", PASSWORD).status_code == 303


@pytest.fixture
def cheap_dummy(monkeypatch):
    """The dummy password (checked for every unknown name) at the tests' own hash cost:
    the tests that try many unknown names count answers, not the time each takes."""
    monkeypatch.setattr(accounts, "_DUMMY_HASH", password_hash())


def test_an_unknown_name_is_limited_like_an_account(app, cheap_dummy):
    client = app.test_client()
    answers = [attempt(client, "nobody").status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]


def test_fifty_failures_from_one_address_pause_sign_in_from_there(app, cheap_dummy):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "1000 per 15 minutes"
    make_user("alice")
    client = app.test_client()
    for i in range(50):  # a different name each time: password spraying
        assert attempt(client, f"user{i}", address="198.51.100.7").status_code == 401
    assert attempt(client, "alice", PASSWORD, address="198.51.100.7").status_code == 429
    assert attempt(client, "alice", PASSWORD, address="198.51.100.8").status_code == 303


def test_an_ipv6_client_is_limited_by_its_64_bit_prefix(app, cheap_dummy):
    app.config["LOGIN_RATE_LIMIT_ADDRESS"] = "3 per 15 minutes"
    client = app.test_client()
    for host in range(3):
        assert attempt(client, f"n{host}", address=f"2001:db8:1:2::{host + 1}").status_code == 401
    assert attempt(client, "x", address="2001:db8:1:2:ffff::9").status_code == 429
    assert attempt(client, "x", address="2001:db8:1:3::1").status_code == 401


def test_the_limits_are_settings(app):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "2 per hour"
    make_user("alice")
    client = app.test_client()
    codes = [attempt(client, "alice").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def normalized(response) -> str:
    """The page without what differs by design: the CSRF token, the name typed in."""
    html = response.get_data(as_text=True)
    html = re.sub(r'value="[^"]*"', 'value=""', html)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", html)


def test_unknown_wrong_and_deactivated_get_the_same_answer(app):
    make_user("alice")
    make_user("gone", active=False)
    answers = [attempt(app.test_client(), name, password)
               for name, password in (("alice", "wrong-password"), ("nobody", "wrong-password"),
                                      ("gone", PASSWORD))]  # fmt: skip
    assert {r.status_code for r in answers} == {401}
    assert len({normalized(r) for r in answers}) == 1
    assert len({frozenset(k for k, _ in r.headers if k != "X-Request-Id") for r in answers}) == 1


def test_an_unknown_name_costs_one_password_hash_like_a_known_one(app, monkeypatch):
    """The timing path: without an account to check, a dummy password is hashed."""
    make_user("alice")
    make_user("gone", active=False)
    hashed = []

    def counting(real):
        def check(pwhash, password):
            hashed.append(pwhash)
            return real(pwhash, password)

        return check

    monkeypatch.setattr(accounts, "check_password_hash", counting(accounts.check_password_hash))
    monkeypatch.setattr(models, "check_password_hash", counting(models.check_password_hash))
    for name, password in (("alice", "wrong"), ("nobody", "wrong"), ("gone", PASSWORD)):
        hashed.clear()
        attempt(app.test_client(), name, password)
        assert len(hashed) == 1, name
    # The dummy is hashed the way real passwords are (same method, same cost).
    method = accounts.generate_password_hash("x").rsplit("$", 2)[0]
    assert accounts._DUMMY_HASH.startswith(method + "$")


REDIS = os.environ.get("TEST_REDIS_URL")
# Flask-Limiter keeps the first key prefix it is given for the whole process: one per test
# process keeps its counters apart from other runs' (the test clears its own before).
PREFIX = f"tessera-test-{uuid.uuid4().hex}"


@pytest.fixture
def limiter_back_in_memory(database_url):
    """Flask-Limiter is one per process and counts where the last app made told it. After
    a test's apps counted in Redis, every later test's limiter.reset() (the app fixture)
    would clear each counter in that Redis database, another test process's mid-test
    included: an app made here puts this process's limiter back in memory."""
    yield
    create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "TESTING": True})
    if REDIS:
        import redis

        server = redis.Redis.from_url(REDIS)
        probe = f"LIMITS:{PREFIX}/probe"
        server.set(probe, 1, ex=60)
        limiter.reset()
        assert server.get(probe) == b"1", "limiter.reset() still clears Redis"
        server.delete(probe)


@pytest.mark.usefixtures("limiter_back_in_memory")
@pytest.mark.parametrize("storage", ["memory://", "redis"])
def test_with_redis_the_counters_outlive_the_app_server(database_url, storage):
    """RATELIMIT_STORAGE_URI: memory:// counts in each server process (a new one starts
    from zero); with Redis, what one server counted holds on every other."""
    if storage == "redis" and not REDIS:
        pytest.skip("set TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/15")
    config = {"DATABASE_URL": database_url, "SECRET_KEY": "x", "TESTING": True,
              "RATELIMIT_STORAGE_URI": REDIS if storage == "redis" else storage,
              "RATELIMIT_KEY_PREFIX": PREFIX,
              "LOGIN_RATE_LIMIT_ACCOUNT": "3 per 15 minutes"}  # fmt: skip
    if storage == "redis":
        import redis

        server = redis.Redis.from_url(REDIS)
        for key in server.scan_iter(f"*{PREFIX}*"):
            server.delete(key)
    first = create_app(config)
    first.test_client_class = Client
    with first.app_context():
        make_user("alice")
        for _ in range(3):
            assert attempt(first.test_client(), "alice").status_code == 401
        db.engine.dispose()
    other = create_app(config)  # another server (its own storage connection)
    other.test_client_class = Client
    with other.app_context():
        response = attempt(other.test_client(), "alice", PASSWORD)
        counters = {} if storage != "redis" else {  # what Redis held, should this fail
            key: server.get(key) for key in server.scan_iter(f"*{PREFIX}*")}  # fmt: skip
        assert response.status_code == (429 if storage == "redis" else 303), counters
        db.engine.dispose()
    if storage == "redis":
        keys = list(server.scan_iter(f"*{PREFIX}*"))
        assert any(b"login-account" in k for k in keys), keys
