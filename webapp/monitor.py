"""The change monitor: how a ticket change is recorded, and the guard that refuses a ticket
(or comment, or attachment) write that did not pass through ``record`` — and so through
the services."""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from .models import Attachment, Change, Comment, FieldChange, Ticket, User, utcnow

_MONITORED = "tessera_monitored_tickets"
_RECORDED = "tessera_recorded_changes"


class UnrecordedTicketWrite(RuntimeError):
    """A ticket was written without a change record: a bug, never a user error."""


def raw(value: Any) -> str | None:
    """A value as the monitor stores it: raw, not translated or formatted."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "id"):
        if _unwritten(value):
            raise ValueError(f"{value!r} has no id yet: flush it before recording it")
        return str(value.id)
    return str(value)


def _unwritten(value: Any) -> bool:
    """An object (a new ticket) the database has not given its id yet."""
    return hasattr(value, "id") and value.id is None


def record(
    session: Session,
    ticket: Ticket,
    *,
    actor: User | None,
    kind: str,
    fields: dict[str, tuple[Any, Any]],
    writes: dict[str, Any] | None = None,
    comment: Comment | None = None,
    more: Sequence[tuple[str, Any, Any]] = (),
    at: datetime | None = None,
) -> Change:
    """Record one change event with its fields (name: (old, new)), and write it at
    once with what it changes: ``writes``, the ticket's attributes (name: value), and
    ``comment`` if it is new. ``more`` rows (name, old, new) follow the fields, for a field
    that changes more than once in one change: several files attached at once.

    An existing ticket's row, the comment and the change (its fields in its row) are
    written by plain statements, not by the ORM's flush (which works out the same
    statements with far more effort), and the objects are left as the rows are. A ticket
    someone else changed since this transaction read it raises StaleDataError: the
    services then run again."""
    session.info.setdefault(_MONITORED, set()).add(id(ticket))
    now = at or utcnow()
    writes = {**(writes or {}), "modified": now}
    new = _unwritten(ticket)
    if new:
        for name, value in writes.items():
            setattr(ticket, name, value)
    if new or any(_unwritten(value) for pair in fields.values() for value in pair):
        session.flush()  # a new ticket (this one, or a child the change points to) gets its id
    version = ticket.version if new else _write_ticket(session, ticket, writes)
    if comment is not None and _unwritten(comment):
        _insert(session, comment, ticket=ticket, author=actor, attachments=[])
    with session.no_autoflush:
        rows = [
            FieldChange(name, raw(old), raw(new))
            for name, old, new in [(n, o, v) for n, (o, v) in fields.items()] + list(more)
        ]
    change = Change(
        ticket_id=ticket.id, actor_id=actor.id if actor else None, kind=kind, version=version,
        comment_id=comment.id if comment else None, created=now, fields=rows,
    )  # fmt: skip
    _insert(session, change, ticket=ticket, actor=actor, comment=comment)
    session.info.setdefault(_RECORDED, []).append(change)
    return change


def _write_ticket(session: Session, ticket: Ticket, writes: dict[str, Any]) -> int:
    """One UPDATE of the ticket's row, made only if the row is still at the version this
    transaction read; the ticket object is then as its row. Returns the new version."""
    relations = sa.inspect(Ticket).relationships
    columns = {}
    for name, value in writes.items():
        if name in relations:
            (column,) = relations[name].local_columns
            columns[column.key] = None if value is None else value.id
        else:
            columns[name] = value
    version = ticket.version
    columns["version"] = version + 1
    params = {"row_id": ticket.id, "row_version": version, **columns}
    if session.connection().execute(_ticket_update(), params).rowcount != 1:
        raise StaleDataError(f"ticket {ticket.id} is no longer at version {version}")
    for name, value in {**writes, **columns}.items():
        set_committed_value(ticket, name, value)
    for collection in ("comments", "changes"):  # loaded before this change: read them again
        if collection in ticket.__dict__:
            session.expire(ticket, [collection])
    return version + 1


@functools.cache
def _ticket_update() -> sa.Update:
    """The ticket's row, at the version read (its SET clause comes with the values)."""
    table = Ticket.__table__
    return sa.update(table).where(
        table.c.id == sa.bindparam("row_id"), table.c.version == sa.bindparam("row_version")
    )


def _insert(session: Session, obj: Any, **related: Any) -> None:
    """Write a new object (its columns all given) with one INSERT, and make it the
    session's as if it had been loaded; ``related``: its relationships, set without the
    ORM's events (which would add it to the other side's collections, to be written
    again)."""
    table = obj.__table__
    values = {c.key: obj.__dict__[c.key] for c in table.columns if c.key in obj.__dict__}
    missing = {c.key for c in table.columns} - values.keys() - {"id"}
    if missing:  # the object would read them from the database on first use
        raise ValueError(f"{type(obj).__name__} needs all its columns: {sorted(missing)}")
    obj.id = session.connection().execute(_inserting(table), values).scalar_one()
    make_transient_to_detached(obj)
    session.add(obj)
    for name, value in related.items():
        set_committed_value(obj, name, value)


@functools.cache
def _inserting(table: sa.Table) -> sa.Insert:
    return sa.insert(table).returning(table.c.id)


def take_recorded(session: Session) -> list[Change]:
    """The changes recorded in this transaction that nobody has taken yet (the
    notifications take them just before the transaction commits)."""
    return session.info.pop(_RECORDED, [])


def diff(ticket: Ticket, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields of ``values`` that really differ from the ticket's, as (old, new)."""
    changed = {}
    for name, new in values.items():
        old = getattr(ticket, name)
        if raw(old) != raw(new):
            changed[name] = (old, new)
    return changed


@event.listens_for(Session, "before_flush")
def _refuse_unrecorded(session: Session, flush_context, instances) -> None:
    allowed = session.info.get(_MONITORED, set())
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Ticket):
            ticket = obj
        elif isinstance(obj, Comment | Attachment):
            ticket = obj.ticket
        else:
            continue
        if id(ticket) not in allowed and session.is_modified(obj):
            raise UnrecordedTicketWrite(
                f"{type(obj).__name__} of ticket {ticket.id or '(new)'} written without "
                "a change record; use webapp.services"
            )


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    for key in (_MONITORED, _RECORDED):
        session.info.pop(key, None)
