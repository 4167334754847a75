"""What the database holds, as something to compare: every table, every row (the search
index's tables included), so a test can say that a request changed nothing at all."""

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
