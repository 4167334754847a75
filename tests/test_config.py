from __future__ import annotations

import os
import stat

import pytest

from webapp import create_app
from webapp.config import instance_secret_key


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = instance_secret_key(tmp_path)
    assert len(first) == 64
    assert instance_secret_key(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_environment_overrides_with_tessera_prefix(monkeypatch):
    monkeypatch.setenv("TESSERA_STAFF_GROUP", "helpers")
    monkeypatch.setenv("TESSERA_REGISTRATION_ENABLED", "false")
    monkeypatch.setenv("TESSERA_SECRET_KEY", "from-env")
    app = create_app()
    assert app.config["STAFF_GROUP"] == "helpers"
    assert app.config["REGISTRATION_ENABLED"] is False
    assert app.config["SECRET_KEY"] == "from-env"


def test_database_url_selects_postgresql_through_psycopg3(monkeypatch):
    monkeypatch.setenv("TESSERA_SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example/tessera")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/tessera"


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TESSERA_DATABASE_URL", raising=False)
    monkeypatch.setenv("TESSERA_SECRET_KEY", "x")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{app.instance_path}/tessera.sqlite3"
    )


def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "x"})
    from webapp.extensions import db

    with app.app_context(), db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_postgresql_runs_without_jit_compilation(postgres_url):
    """A statement whose plan looked costly was compiled first: 35 ms for a search that
    then ran in 33 (a million tickets)."""
    app = create_app({"DATABASE_URL": postgres_url, "SECRET_KEY": "x"})
    from webapp.extensions import db

    with app.app_context():
        with db.engine.connect() as c:
            assert c.exec_driver_sql("SHOW jit").scalar() == "off"
        db.engine.dispose()
