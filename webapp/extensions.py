"""Flask extensions, created bare here and bound to the app in ``create_app``."""

from __future__ import annotations

import sqlite3
import time

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
_WRITING = "tessera_writing"


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


@event.listens_for(Engine, "connect")
def _postgresql_on_connect(dbapi_connection, connection_record) -> None:
    """No JIT compilation. PostgreSQL compiles a statement whose estimated cost passes
    ``jit_above_cost``, whatever it then takes to run: at a million tickets a search for
    a word in 1 % of them (``mideka``) spent 35 ms compiling, then 33 ms running. Every
    statement Tessera sends runs in milliseconds, where compiling never pays. And cursors
    that describe their columns only when asked (``pg_cursors``)."""
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    from . import pg_cursors  # here: it imports psycopg, which SQLite never needs

    pg_cursors.describe_on_demand(dbapi_connection)
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    cursor.execute("SET jit = off")
    cursor.close()
    dbapi_connection.autocommit = autocommit


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    """A transaction begins as a reader: it never waits, and never makes others wait."""
    if conn.dialect.name == "sqlite" and not _autocommit(conn):
        conn.exec_driver_sql("BEGIN")


def _autocommit(conn) -> bool:
    """A connection asked for in autocommit (``generate-data``'s last step): each statement
    commits as it ends, so none of them begins a transaction, which nothing would commit."""
    return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_before_write(conn, cursor, statement, parameters, context, executemany) -> None:
    """SQLite has one writer at a time and no row locks. A transaction takes the write
    lock at its first write, or at a SELECT ... FOR UPDATE (the row locks it stands for):
    it ends its reading first, since SQLite refuses a write on a snapshot older than the
    last commit, and waits its turn (``_take_write_lock``). What it read before is not
    held against others meanwhile, as on PostgreSQL under READ COMMITTED: a ticket's
    write still lands only on the version that was read (services.unit_of_work).

    So the lock is held from the first write to the commit, not for a whole request: a
    write request's sign-in, form and ticket reads, and the answer drawn after the
    commit, run while another request writes."""
    if conn.dialect.name != "sqlite" or conn.info.get(_WRITING) or _autocommit(conn):
        return
    if _reads(statement, context):
        return
    driver = conn.connection.dbapi_connection
    if driver.in_transaction:
        driver.execute("COMMIT")  # only read so far
    _take_write_lock(driver, conn.connection.info[_BUSY_TIMEOUT])
    conn.info[_WRITING] = True


_READS = ("SELECT", "PRAGMA", "EXPLAIN", "BEGIN", "COMMIT", "ROLLBAC", "WITH")


def _reads(statement: str, context) -> bool:
    """Whether a statement only reads (and locks no rows): by its first word, and for a
    statement SQLAlchemy compiled (a WITH may lead an INSERT), by what it compiled."""
    if not statement.lstrip()[:7].upper().startswith(_READS):
        return False
    if context is None or context.compiled is None:
        return True
    if context.isinsert or context.isupdate or context.isdelete:
        return False
    return getattr(context.compiled.statement, "_for_update_arg", None) is None


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _sqlite_written(conn) -> None:
    conn.info.pop(_WRITING, None)


def _take_write_lock(driver: sqlite3.Connection, timeout: float) -> None:
    """BEGIN IMMEDIATE, tried again every millisecond or two while another writer holds
    the lock, for up to the busy timeout (the last try's error is SQLAlchemy's, as this
    runs within the statement's execution). SQLite's own busy handler sleeps longer and
    longer between tries, up to 100 ms, so a writer queued behind a few others went on
    sleeping long after the lock was free: under load, writes waited for nothing."""
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
        driver.execute("BEGIN IMMEDIATE")  # the last try
    finally:
        driver.execute(f"PRAGMA busy_timeout = {round(timeout * 1000)}")
