"""SQLite's write lock: a writer waits for it in short steps (extensions._take_write_lock),
gets it once another writer lets go, and gives up with SQLAlchemy's error after the busy
timeout, as a writer always did."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from webapp import create_app
from webapp.extensions import db
from webapp.models import Stamp


@pytest.fixture
def sqlite_app(sqlite_database):
    url, empty = sqlite_database
    empty()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "SQLITE_BUSY_TIMEOUT": 0.3})
    with app.app_context():
        yield app, sa.make_url(url).database
        db.engine.dispose()


def other_writer(path: str) -> sqlite3.Connection:
    """Another process's writer, holding the write lock."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def write() -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.update(Stamp).values(value=Stamp.value + 1))


def test_a_writer_gets_the_lock_once_the_other_lets_go(sqlite_app):
    _, path = sqlite_app
    holder = other_writer(path)
    threading.Timer(0.1, holder.rollback).start()
    write()  # waits, then writes
    holder.close()


def test_a_writer_gives_up_after_the_busy_timeout_with_sqlalchemys_error(sqlite_app):
    _, path = sqlite_app
    holder = other_writer(path)
    try:
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            write()
    finally:
        holder.rollback()
        holder.close()
    with db.engine.connect() as connection:  # the connection's own busy timeout is back
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 300
    write()
