"""What the database holds, as something to compare: every table, every row (the search
index's tables included), so a test can say that a request changed nothing at all; and
as something to put back, so a test can start from a scene built once."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from webapp.extensions import db

# Bookkeeping that reading may update, at most once a minute or an hour: when an API
# token was last used, when a sign-in was last seen. Nothing a page shows.
BOOKKEEPING = {("api_tokens", "last_used"), ("user_sessions", "last_seen")}


_queries: dict[str, list[tuple[str, str]]] = {}


def _select_all(connection) -> list[tuple[str, str]]:
    """Per table, the query for all its rows (the schema is read once per database)."""
    url = str(connection.engine.url)
    if url not in _queries:
        inspector = sa.inspect(connection)
        quote = connection.dialect.identifier_preparer.quote
        queries = []
        for table in sorted(inspector.get_table_names()):
            if table == "alembic_version":
                continue
            columns = [c["name"] for c in inspector.get_columns(table)]
            kept = ", ".join(quote(c) for c in columns if (table, c) not in BOOKKEEPING)
            queries.append((table, f"SELECT {kept} FROM {quote(table)}"))
        _queries[url] = queries
    return _queries[url]


def snapshot() -> dict[str, tuple[int, str]]:
    """For each table: its row count and a digest of all its rows."""
    db.session.commit()  # see what other connections committed
    state = {}
    with db.engine.connect() as connection:
        for table, query in _select_all(connection):
            rows = connection.exec_driver_sql(query).all()
            digest = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
            state[table] = (len(rows), digest)
    return state


def changed(before: dict, after: dict) -> list[str]:
    """The tables whose rows differ, with their row counts before and after."""
    return [
        f"{table}: {before.get(table, (0,))[0]} rows before, {after.get(table, (0,))[0]} after"
        for table in sorted(set(before) | set(after))
        if before.get(table) != after.get(table)
    ]


Rows = dict[str, list[dict]]
# Filled by the migrations, and never emptied between tests.
KEPT = {"stamps"}


def rows() -> Rows:
    """Every row of every table of the models, to be put back by ``put_back``."""
    db.session.commit()
    with db.engine.connect() as connection:
        return {
            table.name: [dict(row) for row in connection.execute(sa.select(table)).mappings()]
            for table in db.metadata.sorted_tables
            if table.name not in KEPT
        }


def put_back(saved: Rows) -> None:
    """Write the rows into an empty database, parents first, so that new rows get the ids
    that would have come next. The database's triggers fill the search index again."""
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            if saved.get(table.name):
                connection.execute(sa.insert(table), saved[table.name])
        if connection.dialect.name == "postgresql":
            for table in db.metadata.sorted_tables:
                if saved.get(table.name) and "id" in table.c:
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
