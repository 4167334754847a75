"""PostgreSQL cursors describe a result's columns only when asked to (webapp/pg_cursors.py):
what SQLAlchemy learns from a description it keeps with the compiled statement, so a
statement run again makes no column objects, and the columns are psycopg's own."""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa
from psycopg._column import Column

from webapp import create_app
from webapp.extensions import db
from webapp.models import User
from webapp.pg_cursors import Cursor

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL's driver only"
)


@pytest.fixture
def app(postgres_url):
    app = create_app({"DATABASE_URL": postgres_url, "SECRET_KEY": "test", "TESTING": True})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def made_columns(monkeypatch) -> list[int]:
    """How many column objects psycopg has made (one count per column)."""
    made = []
    init = Column.__init__

    def counted(self, cursor, index):
        made.append(index)
        init(self, cursor, index)

    monkeypatch.setattr(Column, "__init__", counted)
    return made


def test_a_statement_run_again_makes_no_columns(app, made_columns):
    query = sa.select(User.id, User.username, User.created).where(User.id == sa.bindparam("u"))
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # connected (and the dialect's own queries)
        made_columns.clear()
        assert db.session.execute(query, {"u": -1}).all() == []  # compiled and described
        assert made_columns == [0, 1, 2]
        made_columns.clear()
        for user_id in range(-4, -1):
            assert db.session.execute(query, {"u": user_id}).all() == []
        assert made_columns == []
        # and the rows of a new statement come by name, as its description said
        row = db.session.execute(sa.text("SELECT 7 AS seven, 'x' AS letter")).one()
        assert (row.seven, row.letter) == (7, "x")


def test_the_columns_are_psycopgs(app):
    with app.app_context():
        raw = db.session.connection().connection.dbapi_connection
        assert raw.cursor_factory is Cursor
        sql = "SELECT 1 AS one, 'two'::varchar(9) AS two, now() AS three"
        ours, theirs = raw.cursor(), psycopg.Cursor(raw)
        ours.execute(sql)
        theirs.execute(sql)
        assert len(ours.description) == 3
        assert [tuple(c) for c in ours.description] == [tuple(c) for c in theirs.description]
        assert [c.name for c in ours.description] == ["one", "two", "three"]
        ours.execute("SET jit = off")  # no rows: no description, as psycopg says
        assert ours.description is None and theirs.description is not None


def test_a_description_read_after_its_cursor_moved_on_says_so(app):
    with app.app_context():
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        cursor.execute("SELECT 1 AS one")
        described = cursor.description
        cursor.execute("SELECT 2 AS two, 3 AS three")
        with pytest.raises(RuntimeError, match="moved on"):
            list(described)
        assert [c.name for c in cursor.description] == ["two", "three"]
