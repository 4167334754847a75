"""Flask extensions, created bare here and bound to the app in ``create_app``."""

from __future__ import annotations

import sqlite3
import time

from flask import has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# One naming convention gives the same constraint names on SQLite and PostgreSQL,
# so migrations generated on one apply cleanly on the other.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
# Limits are declared where they apply (the API, sign-in); the storage comes from
# RATELIMIT_STORAGE_URI: memory (per process) by default, Redis when several processes serve.
limiter = Limiter(key_func=get_remote_address)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BUSY_TIMEOUT = "tessera_busy_timeout"


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """WAL and foreign keys (the busy timeout is the driver's ``timeout``, set in
    ``create_app``); transactions are begun by us, below, not by the driver."""
    if not type(dbapi_connection).__module__.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # The driver's ``timeout``, in seconds, for the writers' own wait (below).
    timeout_ms = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
    connection_record.info[_BUSY_TIMEOUT] = timeout_ms / 1000
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    """Writers take SQLite's write lock up front (BEGIN IMMEDIATE), so two concurrent
    writers queue for it instead of one failing at its first write.
    Reads (GET requests) stay deferred and never block each other."""
    if conn.dialect.name != "sqlite":
        return
    writes = not has_request_context() or request.method not in SAFE_METHODS
    if writes:
        _take_write_lock(conn)
    else:
        conn.exec_driver_sql("BEGIN")


def _take_write_lock(conn) -> None:
    """BEGIN IMMEDIATE, tried again every millisecond or two while another writer holds
    the lock, for up to the busy timeout. SQLite's own busy handler sleeps longer and
    longer between tries, up to 100 ms, so a writer queued behind a few others went on
    sleeping long after the lock was free: under load, writes waited for nothing."""
    driver = conn.connection.dbapi_connection
    timeout = conn.connection.info[_BUSY_TIMEOUT]
    deadline = time.monotonic() + timeout
    pause = 0.0002
    driver.execute("PRAGMA busy_timeout = 0")
    try:
        while time.monotonic() < deadline:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e):
                    break
            time.sleep(pause)
            pause = min(pause * 2, 0.002)
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the last try: its error is SQLAlchemy's
    finally:
        driver.execute(f"PRAGMA busy_timeout = {round(timeout * 1000)}")
