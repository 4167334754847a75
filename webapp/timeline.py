"""Reading the change monitor: a ticket's timeline for people, and its CSV export.
Stored values are raw (ids, state names); labels and names are looked up here, at display
time, so they follow renames and the viewer's language."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from . import csvexport, i18n
from .extensions import db
from .models import (
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
TICKET_FIELDS = {"duplicate_of", "parent", "child"}
# Shown in the timeline by other means (the comment itself) or not worth a line.
HIDDEN_IN_TIMELINE = {"comment", "last_commenter", "author", "attachment"}
CSV_HEADER = ("timestamp", "actor", "action", "field", "old", "new")


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


class _Names:
    """Names for the ids a set of changes mentions, fetched in one query per kind."""

    def __init__(self, changes: list[Change], wf: Workflow, *, export: bool) -> None:
        self.wf, self.export = wf, export
        ids: dict[str, set[int]] = {"user": set(), "site": set(), "type": set()}
        for change in changes:
            for f in change.fields:
                kind = _ref_kind(f.field)
                for value in (f.old, f.new):
                    if kind in ids and value and value.isdigit():
                        ids[kind].add(int(value))
        self.users = _by_id(User, ids["user"])
        self.sites = _by_id(Site, ids["site"])
        self.types = _by_id(TicketType, ids["type"])

    def show(self, name: str, value: str | None) -> str:
        if value is None or value == "":
            return "" if self.export else "—"
        kind = _ref_kind(name)
        if kind == "user":
            user = self.users.get(int(value))
            if user is None:
                return _("user %(id)s", id=value)
            return user.username if self.export else user.name
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
    names = _Names(changes, wf, export=False)
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
    """The change monitor as rows, header first: the CSV download and the API serve these."""
    yield CSV_HEADER
    changes = history(ticket)
    names = _Names(changes, wf, export=True)
    for change in changes:
        stamp = change.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        actor = change.actor.username if change.actor else "system"
        for f in change.fields:
            yield (stamp, actor, change.kind, f.field, names.show(f.field, f.old),
                   names.show(f.field, f.new))  # fmt: skip


def history(ticket: Ticket) -> list[Change]:
    """The ticket's changes, oldest first, with their fields and actors loaded."""
    query = (
        sa.select(Change)
        .where(Change.ticket_id == ticket.id)
        .options(
            selectinload(Change.fields),
            selectinload(Change.actor),
            selectinload(Change.comment).selectinload(Comment.attachments),
        )
        .order_by(Change.id)
    )
    return list(db.session.scalars(query))


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
