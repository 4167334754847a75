"""What the landing page shows each kind of user: the ticket lists that fit their role."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from . import listing
from .i18n import gettext as _
from .models import Ticket, User
from .rows import name_assignees
from .services import current_workflow
from .workflow import Workflow

PANEL_ROWS = 15


@dataclass
class Panel:
    key: str
    title: str
    empty: str
    count: int  # up to listing.COUNT_CAP + 1, as the lists count ("1,000+")
    tickets: list[Ticket]


def panels_for(user: User) -> list[Panel]:
    wf = current_workflow()
    mine = (
        "mine",
        _("Your open tickets"),
        _("You have no open tickets."),
        lambda: (
            sa.and_(Ticket.author_id == user.id, listing.active(wf)),
            (Ticket.modified.desc(),),
        ),
    )
    done = (
        "done",
        _("Your recently finished tickets"),
        _("None of your tickets is finished yet."),
        lambda: (
            sa.and_(Ticket.author_id == user.id, sa.not_(listing.active(wf))),
            (Ticket.modified.desc(),),
        ),
    )
    if not user.is_staff:
        specs = [mine, done]
    else:
        specs = [
            (
                "work",
                _("Assigned to you"),
                _("Nothing is assigned to you."),
                lambda: (
                    sa.and_(Ticket.assignee_id == user.id, listing.active(wf)),
                    (Ticket.priority.desc(), Ticket.modified.desc(), Ticket.id.desc()),
                ),
            ),
            (
                "triage",
                _("To triage"),
                _("Every new ticket has been triaged."),
                lambda: (Ticket.state == wf.initial, (Ticket.priority.desc(), Ticket.id.desc())),
            ),
            mine,
        ]
    panels = [_panel(user, wf, *spec) for spec in specs]
    name_assignees([t for panel in panels for t in panel.tickets])
    return panels


def _panel(user: User, wf: Workflow, key: str, title: str, empty: str, asked) -> Panel:
    """Each panel's order is one an index gives (the tabs' orders, and
    ix_tickets_author_modified). Counted whole, as before, the "To triage" panel read all
    125,000 new tickets of a million (0.5 s). ``asked`` gives its condition and order,
    built only when the panel's statement is not kept (``listing.first``)."""
    count, tickets = listing.first(user, ("panel", key, wf.name), asked, PANEL_ROWS)
    return Panel(key, title, empty, count, tickets)
