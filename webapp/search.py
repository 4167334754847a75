"""Full-text search over a ticket's summary, description and comments, ranked: SQLite FTS5
or PostgreSQL full-text search behind one interface. The services keep the index in step
with every write that changes a ticket's text.

The index lives outside the ORM models (an FTS5 virtual table is no ordinary table);
its migrations create it, and ``include_name`` keeps Alembic's model comparison off it.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import Comment, Ticket

TABLE = "ticket_search"
MAX_TERMS = 12
_TERM = re.compile(r"[^\W_]+")


def include_name(name: str | None, type_: str, parent_names) -> bool:
    """Alembic filter: the search index (and FTS5's shadow tables) are not models."""
    return not (type_ == "table" and name and name.startswith(TABLE))


def terms(text: str) -> list[str]:
    """The words of a search, lower-cased, without operators or punctuation."""
    return _TERM.findall(text.lower())[:MAX_TERMS]


def index(session: Session, ticket: Ticket) -> None:
    """(Re)write the ticket's entry: its summary, description and every comment."""
    comments = session.scalars(
        sa.select(Comment.body).where(Comment.ticket_id == ticket.id).order_by(Comment.id)
    )
    body = "\n".join([ticket.description, *comments])
    params = {"id": ticket.id, "summary": ticket.summary, "body": body}
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text(f"DELETE FROM {TABLE} WHERE rowid = :id"), params)
        session.execute(
            sa.text(f"INSERT INTO {TABLE} (rowid, summary, body) VALUES (:id, :summary, :body)"),
            params,
        )
    else:
        session.execute(
            sa.text(
                f"INSERT INTO {TABLE} (ticket_id, document) VALUES (:id, "
                "setweight(to_tsvector('simple', :summary), 'A') || "
                "setweight(to_tsvector('simple', :body), 'B')) "
                "ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document"
            ),
            params,
        )


def add_comment(session: Session, ticket: Ticket, body: str) -> None:
    """A new comment joins the ticket's entry (its text is the same as ``index`` would
    write: the comments follow the description in the order they came), in one
    statement; a ticket without an entry yet is indexed whole."""
    params = {"id": ticket.id, "body": body}
    if session.get_bind().dialect.name == "sqlite":
        sql = f"UPDATE {TABLE} SET body = body || char(10) || :body WHERE rowid = :id"
    else:
        sql = (
            f"UPDATE {TABLE} SET document = document || "
            "setweight(to_tsvector('simple', :body), 'B') WHERE ticket_id = :id"
        )
    if session.execute(sa.text(sql), params).rowcount != 1:
        index(session, ticket)


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


def rebuild(connection: sa.Connection) -> None:
    """Index every ticket anew, in two statements (for bulk-loaded data)."""
    if connection.dialect.name == "sqlite":
        comments = "SELECT group_concat(body, char(10)) FROM comments WHERE ticket_id = tickets.id"
        connection.exec_driver_sql(f"DELETE FROM {TABLE}")
        connection.exec_driver_sql(
            f"INSERT INTO {TABLE} (rowid, summary, body) SELECT id, summary, "
            f"description || char(10) || coalesce(({comments}), '') FROM tickets"
        )
    else:
        comments = "SELECT string_agg(body, chr(10)) FROM comments WHERE ticket_id = tickets.id"
        connection.exec_driver_sql(f"TRUNCATE {TABLE}")
        connection.exec_driver_sql(
            f"INSERT INTO {TABLE} (ticket_id, document) SELECT id, "
            "setweight(to_tsvector('simple', summary), 'A') || setweight(to_tsvector('simple', "
            f"description || chr(10) || coalesce(({comments}), '')), 'B') FROM tickets"
        )
