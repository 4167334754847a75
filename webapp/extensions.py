"""Flask extensions, created bare here and bound to the app in ``create_app``."""

from __future__ import annotations

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
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    """Writers take SQLite's write lock up front (BEGIN IMMEDIATE), so two concurrent
    writers queue on the busy timeout instead of one failing at its first write.
    Reads (GET requests) stay deferred and never block each other."""
    if conn.dialect.name != "sqlite":
        return
    writes = not has_request_context() or request.method not in SAFE_METHODS
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
