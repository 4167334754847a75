"""The change monitor: how a ticket change is recorded, and the guard that refuses a ticket
(or comment, or attachment) write that did not pass through ``record`` — and so through
the services."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .models import Attachment, Change, ChangeField, Comment, Ticket, User, utcnow

_MONITORED = "tessera_monitored_tickets"
_RECORDED = "tessera_recorded_changes"
_UNWRITTEN = "tessera_unwritten_fields"


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
    comment: Comment | None = None,
    more: Sequence[tuple[str, Any, Any]] = (),
) -> Change:
    """Add one change event with a row per field (name: (old, new)) and allow the write.
    ``more`` rows (name, old, new) follow, for a field that changes more than once in one
    change: several files attached at once."""
    session.info.setdefault(_MONITORED, set()).add(id(ticket))
    if any(_unwritten(value) for pair in fields.values() for value in pair):
        session.flush()  # a new ticket the change points to (a child) gets its id
    with session.no_autoflush:
        rows = [
            ChangeField(field=name, old=raw(old), new=raw(new))
            for name, old, new in [(n, o, v) for n, (o, v) in fields.items()] + list(more)
        ]
        version = ticket.version + 1 if ticket.version else 1
    now = utcnow()
    ticket.modified = now
    change = Change(
        ticket=ticket, actor=actor, kind=kind, created=now, comment=comment, version=version
    )
    session.add(change)
    # The fields are the change's from the start, but not the ORM's to write (set after
    # the add, which would cascade to them): _write_fields writes them, in one INSERT,
    # once the change has its id.
    set_committed_value(change, "fields", rows)
    session.info.setdefault(_RECORDED, []).append(change)
    session.info.setdefault(_UNWRITTEN, []).append(change)
    return change


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


@event.listens_for(Session, "after_flush")
def _write_fields(session: Session, flush_context) -> None:
    """Write the fields of the changes this flush wrote, all in one statement (the ORM
    would write them one by one on SQLite, to learn ids that nobody needs)."""
    waiting = session.info.get(_UNWRITTEN)
    if not waiting:
        return
    written = [change for change in waiting if change.id is not None]
    session.info[_UNWRITTEN] = [change for change in waiting if change.id is None]
    rows = [
        {"change_id": change.id, "field": field.field, "old": field.old, "new": field.new}
        for change in written
        for field in change.fields
    ]
    if rows:
        session.connection().execute(sa.insert(ChangeField).values(rows))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    for key in (_MONITORED, _RECORDED, _UNWRITTEN):
        session.info.pop(key, None)
