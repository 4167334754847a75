"""SQLite's write lock: a transaction reads without it and takes it at its first write (or
SELECT ... FOR UPDATE); a writer waits for it in short steps (extensions._take_write_lock),
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


def stamp(connection) -> int:
    return connection.execute(sa.select(Stamp.value).where(Stamp.name == "setup")).scalar_one()


def test_a_transaction_reads_while_another_writes_and_waits_only_to_write(sqlite_app):
    _, path = sqlite_app
    holder = other_writer(path)
    try:
        with db.engine.begin() as connection:
            stamp(connection)  # no wait: the lock is taken at the first write
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                connection.execute(sa.update(Stamp).values(value=Stamp.value + 1))
    finally:
        holder.rollback()
        holder.close()


def test_a_write_after_reading_lands_though_another_wrote_meanwhile(sqlite_app):
    """SQLite refuses a write on a snapshot older than the last commit ("database is
    locked" at once, whatever the timeout): a transaction ends its reading first."""
    with db.engine.begin() as connection:
        before = stamp(connection)
        write()  # another connection's commit, between the read and the write
        connection.execute(sa.update(Stamp).values(value=Stamp.value + 1))
        assert stamp(connection) == before + 2  # its write counts from the latest value


def test_select_for_update_takes_the_write_lock(sqlite_app):
    """What stands for row locks on SQLite (services._lock_tickets, the outbox claims)."""
    _, path = sqlite_app
    holder = other_writer(path)
    try:
        with db.engine.begin() as connection:
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                connection.execute(sa.select(Stamp.value).with_for_update())
    finally:
        holder.rollback()
        holder.close()


def test_a_connection_in_autocommit_commits_each_statement(sqlite_app):
    """As generate-data's last step asks for one (the search index compacted): its
    statements begin no transaction that nothing would commit."""
    with db.engine.connect() as connection:
        before = stamp(connection)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.update(Stamp).values(value=Stamp.value + 1))
        assert not connection.connection.dbapi_connection.in_transaction
    with db.engine.connect() as connection:
        assert stamp(connection) == before + 1
