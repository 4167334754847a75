"""How a ticket's views read the ticket (or file) they are about: only if the viewer may
see it, with what their answer shows of it, and for the views marked so, in the sign-in's
statement (one statement less for every action on a ticket)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload

from .. import accounts, current, services
from ..extensions import db
from ..htmx import is_htmx
from ..models import Attachment, Ticket
from ..visibility import visible_to, visible_to_id

# What a ticket's page shows of what it refers to, loaded with it: its assignee, site,
# type and author. An action answered with the list's row, or with a comment's or a
# file's entry, needs none: the row names its site and assignee from what the worker
# keeps (RowKit.site_name, RowKit.assignee_name in webapp/rows.py).
SHOWN = (
    joinedload(Ticket.assignee), joinedload(Ticket.site),
    joinedload(Ticket.ticket_type), joinedload(Ticket.author),
)  # fmt: skip
# And what else the page shows of the ticket: its files.
PAGE = (*SHOWN, joinedload(Ticket.files))


def visible(ticket_id: int, *, row: bool = False, files: bool = False) -> Ticket:
    """The ticket, if the current user may see it; a 404 otherwise, whether or not it exists.
    ``row``: with only what its list row shows, for an answer that shows no more (the
    row; a comment's or a file's entry); ``files``: with its files. Read with the sign-in
    if the view is marked so (``with_sign_in``) for the same ``row`` and ``files``."""
    found, ticket = accounts.read_with_sign_in(_joined(ticket_id, row, files))
    if not found:
        viewer = current.user()
        query = _visible_query(viewer.is_staff, row, files)
        params = {"ticket": ticket_id, "viewer": viewer.id}
        ticket = db.session.scalars(query, params).unique().first()
    if ticket is None:
        abort(404)
    return ticket


def with_linked(ticket_id: int) -> tuple[Ticket, list[Ticket]]:
    """The ticket, with what its page shows of it, and the tickets linked to it (its
    duplicates and children) that the current user may see, in one statement; a 404 if
    they may not see the ticket, whether or not it exists."""
    viewer = current.user()
    params = {"ticket": ticket_id, "viewer": viewer.id}
    found = db.session.scalars(_linked_query(viewer.is_staff), params).all()
    ticket = next((t for t in found if t.id == ticket_id), None)
    if ticket is None:
        abort(404)
    return ticket, [t for t in found if t is not ticket]


def with_sign_in(*, row: bool | Callable[[], bool] = False, files: bool = False):
    """Mark a view whose ticket (``ticket_id``) is read with the request's sign-in, as
    ``visible`` reads it with ``row`` (or what ``row()`` says of the request) and
    ``files``. Should the view ask ``visible`` for another shape, it reads the ticket
    itself: a statement more, never a wrong answer."""

    def mark(view):
        def wanted(ticket_id: int, **_: Any) -> accounts.WithSignIn:
            return _joined(ticket_id, row() if callable(row) else row, files)

        view.read_with_sign_in = wanted
        return view

    return mark


def visible_file(attachment_id: int) -> Attachment:
    """A file (not removed) of a ticket the viewer may see, with its ticket and the
    ticket's files, as ``services.visible_attachment`` reads it; NotFound otherwise. Read
    with the sign-in if the view is marked so (``file_with_sign_in``)."""
    found, attachment = accounts.read_with_sign_in(_file_joined(attachment_id))
    if not found:
        return services.visible_attachment(current.user(), attachment_id, with_ticket=True)
    return services.found_attachment(attachment)


def file_with_sign_in(view):
    """Mark a view whose file (``attachment_id``) is read with the request's sign-in, as
    ``visible_file`` reads it."""
    view.read_with_sign_in = lambda attachment_id, **_: _file_joined(attachment_id)
    return view


def as_row() -> bool:
    """Whether this is an htmx action from a list's row, answered with the row."""
    return is_htmx() and current.request().args.get("as") == "row"


def _joined(ticket_id: int, row: bool, files: bool) -> accounts.WithSignIn:
    return accounts.WithSignIn(_joining(row, files), (("ticket", ticket_id),), joins_many=files)


@functools.cache
def _joining(row: bool, files: bool) -> Callable:
    """How ``_visible_query``'s ticket joins the sign-in's query: by the same rule, the
    viewer's role found by the database."""

    def extend(query: sa.Select, viewer: Any, staff_groups: tuple[str, ...]) -> sa.Select:
        seen = sa.and_(Ticket.id == sa.bindparam("ticket"), visible_to_id(viewer, staff_groups))
        return query.add_columns(Ticket).outerjoin(Ticket, seen).options(*_loaded(row, files))

    return extend


def _file_joined(attachment_id: int) -> accounts.WithSignIn:
    return accounts.WithSignIn(_joining_file, (("attachment", attachment_id),), joins_many=True)


def _joining_file(query: sa.Select, viewer: Any, staff_groups: tuple[str, ...]) -> sa.Select:
    """How ``services.visible_attachment``'s file joins the sign-in's query: by the same
    rule, the viewer's role found by the database."""
    seen = services.attachment_seen(visible_to_id(viewer, staff_groups))
    joined = sa.and_(Attachment.id == sa.bindparam("attachment"), seen)
    # Its uploader outer-joined too, as the file is: no file, and the sign-in still has its row.
    uploader = joinedload(Attachment.uploader, innerjoin=False)
    return (
        query.add_columns(Attachment)
        .outerjoin(Attachment, joined)
        .options(uploader, *services.ATTACHMENT_WITH_TICKET)
    )


@functools.cache
def _visible_query(staff: bool, row: bool, files: bool) -> sa.Select:
    """Built once per process, role and use, run with bound parameters: building it cost
    about as much as running it."""
    viewer = sa.bindparam("viewer")
    return (
        sa.select(Ticket)
        .where(Ticket.id == sa.bindparam("ticket"), visible_to(viewer, staff=staff))
        .options(*_loaded(row, files))
    )


@functools.cache
def _linked_query(staff: bool) -> sa.Select:
    """Built once per process and role, run with bound parameters, as ``_visible_query``."""
    ticket = sa.bindparam("ticket")
    linked = sa.or_(
        Ticket.id == ticket, Ticket.duplicate_of_id == ticket, Ticket.parent_id == ticket
    )
    return (
        sa.select(Ticket)
        .where(linked, visible_to(sa.bindparam("viewer"), staff=staff))
        .options(*SHOWN)
        .order_by(Ticket.id)
    )


def _loaded(row: bool, files: bool) -> tuple:
    return (*(() if row else SHOWN), *([joinedload(Ticket.files)] if files else []))
