"""The change monitor: how a ticket change is recorded, and the guard that refuses a ticket
(or comment, or attachment) write that did not pass through ``record`` — and so through
the services."""

from __future__ import annotations

import contextlib
import enum
import functools
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import notify
from .models import Attachment, Change, Comment, FieldChange, Ticket, User, utcnow

_MONITORED = "tessera_monitored_tickets"
_RECORDED = "tessera_recorded_changes"
_TOGETHER = "tessera_changes_together"


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
    ``comment`` if it is new; and with the notifications that tell it (``notify.told``).
    ``more`` rows (name, old, new) follow the fields, for a field that changes more than
    once in one change: several files attached at once.

    An existing ticket's row, the comment, the change (its fields in its row) and its
    notifications are written by plain statements, not by the ORM's flush (which works
    out the same statements with far more effort), and the objects are left as the rows
    are: on PostgreSQL by one statement (``_at_once``), elsewhere one after another. A
    ticket someone else changed since this transaction read it raises StaleDataError:
    the services then run again. Within ``together``, the change may be written (and
    given its id) only when the block ends."""
    session.info.setdefault(_MONITORED, set()).add(id(ticket))
    now = at or utcnow()
    writes = {**(writes or {}), "modified": now}
    postgresql = session.connection().dialect.name == "postgresql"
    with session.no_autoflush:  # on PostgreSQL a new ticket is written below, not flushed
        new = _unwritten(ticket)
        if new:
            for name, value in writes.items():
                setattr(ticket, name, value)
        pointed = any(_unwritten(value) for pair in fields.values() for value in pair)
        created = new and postgresql and not pointed and comment is None
        if created:
            session.expunge(ticket)
    if (new and not created) or pointed:
        session.flush()  # a new ticket (this one, or a child the change points to) gets its id
    row = _new_row(ticket) if created else None  # its columns, as what follows reads them
    update = None if new else _update_ticket(session, ticket, writes)
    with session.no_autoflush:
        rows = [
            FieldChange(name, raw(old), raw(new))
            for name, old, new in [(n, o, v) for n, (o, v) in fields.items()] + list(more)
        ]
    change = Change(
        ticket_id=ticket.id, actor_id=actor.id if actor else None, kind=kind,
        version=ticket.version, comment_id=None, created=now, fields=rows,
    )  # fmt: skip
    new_comment = comment if comment is not None and _unwritten(comment) else None
    if comment is not None and new_comment is None:
        change.comment_id = comment.id
    told = notify.told(change, ticket)
    done = _Recorded(change, ticket, actor, comment, new_comment, told)
    if row is not None:
        written = _create_at_once(session, ticket, row, change, told)
    elif update is not None and postgresql:
        written = _write_at_once(session, update, new_comment, change, told)
    elif _TOGETHER in session.info:
        _write_in_turn(session, update, new_comment, None, None)
        if new_comment is not None:
            change.comment_id = new_comment.id  # its row is written when the block ends
        session.info[_TOGETHER].append(done)
        return change
    else:
        written = _write_in_turn(session, update, new_comment, change, told)
    _written(session, done, written)
    return change


class _Recorded(NamedTuple):
    """A change ``record`` made, and what it was made with."""

    change: Change
    ticket: Ticket
    actor: User | None
    comment: Comment | None
    new_comment: Comment | None
    told: notify.Told | None


def _written(session: Session, done: _Recorded, written: list[Any]) -> None:
    """The change and its new comment, written, made the session's as loaded; with mail
    on, the notifications' rows (``written``) made due; the change left for the webhooks."""
    change = done.change
    if done.new_comment is not None:
        _adopt(session, done.new_comment, ticket=done.ticket, author=done.actor, attachments=[])
    _adopt(session, change, ticket=done.ticket, actor=done.actor, comment=done.comment)
    if done.told is not None and done.told.mailed:
        notify.mailed(session, change, written)
    session.info.setdefault(_RECORDED, []).append(change)


@contextlib.contextmanager
def together(session: Session) -> Iterator[None]:
    """Record the changes of this block together. Where a change is written one statement
    after another (SQLite), each ticket's row (and comment) is written by ``record`` as
    before, but the changes' rows by one INSERT when the block ends and all their
    notifications by one more: a child ticket and its parent's change take two statements
    fewer. On PostgreSQL each change is one statement anyway, written at once."""
    if _TOGETHER in session.info:
        raise RuntimeError("changes are recorded together already")
    pending = session.info[_TOGETHER] = []
    try:
        yield
    finally:
        del session.info[_TOGETHER]
    if pending:
        _write_together(session, pending)


def _write_together(session: Session, pending: list[_Recorded]) -> None:
    """The changes' rows as one INSERT, their notifications as one INSERT ... SELECT."""
    conn = session.connection()
    values = {
        f"{key}_{i}": value
        for i, done in enumerate(pending)
        for key, value in _values(done.change).items()
    }
    rows = conn.execute(_inserting_changes(len(pending)), values)
    ids = {(row.ticket_id, row.version): row.id for row in rows}
    for done in pending:
        done.change.id = ids[done.change.ticket_id, done.change.version]
    telling = [done for done in pending if done.told is not None]
    written: dict[int, list[Any]] = {}
    if telling:
        shapes = tuple(done.told.shape for done in telling)
        params = {}
        for i, done in enumerate(telling):
            told_params = {**done.told.params, "change": done.change.id}
            params |= {f"{key}_{i}": value for key, value in told_params.items()}
        result = conn.execute(notify.recipients_insert_all(shapes), params)
        for row in result.all() if any(shape.mailed for shape in shapes) else []:
            written.setdefault(row.change_id, []).append(row)
    for done in pending:
        _written(session, done, written.get(done.change.id, []))


class _TicketWrite(NamedTuple):
    """The UPDATE of a ticket's row: made only if the row is still at ``version``."""

    id: int
    version: int
    columns: dict[str, Any]


def _update_ticket(session: Session, ticket: Ticket, writes: dict[str, Any]) -> _TicketWrite:
    """The ticket's row's new values, with the ticket object made as the row will be."""
    keys = _relation_keys()
    columns = {}
    for name, value in writes.items():
        if name in keys:
            columns[keys[name]] = None if value is None else value.id
        else:
            columns[name] = value
    columns["version"] = ticket.version + 1
    update = _TicketWrite(ticket.id, ticket.version, columns)
    for name, value in {**writes, **columns}.items():
        set_committed_value(ticket, name, value)
    for collection in ("comments", "changes"):  # loaded before this change: read them again
        if collection in ticket.__dict__:
            session.expire(ticket, [collection])
    return update


def _stale(update: _TicketWrite) -> StaleDataError:
    return StaleDataError(f"ticket {update.id} is no longer at version {update.version}")


def _write_in_turn(session, update, comment, change, told) -> list[Any]:
    """The statements one after another; the notifications' rows if they return any. No
    ``change``: the ticket's row and the comment only (``together``)."""
    conn = session.connection()
    if update is not None:
        params = {"row_id": update.id, "row_version": update.version, **update.columns}
        if conn.execute(_ticket_update(), params).rowcount != 1:
            raise _stale(update)
    if comment is not None:
        comment.id = conn.execute(_inserting(Comment.__table__), _values(comment)).scalar_one()
    if change is None:
        return []
    if comment is not None:
        change.comment_id = comment.id
    change.id = conn.execute(_inserting(Change.__table__), _values(change)).scalar_one()
    if told is None:
        return []
    result = conn.execute(told.insert(), {**told.params, "change": change.id})
    return result.all() if told.mailed else []


def _write_at_once(session, update, comment, change, told) -> list[Any]:
    """The statements as one, each a data-modifying WITH query fed by the one before:
    one round trip to PostgreSQL, not four. No row back: the ticket's row had moved on."""
    params = {"row_id": update.id, "row_version": update.version}
    params |= {f"ticket_{k}": v for k, v in update.columns.items()}
    if comment is not None:
        params |= {f"comment_{k}": v for k, v in _values(comment).items()}
    params |= {f"change_{k}": v for k, v in _values(change).items()}
    if told is not None:
        params |= told.params
    shape = told.shape if told is not None else None
    statement = _at_once(tuple(update.columns), comment is not None, shape)
    rows = session.connection().execute(statement, params).all()
    if not rows:
        raise _stale(update)
    change.id = rows[0].change_id
    if comment is not None:
        comment.id = change.comment_id = rows[0].comment_id
    return [row for row in rows if row.id is not None] if told is not None and told.mailed else []


def _create_at_once(
    session: Session, ticket: Ticket, row: dict[str, Any], change: Change, told
) -> list[Any]:
    """A new ticket's ``row``, its change and the change's notifications as one
    statement (PostgreSQL), the ticket made the session's as if it had been loaded; the
    notifications' rows if they return any."""
    params = {f"ticket_{k}": v for k, v in row.items()}
    params |= {f"change_{k}": v for k, v in _values(change).items() if k != "ticket_id"}
    if told is not None:
        params |= told.params
    statement = _created_at_once(told.shape if told is not None else None)
    rows = session.connection().execute(statement, params).all()
    change.ticket_id = ticket.id = rows[0].ticket_id
    change.id = rows[0].change_id
    _adopt(session, ticket)
    return [row for row in rows if row.id is not None] if told is not None and told.mailed else []


def _new_row(ticket: Ticket) -> dict[str, Any]:
    """A new ticket's columns, set on it too: as given, a relation's key from its object,
    else the column's default."""
    relations = {key: name for name, key in _relation_keys().items()}
    row = {}
    for column in Ticket.__table__.columns:
        if column.key == "id":
            continue
        if column.key in ticket.__dict__:
            row[column.key] = ticket.__dict__[column.key]
        elif relations.get(column.key) in ticket.__dict__:
            related = ticket.__dict__[relations[column.key]]
            row[column.key] = None if related is None else sa.inspect(related).identity[0]
        elif column.default is not None:
            default = column.default
            row[column.key] = default.arg(None) if default.is_callable else default.arg
        else:
            row[column.key] = None
        setattr(ticket, column.key, row[column.key])
    return row


@functools.lru_cache(maxsize=64)
def _created_at_once(told: Any) -> sa.Select:
    """The INSERT of a ticket, of its change and of the notifications of the form
    ``told`` as one statement, built once per form and process."""
    tickets = Ticket.__table__
    columns = [c for c in tickets.columns if c.key != "id"]
    ticket = (
        sa.insert(tickets)
        .values({c.key: sa.bindparam(f"ticket_{c.key}", type_=c.type) for c in columns})
        .returning(tickets.c.id)
        .cte("ticket")
    )
    change = _insert_from(Change.__table__, "change", ticket, {"ticket_id": ticket.c.id})
    answer = sa.select(ticket.c.id.label("ticket_id"), change.c.id.label("change_id"))
    answer = _telling(answer.select_from(ticket.join(change, sa.true())), change, told)
    return answer.execution_options(writes_to=("tickets", "changes"))


@functools.lru_cache(maxsize=256)  # bounded: an edit may change any set of columns
def _at_once(columns: tuple[str, ...], with_comment: bool, told: Any) -> sa.Select:
    """The ticket's UPDATE of ``columns`` (at the version read), the comment's INSERT,
    the change's INSERT and the notifications' INSERT ... SELECT of the form ``told``
    (``notify.Told.shape``, None for none) as one statement, built once per form and
    process: each later one reads the rows the one before returned, so none is written
    when the ticket's row has moved on."""
    tickets = Ticket.__table__
    ticket = (
        _ticket_update()
        .values({c: sa.bindparam(f"ticket_{c}", type_=tickets.c[c].type) for c in columns})
        .returning(tickets.c.id)
        .cte("ticket")
    )
    if with_comment:  # the change then follows the comment, written if the ticket was
        comment = _insert_from(Comment.__table__, "comment", ticket, {})
        change = _insert_from(Change.__table__, "change", comment, {"comment_id": comment.c.id})
    else:
        comment = None
        change = _insert_from(Change.__table__, "change", ticket, {})
    answer = sa.select(change.c.id.label("change_id"), change.c.comment_id)
    answer = _telling(answer.select_from(change), change, told)
    return answer.execution_options(writes_to=("tickets", "comments", "changes"))


def _telling(answer: sa.Select, change: sa.CTE, told: Any) -> sa.Select:
    """``answer`` with the INSERT ... SELECT of the notifications of the form ``told``
    (None for none) for the row of ``change``; with mail on, the rows it wrote joined to
    the answer (none: one row of NULLs), for ``notify.mailed``."""
    if told is None:
        return answer
    told_cte = notify.recipients_insert(told, change).cte("told")
    if not told.mailed:
        return answer.add_cte(told_cte)
    answer = answer.add_columns(told_cte.c.id, told_cte.c.recipient_id, told_cte.c.mail)
    return answer.outerjoin(told_cte, sa.true())


def _insert_from(table: sa.Table, name: str, source: sa.CTE, given: dict[str, Any]) -> sa.CTE:
    """An INSERT of one row (bound parameters ``<name>_<column>``, or ``given``
    expressions) for each row of ``source``, as a WITH query returning the new row."""
    columns = [c for c in table.columns if c.key != "id"]
    values = [given.get(c.key, sa.bindparam(f"{name}_{c.key}", type_=c.type)) for c in columns]
    rows = sa.select(*values).select_from(source)
    return (
        sa.insert(table).from_select([c.key for c in columns], rows)
        .returning(*table.c).cte(name)
    )  # fmt: skip


@functools.cache
def _relation_keys() -> dict[str, str]:
    """The ticket's relations to one object (its author, site, parent...), each with the
    column that holds the object's key."""
    return {
        name: column.key
        for name, relation in sa.inspect(Ticket).relationships.items()
        if relation.direction.name == "MANYTOONE"
        for column in relation.local_columns
    }


@functools.cache
def _ticket_update() -> sa.Update:
    """The ticket's row, at the version read (its SET clause comes with the values)."""
    table = Ticket.__table__
    return sa.update(table).where(
        table.c.id == sa.bindparam("row_id"), table.c.version == sa.bindparam("row_version")
    )


def _values(obj: Any) -> dict[str, Any]:
    """A new object's columns, all given (it would read any missing from the database on
    first use)."""
    table = obj.__table__
    values = {c.key: obj.__dict__[c.key] for c in table.columns if c.key in obj.__dict__}
    missing = {c.key for c in table.columns} - values.keys() - {"id"}
    if missing:
        raise ValueError(f"{type(obj).__name__} needs all its columns: {sorted(missing)}")
    values.pop("id", None)
    return values


def _adopt(session: Session, obj: Any, **related: Any) -> None:
    """Make a just-written object (its id set) the session's as if it had been loaded;
    ``related``: its relationships, set without the ORM's events (which would add it to
    the other side's collections, to be written again)."""
    make_transient_to_detached(obj)
    session.add(obj)
    for name, value in related.items():
        set_committed_value(obj, name, value)


@functools.cache
def _inserting(table: sa.Table) -> sa.Insert:
    return sa.insert(table).returning(table.c.id)


@functools.lru_cache(maxsize=8)
def _inserting_changes(rows: int) -> sa.Insert:
    """An INSERT of ``rows`` changes (parameters ``<column>_<i>``), returning each one's
    id, ticket and version. As INSERT ... SELECT: SQLAlchemy compiles a multi-row VALUES
    anew on every run."""
    table = Change.__table__
    columns = [c for c in table.columns if c.key != "id"]
    selects = [
        sa.select(*(sa.bindparam(f"{c.key}_{i}", type_=c.type) for c in columns))
        for i in range(rows)
    ]
    insert = sa.insert(table).from_select([c.key for c in columns], sa.union_all(*selects))
    return insert.returning(table.c.id, table.c.ticket_id, table.c.version)


def take_recorded(session: Session) -> list[Change]:
    """The changes recorded in this transaction that nobody has taken yet (the webhooks
    take them just before the transaction commits)."""
    return session.info.pop(_RECORDED, [])


def diff(ticket: Ticket, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields of ``values`` that really differ from the ticket's, as (old, new). The
    old value of a relation the ticket has not loaded is its key (as ``raw`` writes it),
    not the object, which would be read for it."""
    keys, unloaded = _relation_keys(), sa.inspect(ticket).unloaded
    changed = {}
    for name, new in values.items():
        old = getattr(ticket, keys[name] if name in keys and name in unloaded else name)
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
