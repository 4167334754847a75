"""PostgreSQL connections are checked before a request uses them only after they sat idle
in the pool (webapp/pooling.py): a connection the server closed meanwhile is replaced
unseen, and a busy worker pays no round trip for the check."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from webapp import create_app
from webapp.extensions import db

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only: SQLite needs no ping"
)


@pytest.fixture
def made(postgres_url):
    """Make apps on the test database with a given idle time; closes their connections."""
    apps = []

    def make(idle_seconds):
        app = create_app({"DATABASE_URL": postgres_url, "SECRET_KEY": "test-secret",
                          "TESTING": True, "DB_PING_AFTER_IDLE_SECONDS": idle_seconds})  # fmt: skip
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def _backend(app) -> int:
    with app.app_context():
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool
    return pid


def _pings(app, monkeypatch) -> list[int]:
    with app.app_context():
        dialect = db.engine.dialect
    pings: list[int] = []
    real = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda c: pings.append(1) or real(c))
    return pings


def test_a_connection_the_server_closed_while_idle_is_replaced_unseen(
    made, postgres_url, monkeypatch
):
    app = made(0)
    pings = _pings(app, monkeypatch)
    first = _backend(app)
    other = sa.create_engine(postgres_url)
    with other.connect() as connection:
        assert connection.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    other.dispose()
    second = _backend(app)  # no error: the dead connection never reached the request
    assert second != first
    assert pings


def test_a_connection_used_a_moment_ago_is_not_pinged(made, monkeypatch):
    app = made(60)
    pings = _pings(app, monkeypatch)
    assert _backend(app) == _backend(app) == _backend(app)
    assert pings == []
