"""Tickets through the API: the list (the list page's tabs, filters and cursor), one
ticket, report, update (optimistic: the version in the body or ``If-Match``), take, steal,
assign, change state, comments and the change monitor. Each call is one service call, as
on the pages."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import abort, g, request, url_for
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .. import accounts, listing, services, timeline
from ..exceptions import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import Comment, Site, Ticket, TicketType, User
from ..routing import is_id
from ..visibility import visible_tickets
from . import bp

PAGE_LIMIT = 100
NULLABLE = {"deadline", "site_id", "type_id", "ref"}
EDITABLE = {
    "summary": str, "description": str, "priority": int, "private": bool,
    "end_user_name": str, "end_user_email": str, "waiting_for": str, "upgrade_notes": str,
    "ref": str, "deadline": str, "site_id": int, "type_id": int,
}  # fmt: skip
# What a report may say; the rest (deadline, reference...) is set by an update afterwards.
CREATABLE = {"summary", "description", "priority", "private", "end_user_name",
             "end_user_email", "site_id", "type_id"}  # fmt: skip


def ticket_json(t: Ticket) -> dict[str, Any]:
    wf = services.current_workflow()
    return {
        "id": t.id,
        "url": url_for("tickets.detail", ticket_id=t.id, _external=True),
        "summary": t.summary,
        "description": t.description,
        "state": t.state,
        "state_label": str(wf.describe(t.state).label),
        "priority": t.priority,
        "private": t.private,
        "author": t.author.username,
        "assignee": t.assignee.username if t.assignee else None,
        "site_id": t.site_id,
        "type_id": t.ticket_type_id,
        "deadline": t.deadline.isoformat() if t.deadline else None,
        "waiting_for": t.waiting_for,
        "ref": t.ref,
        "rating": t.rating,
        "created": t.created.isoformat(),
        "modified": t.modified.isoformat(),
        "version": t.version,
    }


@bp.get("/tickets")
def list_tickets():
    user, wf = g.api_user, services.current_workflow()
    view = listing.View.from_args(request.args, user, wf)
    if view.errors:
        raise Invalid(_("Some of the list's parameters are not valid."), fields=view.errors)
    size = request.args.get("limit", "")
    if size and not (size.isdigit() and 1 <= int(size) <= PAGE_LIMIT):
        raise Invalid(_("limit must be between 1 and %(n)d.", n=PAGE_LIMIT), fields={"limit": ""})
    found = listing.page(user, wf, view, size=int(size) if size else None)
    _people_of(found.tickets)
    after = view.args(after=found.next_after).get("after") if found.next_after else None
    return {"items": [ticket_json(t) for t in found.tickets], "next_after": after}


def _people_of(tickets: list[Ticket]) -> None:
    """Give the tickets their authors and assignees, read in one statement: a list's
    rows do not load them, and each would ask for its own."""
    ids = ({t.author_id for t in tickets} | {t.assignee_id for t in tickets}) - {None}
    if ids:
        people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
        for ticket in tickets:
            set_committed_value(ticket, "author", people[ticket.author_id])
            set_committed_value(ticket, "assignee", people.get(ticket.assignee_id))


@bp.get("/tickets/<int:ticket_id>")
def get_ticket(ticket_id: int):
    return ticket_json(_visible(ticket_id))


@bp.post("/tickets")
def create_ticket():
    values = _values(_body(), allowed=CREATABLE, required=("summary", "description"))
    ticket = services.create_ticket(actor=g.api_user, **values)
    return ticket_json(ticket), 201, {"Location": url_for(".get_ticket", ticket_id=ticket.id)}


@bp.patch("/tickets/<int:ticket_id>")
def update_ticket(ticket_id: int):
    ticket = _visible(ticket_id)
    body = _body()
    version = body.pop("version", None) or request.headers.get("If-Match", "").strip('"W/ ')
    if not str(version).isdigit():
        raise Invalid(
            _("Say which version you changed: 'version' in the body or an If-Match header."),
            fields={"version": _("Give the ticket's version.")},
        )
    # A clash with changes made since that version is a 409 naming the fields (StaleEdit).
    services.edit(actor=g.api_user, ticket=ticket, version=int(version), **_values(body))
    return ticket_json(ticket)


@bp.post("/tickets/<int:ticket_id>/take")
def take(ticket_id: int):
    ticket = _visible(ticket_id)
    services.take(actor=g.api_user, ticket=ticket)
    return ticket_json(ticket)


@bp.post("/tickets/<int:ticket_id>/steal")
def steal(ticket_id: int):
    ticket = _visible(ticket_id)
    services.steal(actor=g.api_user, ticket=ticket)
    return ticket_json(ticket)


@bp.post("/tickets/<int:ticket_id>/assign")
def assign(ticket_id: int):
    ticket = _visible(ticket_id)
    body = _body()
    if "user_id" not in body or not (body["user_id"] is None or is_id(body["user_id"])):
        raise Invalid(_("Give user_id: a staff member's id, or null for nobody."),
                      fields={"user_id": _("A number or null.")})  # fmt: skip
    assignee = None
    if body["user_id"] is not None:
        assignee = accounts.assignee(body["user_id"])
        if assignee is None:
            raise Invalid(_("There is no such user."), fields={"user_id": _("Unknown user.")})
    services.assign(actor=g.api_user, ticket=ticket, assignee=assignee)
    return ticket_json(ticket)


@bp.post("/tickets/<int:ticket_id>/state")
def change_state(ticket_id: int):
    ticket = _visible(ticket_id)
    state = _body().get("state")
    if not isinstance(state, str):
        raise Invalid(_("Give the state to move to."), fields={"state": _("Unknown state.")})
    services.change_state(actor=g.api_user, ticket=ticket, state=state)
    return ticket_json(ticket)


@bp.get("/tickets/<int:ticket_id>/comments")
def list_comments(ticket_id: int):
    ticket = _visible(ticket_id)
    return {"items": [comment_json(c) for c in ticket.comments]}


@bp.post("/tickets/<int:ticket_id>/comments")
def add_comment(ticket_id: int):
    ticket = _visible(ticket_id)
    body = _body().get("body")
    if not isinstance(body, str):
        raise Invalid(_("A comment cannot be empty."), fields={"body": _("Write something.")})
    change = services.comment(actor=g.api_user, ticket=ticket, body=body)
    return comment_json(change.comment), 201


@bp.get("/tickets/<int:ticket_id>/changes")
def changes(ticket_id: int):
    """The change monitor: the same rows as the CSV download."""
    ticket = _visible(ticket_id)
    services.require_monitor_download(g.api_user, ticket)
    header, *rows = timeline.monitor_rows(ticket, services.current_workflow())
    return {"items": [dict(zip(header, row, strict=True)) for row in rows]}


def comment_json(c: Comment) -> dict[str, Any]:
    return {
        "id": c.id,
        "author": c.author.username,
        "body": c.body,
        "created": c.created.isoformat(),
        "edited": c.edited.isoformat() if c.edited else None,
    }


def _visible(ticket_id: int) -> Ticket:
    ticket = db.session.scalar(
        sa.select(Ticket)
        .where(Ticket.id == ticket_id, visible_tickets(g.api_user))
        .options(joinedload(Ticket.author), joinedload(Ticket.assignee))  # what ticket_json names
    )
    if ticket is None:
        abort(404)
    return ticket


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, _("Send a JSON object (Content-Type: application/json)."))
    return body


def _values(
    body: dict[str, Any], allowed: Collection[str] = EDITABLE, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The body's ticket fields as the services take them; wrong names or types are 422."""
    errors = {name: _("Required.") for name in required if name not in body}
    values: dict[str, Any] = {}
    for name, value in body.items():
        kind = EDITABLE.get(name) if name in allowed else None
        if kind is None:
            errors[name] = _("Unknown field.")
        elif value is None and name not in NULLABLE:
            errors[name] = _("Wrong type.")
        elif value is not None and (
            not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool)
        ):
            errors[name] = _("Wrong type.")
        else:
            values[name] = value
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    if "site_id" in values:
        values["site"] = _find(Site, values.pop("site_id"), "site_id")
    if "type_id" in values:
        values["ticket_type"] = _find(TicketType, values.pop("type_id"), "type_id")
    if "deadline" in values and values["deadline"] is not None:
        values["deadline"] = _date(values["deadline"])
    return values


def _find(model, key: int | None, field: str):
    if key is None:
        return None
    found = db.session.get(model, key) if is_id(key) else None
    if found is None:
        raise Invalid(_("Please correct the marked fields."), fields={field: _("Unknown.")})
    return found


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(
            _("Please correct the marked fields."), fields={"deadline": _("Give a date.")}
        ) from None
