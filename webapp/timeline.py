"""Reading the change monitor: a ticket's timeline for people, and its CSV export.
Stored values are raw (ids, state names); labels and names are looked up here, at display
time, so they follow renames and the viewer's language."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from . import csvexport
from .extensions import db
from .models import Change, Priority, Rating, Site, Ticket, TicketType, User
from .workflow import Workflow

FIELD_LABELS = {
    "summary": "Summary",
    "description": "Description",
    "author": "Author",
    "assignee": "Assigned to",
    "site": "Site",
    "ticket_type": "Type",
    "state": "State",
    "priority": "Priority",
    "private": "Private",
    "end_user_name": "End user",
    "end_user_email": "End user's e-mail",
    "deadline": "Deadline",
    "waiting_for": "Waiting for",
    "upgrade_notes": "Resolution",
    "ref": "Reference",
    "reporting_type": "Reporting type",
    "rating": "Rating",
    "duplicate_of": "Duplicate of",
    "parent": "Parent",
    "child": "Child ticket",
    "deleted": "Deleted",
    "comment": "Comment",
    "last_commenter": "Last commenter",
}
KIND_LABELS = {
    "created": "reported this ticket",
    "edited": "edited the ticket",
    "take": "took this ticket",
    "steal": "took this ticket over",
    "assign": "assigned this ticket",
    "unassign": "unassigned this ticket",
    "state": "changed the state",
    "comment": "commented",
    "comment_edited": "edited a comment",
    "duplicate": "marked this ticket as a duplicate",
    "child": "spawned a child ticket",
    "deleted": "deleted this ticket",
    "rating": "rated the work",
    "autoclose": "closed this ticket automatically",
}
USER_FIELDS = {"author", "assignee", "last_commenter"}
TICKET_FIELDS = {"duplicate_of", "parent", "child"}
# Shown in the timeline by other means (the comment itself) or not worth a line.
HIDDEN_IN_TIMELINE = {"comment", "last_commenter", "author"}
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
                return f"user {value}"
            return user.username if self.export else user.name
        if kind == "site":
            site = self.sites.get(int(value))
            return site.name if site else f"site {value}"
        if kind == "type":
            ticket_type = self.types.get(int(value))
            return ticket_type.name if ticket_type else f"type {value}"
        if self.export:
            return value
        if name == "state":
            return self.wf.describe(value).label
        if name == "priority" and value.isdigit():
            return Priority(int(value)).label
        if name == "rating" and value.isdigit():
            return Rating(int(value)).label
        if name == "private":
            return "yes" if value == "true" else "no"
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
            actor=change.actor.name if change.actor else "System",
            action=KIND_LABELS.get(change.kind, change.kind),
        )
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
    return csvexport.lines(_csv_rows(ticket, wf))


def _csv_rows(ticket: Ticket, wf: Workflow) -> Iterator[tuple]:
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
        .options(selectinload(Change.fields), selectinload(Change.actor))
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
