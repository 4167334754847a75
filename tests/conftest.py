"""Fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL too; the migrations build the schema, so they are tested with everything else."""

from __future__ import annotations

import os
import re
import shutil

import jinja2
import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from webapp import Tessera, create_app
from webapp.extensions import db
from webapp.i18n import compile_catalogs

# The translations are compiled here, as by the install: .mo files are never committed.
compile_catalogs()


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per test process, not once per app: every test makes its
    own app, and compiling the templates anew cost each one some 50 ms. (Keyed by the
    template's name and source, so an edited template is compiled again.)"""

    def __init__(self) -> None:
        self.codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.codes:
            bucket.bytecode_from_string(self.codes[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.codes[bucket.key] = bucket.bytecode_to_string()


Tessera.jinja_options = {**Tessera.jinja_options, "bytecode_cache": _CompiledTemplates()}

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


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


@pytest.fixture(scope="session")
def empty_postgres(postgres_url):
    """Empty the worker's PostgreSQL database in one round trip, ids starting again from 1.
    DELETE, children first, not TRUNCATE: TRUNCATE gives every table new files, which
    cost each test some 80 ms; these tables hold a test's few rows."""
    engine = sa.create_engine(postgres_url, pool_size=1, pool_pre_ping=True)
    with engine.connect() as c:
        tables = set(c.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('alembic_version', 'stamps')"
        ).scalars())  # fmt: skip
        sequences = c.exec_driver_sql(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).scalars()
        children_first = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in tables]
        script = "; ".join(
            [f"DELETE FROM {name}" for name in sorted(tables - set(children_first))]
            + [f"DELETE FROM {name}" for name in children_first]
            + [f"ALTER SEQUENCE {name} RESTART" for name in sequences]
        )

    def empty() -> None:
        with engine.begin() as c:
            c.exec_driver_sql(script)

    yield empty
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A fresh, migrated, empty database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "tessera.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    request.getfixturevalue("empty_postgres")()
    return request.getfixturevalue("postgres_url")


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


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        }
    )
    app.test_client_class = Client
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
def auth(client) -> AuthActions:
    return AuthActions(client)
