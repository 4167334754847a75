"""Settings: defaults < instance config file < environment (``TESSERA_X`` and ``DATABASE_URL``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

INSTANCE_CONFIG = "tessera.cfg"
SECRET_KEY_FILE = "secret_key"


class Defaults:
    """Every setting Tessera reads, with its default. The README documents each one."""

    # Database URL; empty means a SQLite file in the instance folder.
    DATABASE_URL = ""
    # Seconds a SQLite connection waits for a lock before it gives up.
    SQLITE_BUSY_TIMEOUT = 10
    # Names of the two role groups (simpletickets' ST_STAFF_GNAME / ST_ADMIN_GNAME).
    STAFF_GROUP = "staff"
    ADMIN_GROUP = "admin"
    # The ticket workflow: lino, simpletickets or spire (see webapp/workflow.py).
    WORKFLOW = "lino"
    # Who may download a ticket's change monitor as CSV (simpletickets' monitor switches).
    MONITOR_DOWNLOAD_STAFF = True
    MONITOR_DOWNLOAD_OWNER = True
    # Whether owners must report on a site (one they are subscribed to). Empty: yes as
    # soon as any site exists. Staff may always report with or without a site.
    REQUIRE_SITE = None
    # Hours a solved ticket waits for its author before the worker closes it
    # (simpletickets' ST_DELTA_CLOSE); 0 turns auto-close off.
    AUTOCLOSE_AFTER = 6
    # Outgoing mail. No MAIL_SERVER: notifications stay in the app, nothing is mailed.
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_FROM = "tessera@localhost"
    MAIL_TIMEOUT = 10  # seconds
    # Where the links in e-mails point: the address people open Tessera at.
    BASE_URL = "http://localhost:5000"
    # New accounts' e-mail mode: immediately, daily or none.
    DEFAULT_MAIL_MODE = "immediately"
    # Local hour (in each recipient's timezone) at which daily digests go out.
    DIGEST_HOUR = 7
    # Days a notification is kept after it was read (0: for ever); unread ones are kept.
    NOTIFICATIONS_KEEP_DAYS = 90
    # Seconds the worker sleeps between rounds.
    WORKER_INTERVAL = 5
    # The statistics boxes each kind of user sees (simpletickets' ST_SETT_*): any of
    # counts, times, progress, weekly, ratings. An empty list hides the page.
    STATISTICS_STAFF = ["counts", "times", "progress", "weekly", "ratings"]
    STATISTICS_OWNER = ["counts", "times", "progress", "weekly"]
    # Seconds a worker shows the statistics it counted before counting them again (0:
    # counted for every request). Counting reads every ticket: about a second at a
    # hundred thousand tickets on SQLite, or a million on PostgreSQL.
    STATISTICS_KEEP_SECONDS = 60
    # Whether anyone may create an account at /register.
    REGISTRATION_ENABLED = True
    # Defaults for new accounts.
    DEFAULT_LANGUAGE = "en"
    DEFAULT_TIMEZONE = "UTC"
    # Name shown in the header and the page titles.
    SITE_NAME = "Tessera"
    # Attachments: the largest file, and the most all files of one ticket may have (MB).
    MAX_UPLOAD_MB = 10
    MAX_TICKET_UPLOADS_MB = 100
    # Where attached files are kept; empty: the folder "attachments" in the instance folder.
    ATTACHMENTS_DIR = ""
    # Largest accepted request body, in bytes. Empty: a ticket's worth of files
    # (MAX_TICKET_UPLOADS_MB) and 1 MB for the rest of the form.
    MAX_CONTENT_LENGTH = None
    # Most fields (and files) one form may post: a bulk change of 1,000 tickets, and some.
    MAX_FORM_PARTS = 1100
    # Ticket lists, pages and their pieces kept as drawn, per worker process (pagecache.py);
    # 0 keeps nothing.
    PAGE_CACHE_BYTES = 32 * 1024 * 1024
    # Cookies are always HttpOnly and SameSite=Lax, and marked Secure whenever the request
    # came over HTTPS. True marks them Secure on plain HTTP too: for a TLS proxy that does
    # not say it was HTTPS (better: set PROXY_FIX, so that the app knows).
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Days a sign-in lasts unused ("Keep me signed in" or not); signing out, a password
    # change and deactivation end sign-ins at once, on every device.
    SESSION_LIFETIME_DAYS = 30
    # Failed sign-ins allowed per account (the name or e-mail entered) and per client
    # address (IPv6: per /64), in Flask-Limiter notation; more get a 429 page.
    LOGIN_RATE_LIMIT_ACCOUNT = "10 per 15 minutes"
    LOGIN_RATE_LIMIT_ADDRESS = "50 per 15 minutes"
    # The number of reverse proxies in front of the app (nginx: 1) whose X-Forwarded-For
    # and X-Forwarded-Proto are trusted: the client's address (rate limits, logs) and
    # whether it used HTTPS. 0: the headers are ignored (the app faces the clients).
    PROXY_FIX = 0
    # Where rate-limit counters live: memory:// counts per process; with several workers
    # or app servers use a shared store, e.g. redis://127.0.0.1:6379/0.
    RATELIMIT_STORAGE_URI = "memory://"
    # False turns every rate limit off (always given: Flask-Limiter would otherwise keep
    # what the previous app in the process had).
    RATELIMIT_ENABLED = True
    # Requests one API token may make (Flask-Limiter notation, e.g. "600 per minute").
    API_RATE_LIMIT = "600 per minute"
    # CSRF tokens stay valid for the life of the session, so a long-open form still posts.
    WTF_CSRF_TIME_LIMIT = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    # A database connection idle in the pool this long is checked before a request uses
    # it (webapp/pooling.py); one used more recently is not.
    DB_PING_AFTER_IDLE_SECONDS = 1.0


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in order of precedence, then derive the database URI and secret."""
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile(INSTANCE_CONFIG, silent=True)
        app.config.from_prefixed_env("TESSERA")
        if os.environ.get("DATABASE_URL"):
            app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app)
    if not app.config.get("MAX_CONTENT_LENGTH"):
        uploads = float(app.config["MAX_TICKET_UPLOADS_MB"]) + 1
        app.config["MAX_CONTENT_LENGTH"] = int(uploads * 1024 * 1024)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


def database_uri(app: Flask) -> str:
    """The SQLAlchemy URI: PostgreSQL goes through psycopg 3; the default is instance SQLite."""
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config["DATABASE_URL"]
    if not url:
        return f"sqlite:///{Path(app.instance_path) / 'tessera.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def instance_secret_key(instance: Path) -> str:
    """Read the instance's secret key, creating it (mode 0600) on first start."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / SECRET_KEY_FILE
    if not path.exists():
        # Written aside, then linked into place: workers starting together agree on one key.
        tmp = instance / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
