"""Full-text search over a ticket's summary, description and comments, ranked: SQLite FTS5
or PostgreSQL full-text search behind one interface.

A ticket's entry is its summary, and its description followed by its comments. The
database keeps it in step with every write of that text, whoever makes it: triggers on
tickets and comments (migration 0015) add a new comment to the entry and write it anew
when a summary, a description or a comment changes. The index lives outside the ORM
models (an FTS5 virtual table is no ordinary table); its migrations create it, and
``include_name`` keeps Alembic's model comparison off it.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

TABLE = "ticket_search"
MAX_TERMS = 12
_TERM = re.compile(r"[^\W_]+")


def include_name(name: str | None, type_: str, parent_names) -> bool:
    """Alembic filter: the search index (and FTS5's shadow tables) are not models."""
    return not (type_ == "table" and name and name.startswith(TABLE))


def terms(text: str) -> list[str]:
    """The words of a search, lower-cased, without operators or punctuation."""
    return _TERM.findall(text.lower())[:MAX_TERMS]


def matches(dialect: str, text: str, *, any_term: bool = False) -> sa.CTE | None:
    """Tickets matching ``text`` as (ticket_id, rank), higher rank first; every word must
    match (as a prefix), or any word with ``any_term``. None when there is nothing to find."""
    words = terms(text)
    if not words:
        return None
    if dialect == "sqlite":
        # bm25() would shift as other tickets arrive, and a page cursor needs a rank that
        # stays put: a match in the summary ranks above one in the text, newest first.
        query = (" OR " if any_term else " AND ").join(f'"{w}"*' for w in words)
        sql = (
            f"SELECT rowid AS ticket_id, CASE WHEN rowid IN (SELECT rowid FROM {TABLE} "
            f"WHERE {TABLE} MATCH 'summary : (' || :q || ')') THEN 2.0 ELSE 1.0 END AS rank "
            f"FROM {TABLE} WHERE {TABLE} MATCH :q"
        )
    else:
        # The same ranking as SQLite's: a match in the summary (weight A) first.
        joiner = " | " if any_term else " & "
        query = joiner.join(f"{w}:*" for w in words)
        summary = joiner.join(f"{w}:*A" for w in words)
        sql = (
            "SELECT ticket_id, CASE WHEN document @@ to_tsquery('simple', :summary) "
            "THEN 2.0 ELSE 1.0 END AS rank "
            f"FROM {TABLE} WHERE document @@ to_tsquery('simple', :q)"
        )
        return _cte(sa.text(sql).bindparams(q=query, summary=summary))
    return _cte(sa.text(sql).bindparams(q=query))


def _cte(statement: sa.TextClause) -> sa.CTE:
    # Materialised: a list page refers to it more than once, and it must run only once.
    found = statement.columns(ticket_id=sa.Integer, rank=sa.Float).cte("found")
    return found.prefix_with("MATERIALIZED")


def compact(connection: sa.Connection) -> None:
    """After a bulk load, make the index as compact as if it had been built at once: the
    triggers wrote each ticket's entry once per comment, and PostgreSQL's index had grown
    to 2.5 times its size, its searches 10–20 % slower. ``connection`` in autocommit."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('optimize')")
    else:
        connection.exec_driver_sql(f"VACUUM FULL {TABLE}")
