"""The one door for every ticket write. Each function checks permission and workflow,
computes what really changed, records it in the change monitor, applies it and commits.
Views, the CLI and the tests all call these; none of them writes a ticket itself."""

from __future__ import annotations

from typing import Any

from flask import current_app

from . import monitor
from .exceptions import Forbidden, Invalid, NotFound
from .extensions import db
from .models import Change, Comment, Priority, Site, Ticket, TicketType, User, utcnow
from .visibility import can_see
from .workflow import WORKFLOWS, Workflow, may_move

SUMMARY_MAX = 250


def current_workflow() -> Workflow:
    return WORKFLOWS[current_app.config["WORKFLOW"]]


def create_ticket(
    *,
    actor: User,
    summary: str,
    description: str = "",
    site: Site | None = None,
    ticket_type: TicketType | None = None,
    priority: Priority = Priority.NORMAL,
    private: bool = False,
    end_user_name: str = "",
    end_user_email: str = "",
) -> Ticket:
    """Report a ticket; the actor is its author for good."""
    summary = summary.strip()
    if not summary:
        raise Invalid("A ticket needs a summary.", fields={"summary": "Say what the problem is."})
    if len(summary) > SUMMARY_MAX:
        raise Invalid("The summary is too long.", fields={"summary": "At most 250 characters."})
    if (end_user_name or end_user_email) and not actor.is_staff:
        raise Forbidden("Only staff can report a ticket on behalf of someone else.")
    ticket = Ticket(
        summary=summary,
        description=description,
        author=actor,
        site=site,
        ticket_type=ticket_type,
        reporting_type=ticket_type.reporting_type if ticket_type else None,
        state=current_workflow().initial,
        priority=int(priority),
        private=private,
        end_user_name=end_user_name.strip(),
        end_user_email=end_user_email.strip(),
        created=utcnow(),
    )
    initial = {
        name: (None, getattr(ticket, name))
        for name in (
            "summary",
            "description",
            "author",
            "site",
            "ticket_type",
            "state",
            "priority",
            "private",
            "end_user_name",
            "end_user_email",
        )
        if getattr(ticket, name) not in (None, "", False)
    }
    db.session.add(ticket)
    monitor.record(db.session, ticket, actor=actor, kind="created", fields=initial)
    db.session.commit()
    return ticket


def change_state(*, actor: User, ticket: Ticket, state: str) -> Change:
    """Move the ticket to another state of the workflow, if the actor may."""
    _require_visible(actor, ticket)
    wf = current_workflow()
    if not wf.has_state(state):
        raise Invalid(f"There is no state {state!r}.", fields={"state": "Unknown state."})
    staff, author = actor.is_staff, actor.id == ticket.author_id
    if not may_move(wf, ticket.state, state, staff=staff, author=author):
        raise Forbidden(
            f"You cannot move this ticket from {wf.state(ticket.state).label} "
            f"to {wf.state(state).label}."
        )
    return _apply(actor, ticket, "state", {"state": state})


def assign(*, actor: User, ticket: Ticket, assignee: User | None) -> Change:
    """Give the ticket to a staff member, or to nobody (staff only)."""
    _require_visible(actor, ticket)
    if not actor.is_staff:
        raise Forbidden("Only staff can assign tickets.")
    if assignee is not None and not (assignee.is_staff and assignee.active):
        raise Invalid(
            f"{assignee.name} is not an active staff member.",
            fields={"user": "Choose a staff member."},
        )
    return _apply(actor, ticket, "assigned", {"assignee": assignee})


def comment(*, actor: User, ticket: Ticket, body: str) -> Comment:
    """Add a comment; everyone who may see the ticket may comment on it."""
    _require_visible(actor, ticket)
    body = body.strip()
    if not body:
        raise Invalid("A comment cannot be empty.", fields={"body": "Write something."})
    note = Comment(ticket=ticket, author=actor, body=body, created=utcnow())
    db.session.add(note)
    fields = {"comment": (None, body)}
    fields.update(monitor.diff(ticket, {"last_commenter": actor}))
    monitor.record(db.session, ticket, actor=actor, kind="comment", fields=fields, comment=note)
    ticket.last_commenter = actor
    db.session.commit()
    return note


def _apply(actor: User, ticket: Ticket, kind: str, values: dict[str, Any]) -> Change | None:
    """Record and set the values that really change; None when nothing does."""
    fields = monitor.diff(ticket, values)
    if not fields:
        return None
    change = monitor.record(db.session, ticket, actor=actor, kind=kind, fields=fields)
    for name, (_, new) in fields.items():
        setattr(ticket, name, new)
    db.session.commit()
    return change


def _require_visible(actor: User, ticket: Ticket) -> None:
    if not can_see(actor, ticket):
        raise NotFound("There is no such ticket, or you may not see it.")
