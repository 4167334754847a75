"""Data stamps: two counters that move whenever what the pages show moves, so that
something drawn or read earlier can be used again while its stamps are the same
(``pagecache``, the staff list, the webhooks).

- ``tickets`` moves with every change the monitor records, and so with every write to
  tickets, their comments and files (monitor.py refuses any other). The database moves
  it: a trigger on ``changes`` (migration 0014), deferred to the commit on PostgreSQL so
  that every writer takes the counter's row lock last, and once per transaction.
- ``setup`` moves with every write to people, groups, sites, subscriptions, ticket types
  and webhooks: noticed here, where SQL runs (any INSERT, UPDATE or DELETE of those
  tables, from the ORM or not), and moved by the session as the transaction's last
  statement before it commits.

Either way the stamps and the data they stand for become visible together. A page reads
the stamps before its data, so what it keeps under a stamp is never older than the stamp.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar

import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from .current import app
from .extensions import db
from .models import Stamp

T = TypeVar("T")

STAMPED = {
    **dict.fromkeys(("tickets", "comments", "attachments", "changes"), "tickets"),
    **dict.fromkeys(
        ("users", "groups", "user_groups", "sites", "subscriptions", "ticket_types", "webhooks"),
        "setup",
    ),
}
MOVED_HERE = "setup"  # the database's trigger moves "tickets"
_MOVED = "tessera_stamps_moved"
_READ, _WROTE = "tessera_stamps", "tessera_stamps_wrote"


class Stamps(NamedTuple):
    tickets: int
    setup: int


def columns() -> tuple[sa.ScalarSelect, sa.ScalarSelect]:
    """The two stamps as scalar subqueries, to be read with another statement."""
    return tuple(
        sa.select(Stamp.value).where(Stamp.name == name).scalar_subquery()
        for name in Stamps._fields
    )


def current() -> Stamps | None:
    """The stamps this session read (with the signed-in user, else now), or None where
    the database has none (a test's emptied tables): then nothing is kept. They belong to
    the session, so a request or a worker's round reads them afresh."""
    found = db.session.info.get(_READ)
    if found is None:
        found = db.session.info[_READ] = Stamps(*db.session.execute(sa.select(*columns())).one())
    return None if None in found else found


def remember(found: Stamps) -> None:
    """Stamps read with another statement (accounts.signed_in_user)."""
    db.session.info[_READ] = found


def wrote() -> set[str]:
    """Which stamps this session's writes will move: what it reads now may be its own
    uncommitted writes, and its stamps are the old ones, so it keeps and reuses nothing
    that depends on them."""
    return db.session.info.get(_WROTE, set())


def keep(name: str, load: Callable[[], T]) -> T:
    """What ``load()`` gives, kept by the process and read again only when the setup
    stamp has moved: for what only setup writes change (the staff, the webhooks)."""
    if "setup" in wrote():
        return load()
    stamp = current()
    kept = app().extensions.setdefault("tessera_kept", {})
    found = kept.get(name)
    if stamp is not None and found is not None and found[0] == stamp.setup:
        return found[1]
    value = load()
    if stamp is not None:
        kept[name] = (stamp.setup, value)
    return value


@event.listens_for(Engine, "before_execute")
def _notice(conn, clauseelement, multiparams, params, execution_options) -> None:
    """A statement that writes: an INSERT, UPDATE or DELETE, or one whose writes are in
    its WITH queries, which names their tables (execution option ``writes_to``)."""
    tables = execution_options.get("writes_to", ())
    if isinstance(clauseelement, UpdateBase):
        tables = (getattr(clauseelement.table, "name", None),)
    for name in {STAMPED.get(table) for table in tables}:
        if name is not None:
            if name == MOVED_HERE:
                conn.info[_MOVED] = True
            if has_app_context():
                db.session.info.setdefault(_WROTE, set()).add(name)


@event.listens_for(Session, "before_commit")
def _move(session: Session) -> None:
    if not session.in_transaction():
        return
    session.flush()
    conn = session.connection()
    if conn.info.pop(_MOVED, False):
        table = Stamp.__table__
        conn.execute(
            sa.update(table).where(table.c.name == MOVED_HERE).values(value=table.c.value + 1)
        )


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget(conn) -> None:
    """A transaction's end forgets what it wrote (a session's commit has moved the stamps
    by now; writes go through sessions, see the module's docstring)."""
    conn.info.pop(_MOVED, None)
