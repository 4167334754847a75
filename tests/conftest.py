"""Fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL too; the migrations build the schema, so they are tested with everything else."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from typing import Any

import jinja2
import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from tests import dbstate
from webapp import Tessera, create_app
from webapp.extensions import db, limiter
from webapp.i18n import compile_catalogs
from webapp.requestlog import JsonFormatter

# The translations are compiled here, as by the install: .mo files are never committed.
compile_catalogs()


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per test process, not once per app: the tests that make
    apps of their own (servers, races, settings read at start-up) would otherwise compile
    them anew, some 50 ms each. (Keyed by the template's name and source, so an edited
    template is compiled again.)"""

    def __init__(self) -> None:
        self.codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.codes:
            bucket.bytecode_from_string(self.codes[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.codes[bucket.key] = bucket.bytecode_to_string()


Tessera.jinja_options = {**Tessera.jinja_options, "bytecode_cache": _CompiledTemplates()}

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by their fixtures
def pytest_collection_modifyitems(items) -> None:
    """The slow tests first, then the browser tests: xdist hands the tests out in this
    order, so the quick ones fill in at the end instead of one worker running a long test
    on alone."""
    items.sort(key=lambda item: (not item.get_closest_marker("slow"),
                                 not item.get_closest_marker("e2e")))  # fmt: skip


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _migrated(url: str) -> None:
    """Run the migrations once into an empty database."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    _migrated(f"sqlite:///{path}")
    return str(path)


def new_postgres_database(purpose: str) -> str:
    """A migrated database of this xdist worker's own, made anew for each test session."""
    url = sa.make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"{url.database}_tessera_{purpose}_{_worker()}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    worker_url = url.set(database=name).render_as_string(hide_password=False)
    _migrated(worker_url)
    return worker_url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return new_postgres_database("unit")


def _emptier(url: str) -> tuple[Callable[[], None], sa.Engine]:
    """What empties a test database: DELETE, children first, not TRUNCATE (which gives
    every PostgreSQL table new files, some 80 ms a test; these tables hold a test's few
    rows). The ids start again from 1, and every stamp moves on, so that nothing an app
    kept from an earlier test's data is taken for this test's."""
    engine = sa.create_engine(url, pool_size=1, pool_pre_ping=True)
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in dbstate.KEPT]
    statements = [
        *(f"DELETE FROM {name}" for name in tables),
        "DELETE FROM ticket_search",  # the database's own index, which its triggers fill
        "UPDATE stamps SET value = value + 1",
    ]
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            sequences = c.exec_driver_sql(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            ).scalars()
            statements += [f"ALTER SEQUENCE {name} RESTART" for name in sequences]
        statements = ["; ".join(statements)]  # in one round trip
    # (SQLite gives the next id after the greatest there is: none once a table is empty.)

    def empty() -> None:
        with engine.begin() as c:
            for statement in statements:
                c.exec_driver_sql(statement)

    return empty, engine


@pytest.fixture(scope="session")
def sqlite_database(sqlite_template, tmp_path_factory):
    """The worker's SQLite database and what empties it."""
    path = tmp_path_factory.mktemp("unit") / "tessera.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    empty, engine = _emptier(url)
    yield url, empty
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_database(postgres_url):
    """The worker's PostgreSQL database and what empties it."""
    empty, engine = _emptier(postgres_url)
    yield postgres_url, empty
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request) -> str:
    """The worker's migrated database of this kind, empty for this test."""
    url, empty = request.getfixturevalue(f"{request.param}_database")
    empty()
    return url


class Client(FlaskClient):
    """Each request runs in an app context of its own, as in production: its own ``g``
    and database session, not the test's (which stays pushed for the factories).
    The test's own transaction ends first, as another process's would, so it holds no
    SQLite lock during the request and sees the request's writes afterwards."""

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _new_app(database_url: str, tmp_path) -> Flask:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "ATTACHMENTS_DIR": str(tmp_path / "attachments"),
            # Tests look at the statistics right after the changes they make.
            "STATISTICS_KEEP_SECONDS": 0,
        }
    )
    app.test_client_class = Client
    return app


# The worker's app for each database, with its settings as made.
_APPS: dict[str, tuple[Flask, dict[str, Any]]] = {}


@pytest.fixture
def app(database_url, tmp_path):
    """The worker's app for the test's database, as it was made: its settings restored,
    its rate-limit counters at zero, its files in the test's own folder. Made once per
    worker, not per test: a new app cost each test some 40 ms, and its first requests
    more (routes, templates and SQL compiled anew)."""
    if database_url not in _APPS:
        made = _new_app(database_url, tmp_path)
        _APPS[database_url] = (made, copy.deepcopy(dict(made.config)))
    app, settings = _APPS[database_url]
    app.config.clear()
    app.config.update(copy.deepcopy(settings))
    app.config["ATTACHMENTS_DIR"] = str(tmp_path / "attachments")
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()


@pytest.fixture
def fresh_app(database_url, tmp_path):
    """An app of the test's own, for a test that adds routes to it."""
    app = _new_app(database_url, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class AuthActions:
    def __init__(self, client) -> None:
        self._client = client

    def login(self, username: str, password: str = "secret-pass", **extra):
        data = {"username": username, "password": password, **extra}
        data.setdefault("csrf_token", csrf_token(self._client))
        return self._client.post("/login", data=data)

    def logout(self):
        token = csrf_token(self._client, "/")
        return self._client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def logged(caplog):
    """The request lines logged so far, as the JSON objects written to the log."""
    caplog.set_level(logging.INFO, logger="tessera")
    formatter = JsonFormatter()

    def lines(logger: str = "tessera.request") -> list[dict]:
        # This test's requests only: a browser test's live server may be serving in
        # another thread of the same process.
        mine = threading.get_ident()
        return [json.loads(formatter.format(r)) for r in caplog.records
                if r.name == logger and r.thread == mine]  # fmt: skip

    return lines


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)
