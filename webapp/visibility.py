"""The one rule for who may see which ticket. Every page, list, count and export asks it."""

from __future__ import annotations

import sqlalchemy as sa

from .models import Ticket, User


def visible_tickets(user: User) -> sa.ColumnElement[bool]:
    """A WHERE clause for the tickets ``user`` may see."""
    if user.is_staff:
        return sa.true()
    return sa.or_(Ticket.author_id == user.id, Ticket.assignee_id == user.id)


def can_see(user: User, ticket: Ticket) -> bool:
    """The same rule as ``visible_tickets``, for one loaded ticket."""
    return user.is_staff or user.id in (ticket.author_id, ticket.assignee_id)
