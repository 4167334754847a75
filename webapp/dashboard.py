"""What the landing page shows each kind of user: the ticket lists that fit their role."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Ticket, User
from .services import current_workflow
from .visibility import visible_tickets

PANEL_ROWS = 15


@dataclass
class Panel:
    key: str
    title: str
    empty: str
    count: int
    tickets: list[Ticket]


def panels_for(user: User) -> list[Panel]:
    wf = current_workflow()
    active = Ticket.state.in_(wf.active_states)
    by_priority = (Ticket.priority.desc(), Ticket.id.desc())
    mine = (
        "mine",
        _("Your open tickets"),
        _("You have no open tickets."),
        sa.and_(Ticket.author_id == user.id, active),
        (Ticket.modified.desc(),),
    )
    done = (
        "done",
        _("Your recently finished tickets"),
        _("None of your tickets is finished yet."),
        sa.and_(Ticket.author_id == user.id, sa.not_(active)),
        (Ticket.modified.desc(),),
    )
    if not user.is_staff:
        specs = [mine, done]
    else:
        specs = [
            (
                "work",
                _("Assigned to you"),
                _("Nothing is assigned to you."),
                sa.and_(Ticket.assignee_id == user.id, active),
                by_priority,
            ),
            (
                "triage",
                _("To triage"),
                _("Every new ticket has been triaged."),
                Ticket.state == wf.initial,
                by_priority,
            ),
            mine,
        ]
    return [_panel(user, *spec) for spec in specs]


def _panel(user: User, key: str, title: str, empty: str, where, order) -> Panel:
    """The panel's first rows and, counted over all of its tickets (a window over the
    whole match, before the LIMIT), how many there are: one statement."""
    where = sa.and_(visible_tickets(user), where)
    rows = db.session.execute(
        sa.select(Ticket, sa.func.count().over())
        .where(where)
        .options(
            joinedload(Ticket.assignee), joinedload(Ticket.site), joinedload(Ticket.ticket_type)
        )
        .order_by(*order)
        .limit(PANEL_ROWS)
    ).all()
    return Panel(key, title, empty, rows[0][1] if rows else 0, [row[0] for row in rows])
