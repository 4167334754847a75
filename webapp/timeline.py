"""Reading the change monitor: a ticket's timeline for people, and its CSV export.
Stored values are raw (ids, state names); labels and names are looked up here, at display
time, so they follow renames and the viewer's language."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Load, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from . import csvexport, i18n
from .extensions import db
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import (
    Attachment,
    Change,
    Comment,
    Priority,
    Rating,
    ReportingType,
    Site,
    Ticket,
    TicketType,
    User,
)  # fmt: skip
from .workflow import Workflow

FIELD_LABELS = {
    "summary": _l("Summary"),
    "description": _l("Description"),
    "author": _l("Author"),
    "assignee": _l("Assigned to"),
    "site": _l("Site"),
    "ticket_type": _l("Type"),
    "state": _l("State"),
    "priority": _l("Priority"),
    "private": _l("Private"),
    "end_user_name": _l("End user"),
    "end_user_email": _l("End user's e-mail"),
    "deadline": _l("Deadline"),
    "waiting_for": _l("Waiting for"),
    "upgrade_notes": _l("Resolution"),
    "ref": _l("Reference"),
    "reporting_type": _l("Reporting type"),
    "rating": _l("Rating"),
    "duplicate_of": _l("Duplicate of"),
    "parent": _l("Parent"),
    "child": _l("Child ticket"),
    "deleted": _l("Deleted"),
    "comment": _l("Comment"),
    "last_commenter": _l("Last commenter"),
    "attachment": _l("Attachment"),
}
KIND_LABELS = {
    "created": _l("reported this ticket"),
    "edited": _l("edited the ticket"),
    "take": _l("took this ticket"),
    "steal": _l("took this ticket over"),
    "assign": _l("assigned this ticket"),
    "unassign": _l("unassigned this ticket"),
    "state": _l("changed the state"),
    "comment": _l("commented"),
    "comment_edited": _l("edited a comment"),
    "duplicate": _l("marked this ticket as a duplicate"),
    "child": _l("spawned a child ticket"),
    "deleted": _l("deleted this ticket"),
    "rating": _l("rated the work"),
    "autoclose": _l("closed this ticket automatically"),
    "attachment_added": _l("attached"),
    "attachment_removed": _l("removed"),
}
# Kinds whose action names the files: "attached report.pdf".
FILE_KINDS = {"attachment_added", "attachment_removed"}
USER_FIELDS = {"author", "assignee", "last_commenter"}
REF_FIELDS = (*sorted(USER_FIELDS), "site", "ticket_type")
TICKET_FIELDS = {"duplicate_of", "parent", "child"}
# Shown in the timeline by other means (the comment itself) or not worth a line.
HIDDEN_IN_TIMELINE = {"comment", "last_commenter", "author", "attachment"}
CSV_HEADER = ("timestamp", "actor", "action", "field", "old", "new")


@dataclass
class _Name:
    """A user's username and the name people read (display name, else username); a
    site's or a type's name, twice."""

    name: str
    shown: str


@dataclass
class Line:
    field: str
    label: str
    old: str
    new: str


@dataclass
class Entry:
    change: Change
    actor: str
    action: str
    lines: list[Line] = field(default_factory=list)


def _held(model: type, ident: int, attribute: str):
    """The object of that id this session holds with ``attribute`` loaded, or None: its
    name is then at hand, not read again."""
    held = db.session.identity_map.get(identity_key(model, ident))
    if held is None or attribute in sa.inspect(held).unloaded:
        return None
    return held


@functools.cache
def _name_columns() -> dict[str, tuple]:
    """For each kind of id a change may name: its model, its name's column and a second
    column (a person's display name), as ``_Names`` reads them."""
    return {
        "user": (User, User.username, User.display_name),
        "site": (Site, Site.name, sa.literal("")),
        "type": (TicketType, TicketType.name, sa.literal("")),
    }


class _Names:
    """Names for the ids that (field, value) pairs mention, fetched in one query; with
    ``tickets`` (ids, a WHERE clause), which of those tickets the viewer may open too."""

    def __init__(self, values, wf: Workflow, *, export: bool, tickets=None) -> None:
        self.wf, self.export = wf, export
        self.wanted_tickets = tickets
        self._fetch(values)

    def _fetch(self, values) -> None:
        ids: dict[str, set[int]] = {"user": set(), "site": set(), "type": set()}
        for name, value in values:
            kind = _ref_kind(name)
            if kind in ids and value and value.isdigit():
                ids[kind].add(int(value))
        self.users: dict[int, _Name] = {}
        self.sites: dict[int, _Name] = {}
        self.types: dict[int, _Name] = {}
        found = {"user": self.users, "site": self.sites, "type": self.types}
        columns = _name_columns()
        for kind, (model, label, _extra) in columns.items():
            for id_ in list(ids[kind]):
                if (held := _held(model, id_, label.key)) is not None:
                    shown = getattr(held, "display_name", "") or getattr(held, label.key)
                    found[kind][id_] = _Name(getattr(held, label.key), shown)
                    ids[kind].discard(id_)
        parts = [
            sa.select(sa.literal(kind), model.id, label, extra).where(model.id.in_(ids[kind]))
            for kind, (model, label, extra) in columns.items()
            if ids[kind]
        ]
        self.tickets: set[int] = set()
        if self.wanted_tickets is not None and self.wanted_tickets[0]:
            wanted, visible = self.wanted_tickets
            parts.append(
                sa.select(sa.literal("ticket"), Ticket.id, sa.literal(""), sa.literal("")).where(
                    Ticket.id.in_(wanted), visible
                )
            )
        if not parts:
            return
        for kind, id_, label, extra in db.session.execute(sa.union_all(*parts)):
            if kind == "ticket":
                self.tickets.add(id_)
            else:
                found[kind][id_] = _Name(label, extra or label)

    def show(self, name: str, value: str | None) -> str:
        if value is None or value == "":
            return "" if self.export else "—"
        kind = _ref_kind(name)
        if kind == "user":
            user = self.users.get(int(value))
            if user is None:
                return _("user %(id)s", id=value)
            return user.name if self.export else user.shown
        if kind == "site":
            site = self.sites.get(int(value))
            return site.name if site else _("site %(id)s", id=value)
        if kind == "type":
            ticket_type = self.types.get(int(value))
            return ticket_type.name if ticket_type else _("type %(id)s", id=value)
        if self.export:
            return value
        if name == "state":
            return self.wf.describe(value).label
        if name == "priority" and value.isdigit():
            return Priority(int(value)).label
        if name == "rating" and value.isdigit():
            return Rating(int(value)).label
        if name == "private":
            return _("yes") if value == "true" else _("no")
        if name == "deadline":
            return i18n.format_day(date.fromisoformat(value))
        if name == "reporting_type" and value in set(ReportingType):
            return ReportingType(value).label
        if name in TICKET_FIELDS:
            return f"#{value}"
        return value


def describe(changes: list[Change], wf: Workflow) -> list[Entry]:
    """Changes, ready to show."""
    return _describe(changes, _Names(_shown_values(changes), wf, export=False))


def describe_linking(
    changes: list[Change], wf: Workflow, ids: set[int], visible
) -> tuple[list[Entry], set[int]]:
    """Changes, ready to show, and which of the tickets ``ids`` (that the texts mention)
    the viewer may open (``visible``, a WHERE clause): asked with the names, in one query."""
    names = _Names(_shown_values(changes), wf, export=False, tickets=(ids, visible))
    return _describe(changes, names), names.tickets


def _shown_values(changes: list[Change]):
    """The (field, value) pairs of the changes that the timeline shows."""
    return (
        (f.field, v)
        for change in changes
        for f in change.fields
        if f.field not in HIDDEN_IN_TIMELINE
        for v in (f.old, f.new)
    )


def _describe(changes: list[Change], names: _Names) -> list[Entry]:
    result = []
    for change in changes:
        entry = Entry(
            change=change,
            actor=change.actor.name if change.actor else _("System"),
            action=KIND_LABELS.get(change.kind, change.kind),
        )
        if change.kind in FILE_KINDS:
            files = [f.new or f.old or "" for f in change.fields if f.field == "attachment"]
            entry.action = f"{entry.action} {', '.join(files)}"
        for f in change.fields:
            if f.field not in HIDDEN_IN_TIMELINE:
                label = FIELD_LABELS.get(f.field, f.field)
                entry.lines.append(
                    Line(f.field, label, names.show(f.field, f.old), names.show(f.field, f.new))
                )
        result.append(entry)
    return result


def csv_lines(ticket: Ticket, wf: Workflow) -> Iterator[str]:
    """The monitor as CSV lines: one row per changed field, UTC timestamps."""
    return csvexport.lines(monitor_rows(ticket, wf))


def monitor_rows(ticket: Ticket, wf: Workflow) -> Iterator[tuple]:
    """The change monitor as rows, header first: the CSV download and the API serve these.
    Plain rows, streamed: a ticket with a long history costs time, not memory. The
    database takes each change's fields apart, a row per field as the CSV has them, with
    the names of the users, sites and types they mention: the worker then parses no JSON
    (a third of its time for a long history) and reads no names beforehand."""
    yield CSV_HEADER
    dialect = db.session.get_bind().dialect.name
    # The rows name what they mention; these only say what they do not (an empty value,
    # an id no longer there).
    unnamed = _Names((), wf, export=True).show
    # The changes in order first, and only then each taken apart: the planner guesses a
    # hundred fields a change, and for a streamed result (a cursor, which it plans to
    # answer its first rows soon) it walked every change of every ticket in order of id
    # rather than sort this one's (1.2 s at a million tickets). OFFSET 0 keeps the two
    # steps apart.
    history = (
        sa.select(Change.id, Change.created, Change.actor_id, Change.kind, Change.fields)
        .where(Change.ticket_id == ticket.id)
        .order_by(Change.id)
        .offset(0)
        .subquery()
    )
    each, part, place = _fields_apart(history.c.fields, dialect)
    name, old, new = part
    rows = db.session.connection().execute(
        sa.select(csvexport.utc_text(history.c.created, dialect), User.username,
                  history.c.kind, name, old, new, _ref_name(name, old, dialect),
                  _ref_name(name, new, dialect))
        .select_from(history)
        .join(each, sa.true())
        .outerjoin(User, User.id == history.c.actor_id)
        .order_by(history.c.id, place),
        execution_options={"stream_results": True, "max_row_buffer": 2000},  # this one only
    )  # fmt: skip
    for stamp, actor, kind, name, old, new, old_name, new_name in rows:
        if name in REF_FIELDS:
            old = unnamed(name, old) if old_name is None else old_name
            new = unnamed(name, new) if new_name is None else new_name
        yield (stamp, actor or "system", kind, name, old or "", new or "")


def _ref_name(field, value, dialect: str):
    """The name of the user, site or type that a field's value (an id) stands for, as
    the export writes it, looked up by the database as it takes the changes apart (only
    for the fields that name one: the field is read once a row, a CASE on its value);
    NULL for any other field, or an id no longer there."""
    if dialect == "postgresql":
        number = value.op("~")("^[0-9]+$")
    else:
        number = sa.and_(value != "", value.op("NOT GLOB")("*[^0-9]*"))
    person = aliased(User, name="named_user")  # not the actor's row, which the rows join
    by_kind = {"user": (person.username, person.id), "site": (Site.name, Site.id),
               "type": (TicketType.name, TicketType.id)}  # fmt: skip
    lookups = {}
    for name in REF_FIELDS:
        label, key = by_kind[_ref_kind(name)]
        found = sa.select(label).where(key == sa.cast(value, sa.Integer)).scalar_subquery()
        lookups[name] = sa.case((number, found), else_=sa.null())
    return sa.case(lookups, value=field, else_=sa.null())


def _fields_apart(fields, dialect: str):
    """A change's fields (a JSON list of [name, old, new]) as a table of one row per field:
    the table, its three values as text, and the field's place in the list."""
    if dialect == "postgresql":
        each = sa.func.jsonb_array_elements(fields).table_valued("value", with_ordinality="n")
        each = each.render_derived()  # AS anon(value, n)
        return each, [each.c.value.op("->>")(i) for i in range(3)], each.c.n
    each = sa.func.json_each(fields).table_valued("value", "key")
    return each, [sa.func.json_extract(each.c.value, f"$[{i}]") for i in range(3)], each.c.key


def history(ticket: Ticket, files: list[Attachment]) -> list[Change]:
    """The ticket's changes, oldest first, with their fields, actors, comments and the
    comments' files, in one query; ``files`` are all of the ticket's, removed ones too, as
    ``services.all_attachments_of`` reads them."""
    changes = list(db.session.scalars(_changes_of(), {"ticket": ticket.id}))
    by_comment: dict[int, list[Attachment]] = {}
    for file in files:
        if file.comment_id is not None:
            by_comment.setdefault(file.comment_id, []).append(file)
    for change in changes:
        if change.comment is not None:
            set_committed_value(
                change.comment, "attachments", by_comment.get(change.comment.id, [])
            )
    return changes


def since(ticket: Ticket, after: int, *, with_ticket: Sequence[Load] = ()) -> list[Change]:
    """The ticket's changes that took it past version ``after`` up to the version this
    session holds, oldest first, with their actors, comments and the comments' files: what
    a page that showed it at ``after`` lacks to show it as held (later ones, committed
    since, are for its next update); in one statement, with what ``with_ticket`` (loader
    options of the ticket) asks for of the ticket that it has not read. (A row per change,
    comment file and what else is asked for: a page is seldom far behind.)"""
    options = [joinedload(Change.comment).joinedload(Comment.attachments)]
    if with_ticket:
        options.append(joinedload(Change.ticket).options(*with_ticket))
    versions = sa.and_(Change.version > after, Change.version <= ticket.version)
    query = _changes_of().where(versions).options(*options)
    return list(db.session.scalars(query, {"ticket": ticket.id}).unique())


@functools.cache
def _changes_of() -> sa.Select:
    """The changes of the ticket whose id is the bound parameter ``ticket``, oldest first,
    with their actors and comments; built once per process (every ticket page reads them,
    and building the query cost about as much as running it)."""
    return (
        sa.select(Change)
        .where(Change.ticket_id == sa.bindparam("ticket"))
        .options(joinedload(Change.actor), joinedload(Change.comment))
        .order_by(Change.id)
    )


def _ref_kind(name: str) -> str | None:
    if name in USER_FIELDS:
        return "user"
    if name == "site":
        return "site"
    if name == "ticket_type":
        return "type"
    return None


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {obj.id: obj for obj in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}
