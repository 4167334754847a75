"""Full-text search over a ticket's summary, description and comments, ranked: SQLite FTS5
or PostgreSQL full-text search behind one interface.

A ticket's entry is its summary, and its description followed by its comments. The
database keeps it in step with every write of that text, whoever makes it: triggers on
tickets and comments (migration 0015) add a new comment to the entry and write it anew
when a summary, a description or a comment changes. The index lives outside the ORM
models (an FTS5 virtual table is no ordinary table); its migrations create it, and
``include_name`` keeps Alembic's model comparison off it (and off the trigram indexes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from .models import Ticket

TABLE = "ticket_search"
MAX_TERMS = 12
_TERM = re.compile(r"[^\W_]+")


# An end user's name or e-mail address found by any part of it (the lists' end_user
# filter) through trigram indexes: on PostgreSQL pg_trgm's, on lower(column) (migration
# 0024, where the database lets it add the extension); on SQLite an FTS5 table with the
# trigram tokenizer, whose content is the tickets table (0025). Neither is a model.
TRIGRAM_INDEXES = frozenset({"ix_tickets_end_user_name_trgm", "ix_tickets_end_user_email_trgm"})
END_USERS = "ticket_end_users"


def include_name(name: str | None, type_: str, parent_names) -> bool:
    """Alembic filter: the search indexes (and FTS5's shadow tables) are not models."""
    if type_ == "index":
        return name not in TRIGRAM_INDEXES
    return not (type_ == "table" and name and name.startswith((TABLE, END_USERS)))


def contains(column, part: str, dialect: str):
    """Whether a ticket's end-user ``column`` (name or address) holds ``part``, in any
    case, found through its trigram index. A part shorter than a trigram is asked in a
    form no index serves: an index could only list every ticket for it, slower than
    reading them (1.1 s against 0.66 s at a million tickets on PostgreSQL)."""
    if len(part) < 3:
        return column.ilike(f"%{part}%")
    pattern = f"%{part.lower()}%"
    if dialect == "sqlite":
        held = sa.literal_column(f"{END_USERS}.{column.key}").like(pattern)
        rows = sa.select(sa.column("rowid")).select_from(sa.table(END_USERS)).where(held)
        return Ticket.id.in_(rows)
    return sa.func.lower(column).like(pattern)


def terms(text: str) -> list[str]:
    """The words of a search, lower-cased, without operators or punctuation."""
    return _TERM.findall(text.lower())[:MAX_TERMS]


# A match in the summary ranks above one in the text alone, newest first within a rank.
# (bm25() would shift as other tickets arrive, and a page cursor needs a rank that stays put.)
IN_SUMMARY, IN_TEXT = 2.0, 1.0
RANKS = (IN_SUMMARY, IN_TEXT)
# PostgreSQL: how many matches of a rank a page takes from the index, at most, before it
# walks the tickets newest first instead (see Search.best).
CANDIDATES = 5000
# PostgreSQL: how many of the newest ticket numbers a page looks through for its matches
# before it counts any candidates (see Search.best).
LOOK_FIRST = 2_000


@dataclass(frozen=True)
class Search:
    """A search as conditions on a ticket's id, for one database. PostgreSQL keeps the
    summary's words in a column and an index of their own (migration 0019)."""

    dialect: str
    query: str  # every word, or any word, as a prefix

    def matching(self):
        """The ticket matches, in its summary or its text."""
        return Ticket.id.in_(self._entries())

    def of_rank(self, rank: float):
        """The ticket's best match has this rank (IN_SUMMARY or IN_TEXT)."""
        return Ticket.id.in_(self._entries(in_summary=rank == IN_SUMMARY))

    def rank(self):
        """A matching ticket's rank, as a column."""
        return sa.case((self.of_rank(IN_SUMMARY), IN_SUMMARY), else_=IN_TEXT)

    def best(self, condition, limit: int, after: list | None = None) -> sa.Subquery:
        """The ``limit`` best matches among the tickets that meet ``condition``, as
        (ticket_id, rank), in no order: the newest of each rank. ``after`` is a page's
        cursor, (rank, id): only the matches that come after it.

        Each rank is asked for on its own, newest first, so that nothing has to rank
        every match of a common word. SQLite's planner finds the matches in the index
        first. PostgreSQL's can only guess how common a word is, and a wrong guess either
        way costs the whole table. So a page first looks through the LOOK_FIRST newest
        ticket numbers (below the cursor's): a common word fills it there. Otherwise
        each rank's matches are taken from the index up to CANDIDATES; when there are
        more, walking the tickets newest first fills the page soon."""
        parts = []
        newest = sa.select(sa.func.max(Ticket.id) + 1).scalar_subquery()
        for rank in RANKS:
            if after is not None and after[0] < rank:
                continue  # the cursor is past every match of this rank
            meets, below = condition, newest
            if after is not None and after[0] == rank:
                meets, below = sa.and_(condition, Ticket.id < after[1]), after[1]
            parts += self._newest(rank, meets, limit, below)
        return sa.union_all(*(sa.select(part.subquery()) for part in parts)).subquery()

    def _newest(self, rank: float, condition, limit: int, below) -> list[sa.Select]:
        rank_column = sa.literal(rank, sa.Float).label("rank")
        in_summary = rank == IN_SUMMARY

        def newest_first(matching, *where) -> sa.Select:
            return (
                sa.select(Ticket.id.label("ticket_id"), rank_column)
                .where(*where, condition, matching)
                .order_by(Ticket.id.desc())
                .limit(limit)
            )

        if self.dialect == "sqlite":
            return [newest_first(self.of_rank(rank))]
        # Counting a common word's candidates costs more than its page (49 of 52 ms at a
        # million tickets): the LOOK_FIRST ticket numbers below ``below`` are looked
        # through first, both sides of the walk bounded, and the candidates are counted
        # only when those tickets do not fill the page.
        oldest = below - constant(LOOK_FIRST)
        recent_entries = self._entries(in_summary=in_summary).where(
            sa.column("ticket_id") >= oldest
        )
        first = (
            newest_first(Ticket.id.in_(recent_entries), Ticket.id >= oldest)
            .cte(f"first_{rank:.0f}")
            .prefix_with("MATERIALIZED")
        )
        filled = sa.select(sa.func.count()).select_from(first).scalar_subquery() >= limit
        # "newest" is the id again, but not known to be, so the planner sorts these few
        # candidates rather than walk every ticket down to the oldest of them.
        candidates = (
            self._entries(in_summary=in_summary)
            .add_columns(sa.column("ticket_id").label("newest"))
            .limit(constant(CANDIDATES + 1))
            .cte(f"found_{rank:.0f}")
            .prefix_with("MATERIALIZED")
        )
        found = sa.select(sa.func.count()).select_from(candidates).scalar_subquery()
        taken = (
            sa.select(Ticket.id.label("ticket_id"), rank_column)
            .join(candidates, candidates.c.ticket_id == Ticket.id)
            .where(sa.not_(filled), found <= constant(CANDIDATES), condition)
            .order_by(candidates.c.newest.desc())
            .limit(limit)
        )
        walked = newest_first(self.of_rank(rank), sa.not_(filled), found > constant(CANDIDATES))
        return [sa.select(first).where(filled), taken, walked]

    def _entries(self, *, in_summary: bool | None = None) -> sa.Select:
        """The ids of the entries that match: anywhere, in the summary, or in the text
        but not the summary."""
        if self.dialect == "sqlite":
            summary = f"summary : ({self.query})"
            query = {None: self.query, True: summary, False: f"({self.query}) NOT {summary}"}
            entries = sa.select(sa.column("rowid")).select_from(sa.table(TABLE))
            return entries.where(sa.literal_column(TABLE).op("MATCH")(query[in_summary]))
        query = sa.func.to_tsquery(sa.literal_column("'simple'"), constant(self.query, sa.Text))
        document, summary = sa.column("document").op("@@"), sa.column("summary").op("@@")
        condition = {
            None: document(query),
            True: summary(query),
            False: sa.and_(document(query), sa.not_(summary(query))),
        }[in_summary]
        return sa.select(sa.column("ticket_id")).select_from(sa.table(TABLE)).where(condition)


def constant(value, type_=sa.Integer):
    """A value written into the SQL, not sent beside it. PostgreSQL plans a statement it
    has seen a few times once for any values (psycopg prepares it): without the words of
    the search, that plan cannot know how common they are, and walks the whole table for
    a rare one."""
    return sa.literal(value, type_, literal_execute=True)


def parse(dialect: str, text: str, *, any_term: bool = False) -> Search | None:
    """The search for ``text``: every word must match (as a prefix), or any word with
    ``any_term``. None when there is nothing to find."""
    words = terms(text)
    if not words:
        return None
    if dialect == "sqlite":
        return Search(dialect, (" OR " if any_term else " AND ").join(f'"{w}"*' for w in words))
    return Search(dialect, (" | " if any_term else " & ").join(f"{w}:*" for w in words))


def compact(connection: sa.Connection) -> None:
    """After a bulk load, make the index as compact as if it had been built at once: the
    triggers wrote each ticket's entry once per comment, and PostgreSQL's index had grown
    to 2.5 times its size, its searches 10–20 % slower. ``connection`` in autocommit."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('optimize')")
    else:
        connection.exec_driver_sql(f"VACUUM FULL {TABLE}")
