"""The one rule for who may see which ticket. Every page, list, count, search and export
asks it: staff see every ticket; others see their own, those assigned to them, and the
tickets that are not private on the sites they are subscribed to. Nobody sees a deleted
ticket."""

from __future__ import annotations

import sqlalchemy as sa

from . import current
from .models import Group, Subscription, Ticket, User, user_groups


def staff_groups() -> tuple[str, ...]:
    """The groups whose members are staff (the admins are staff too)."""
    config = current.config()
    return (config["STAFF_GROUP"], config["ADMIN_GROUP"])


def visible_tickets(user: User) -> sa.ColumnElement[bool]:
    """A WHERE clause for the tickets ``user`` may see (never a deleted one)."""
    return visible_to(user.id, staff=user.is_staff)


def visible_to(user_id, *, staff: bool) -> sa.ColumnElement[bool]:
    """The same, for a user known by id (a value or a bound parameter) and role."""
    present = Ticket.deleted.is_(None)
    if staff:
        return present
    subscribed = sa.select(Subscription.site_id).where(Subscription.user_id == user_id)
    return sa.and_(
        present,
        sa.or_(
            Ticket.author_id == user_id,
            Ticket.assignee_id == user_id,
            sa.and_(Ticket.private.is_(False), Ticket.site_id.in_(subscribed)),
        ),
    )


def visible_to_id(user_id, staff_groups: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """The same rule as ``visible_tickets`` for a user known only by id (a value or a bound
    parameter), whose role the database finds out (members of ``staff_groups`` are staff):
    for a query that loads the user and something they may see in one statement."""
    staff = sa.exists(
        sa.select(user_groups.c.user_id)
        .join(Group, Group.id == user_groups.c.group_id)
        .where(user_groups.c.user_id == user_id, named(staff_groups))
        .correlate(None)  # the user's groups, even in a query that reads them (the sign-in)
    )
    return sa.or_(sa.and_(staff, visible_to(user_id, staff=True)), visible_to(user_id, staff=False))


def who_sees(people, site_id, staff_groups: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """The same rule as ``can_see``, as a condition on users, for a ticket that is not
    deleted: its ``people`` (author and assignee), the members of ``staff_groups`` (staff)
    and, unless ``site_id`` is None (no site, or a private ticket), the site's subscribers.
    For a query over many people at once; the values may be bound parameters."""
    sees = [User.id.in_(people), in_groups(*staff_groups)]
    if site_id is not None:
        sees.append(subscribed_to(site_id))
    return sa.or_(*sees)


def in_groups(*names: str) -> sa.ColumnElement[bool]:
    """A condition on users: a member of one of the groups ``names``."""
    return User.id.in_(
        sa.select(user_groups.c.user_id)
        .join(Group, Group.id == user_groups.c.group_id)
        .where(named(names))
    )


def named(names: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """A condition on groups: one of ``names`` (settings, not input). Spelled as equalities
    rather than an IN list, which SQLAlchemy would expand anew on every run of a statement
    built once (the sign-in's and the notifications' run on every request and change)."""
    return sa.or_(*(Group.name == name for name in names))


def subscribed_to(site_id: int) -> sa.ColumnElement[bool]:
    """A condition on users: subscribed to the site."""
    return User.id.in_(sa.select(Subscription.user_id).where(Subscription.site_id == site_id))


def can_see(user: User, ticket: Ticket) -> bool:
    """The same rule as ``visible_tickets``, for one loaded ticket."""
    if ticket.deleted is not None:
        return False
    if user.is_staff or user.id in (ticket.author_id, ticket.assignee_id):
        return True
    return not ticket.private and ticket.site_id in subscribed_site_ids(user)


def subscribed_site_ids(user: User) -> set[int]:
    return {s.site_id for s in user.subscriptions}
