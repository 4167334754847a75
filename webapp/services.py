"""The one door for every ticket write. Each function checks permission and workflow,
computes what really changed, records it in the change monitor, applies it and commits.
Views, the CLI and the tests all call these; none of them writes a ticket itself.

Every write is optimistically locked on the ticket's version. When someone else's write
lands first, the whole function runs again on fresh data, so its checks see what really
is: a second "take" finds the ticket taken and says by whom, a second identical state
change becomes a no-op, and two comments posted at once both land.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any, ParamSpec, Protocol, TypeVar

import sqlalchemy as sa
from flask import current_app
from flask_babel import LazyString, format_number
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import attachments, current, monitor
from .exceptions import Conflict, DomainError, Forbidden, Invalid, NotFound, StaleEdit
from .extensions import db
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import (
    Attachment,
    Change,
    Comment,
    Priority,
    Rating,
    Site,
    Ticket,
    TicketType,
    User,
    utcnow,
)
from .visibility import can_see, subscribed_site_ids, visible_tickets
from .workflow import (
    WORKFLOWS,
    State,
    Workflow,
    claims,
    may_move,
    next_states,
    state_after_take,
)

P = ParamSpec("P")
R = TypeVar("R")

ATTEMPTS = 3
MIN_DESCRIPTION_WORDS = 3
# What an author may change on their own active ticket; staff may change more.
AUTHOR_FIELDS = ("summary", "description", "site", "ticket_type", "priority", "private")
STAFF_FIELDS = AUTHOR_FIELDS + (
    "end_user_name", "end_user_email", "deadline", "waiting_for", "upgrade_notes", "ref",
    "reporting_type",
)  # fmt: skip
TEXT_LIMITS = {
    "summary": 250, "end_user_name": 200, "end_user_email": 254, "waiting_for": 200,
    "ref": 200, "description": 100_000, "upgrade_notes": 100_000, "body": 100_000,
}  # fmt: skip


def current_workflow() -> Workflow:
    return WORKFLOWS[current.config()["WORKFLOW"]]


def unit_of_work(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a service as one transaction: commit on success, roll back on a refusal, and
    run again on fresh data when a concurrent write made the ticket stale. The run again
    holds the ticket's row lock from its first read (on SQLite, SELECT ... FOR UPDATE
    takes the database's write lock), so it cannot lose to another write however busy
    the ticket is: sixteen people commenting on one ticket at once all land."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(ATTEMPTS):
            try:
                if attempt:
                    _lock_tickets([*args, *kwargs.values()])
                result = fn(*args, **kwargs)
                commit_keeping_state()
                return result
            except StaleDataError:
                db.session.rollback()
            except DomainError:
                db.session.rollback()
                raise
        raise Conflict(_("This ticket is changing very quickly right now. Please try again."))

    return run


def _lock_tickets(arguments: list[Any]) -> None:
    """Reload the tickets a service was given (or its comment's or file's ticket) with
    their rows locked until the transaction ends, in the order of their ids."""
    tickets = {a if isinstance(a, Ticket) else a.ticket for a in arguments
               if isinstance(a, Ticket | Comment | Attachment)}  # fmt: skip
    if not tickets:
        return
    ids = sorted(t.id for t in tickets)
    db.session.execute(sa.select(Ticket.id).where(Ticket.id.in_(ids)).order_by(Ticket.id)
                       .with_for_update())  # fmt: skip
    for ticket in tickets:
        db.session.refresh(ticket)  # as it is now that no one else can change it


def commit_keeping_state() -> None:
    """Commit without expiring what the session holds: the objects are as this very
    transaction wrote them, so the answer that shows them need not read them again."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@unit_of_work
def create_ticket(
    *,
    actor: User,
    summary: str,
    description: str,
    site: Site | None = None,
    ticket_type: TicketType | None = None,
    priority: Priority | int = Priority.NORMAL,
    private: bool = False,
    end_user_name: str = "",
    end_user_email: str = "",
) -> Ticket:
    """Report a ticket; the actor is its author for good."""
    if (end_user_name or end_user_email) and not actor.is_staff:
        raise Forbidden(_("Only staff can report a ticket on behalf of someone else."))
    return _new_ticket(
        actor,
        summary=summary,
        description=description,
        site=site,
        ticket_type=ticket_type,
        priority=priority,
        private=private,
        end_user_name=end_user_name,
        end_user_email=end_user_email,
    )


@unit_of_work
def spawn_child(*, actor: User, parent: Ticket, summary: str, description: str) -> Ticket:
    """A new ticket whose parent is this one, on the same site (Lino's "spawn child")."""
    _require_visible(actor, parent)
    if not (actor.is_staff or actor.id == parent.author_id):
        raise Forbidden(_("Only staff and the ticket's author can spawn child tickets."))
    with monitor.together(db.session):
        child = _new_ticket(
            actor, summary=summary, description=description, site=parent.site, parent=parent
        )
        fields = {"child": (None, child)}
        monitor.record(db.session, parent, actor=actor, kind="child", fields=fields)
    return child


def _new_ticket(actor: User, *, parent: Ticket | None = None, **given: Any) -> Ticket:
    _check_site(actor, given.get("site"))
    values = _clean(**given)
    ticket_type = values.get("ticket_type")
    now = utcnow()
    ticket = Ticket(
        author=actor,
        state=current_workflow().initial,
        reporting_type=ticket_type.reporting_type if ticket_type else None,
        parent=parent,
        created=now,
        state_since=now,
        **values,
    )
    initial = {"author": actor, "state": ticket.state, "parent": parent, **values}
    fields = {k: (None, v) for k, v in initial.items() if v not in (None, "", False)}
    db.session.add(ticket)
    monitor.record(db.session, ticket, actor=actor, kind="created", fields=fields, at=now)
    return ticket


@unit_of_work
def mark_duplicate(*, actor: User, ticket: Ticket, original: Ticket | None) -> Change | None:
    """Say this ticket reports the same problem as an earlier one (or, with None, that it
    does not). Each keeps its own state; the chain of originals ends at the root."""
    _require_staff(actor, ticket, _l("Only staff can mark duplicates."))
    if original is not None:
        _require_visible(actor, original)
        if original.id == ticket.id:
            raise Invalid(_("A ticket cannot be a duplicate of itself."))
        if original.id > ticket.id:
            raise Invalid(
                _(
                    "#%(original)d is newer than #%(ticket)d: mark the newer ticket as the "
                    "duplicate of the older one.",
                    original=original.id, ticket=ticket.id,
                )
            )  # fmt: skip
        node: Ticket | None = original
        while node is not None:  # numbers fall along the chain, but a cycle must never be
            if node.id == ticket.id:
                raise Invalid(
                    _("#%(original)d is already a duplicate of #%(ticket)d.",
                      original=original.id, ticket=ticket.id)
                )  # fmt: skip
            node = node.duplicate_of
    return _apply(actor, ticket, "duplicate", {"duplicate_of": original})


@unit_of_work
def edit(*, actor: User, ticket: Ticket, version: int, **values: Any) -> Change | None:
    """Change a ticket's fields. ``version`` is the version the editor saw: changes made
    since then to the same fields are never overwritten (a ``StaleEdit`` says what they
    were); changes to other fields are kept alongside."""
    _require_visible(actor, ticket)
    allowed = _editable_fields(actor, ticket)
    refused = sorted(set(values) - set(allowed))
    if refused:
        raise Forbidden(
            _("You cannot change %(fields)s of this ticket.", fields=", ".join(refused))
        )
    changed = monitor.diff(ticket, _clean(**values))
    if "site" in changed:
        _check_site(actor, changed["site"][1])
    if version < ticket.version:  # no change is newer than the ticket's own version
        since = db.session.scalars(
            sa.select(Change)
            .where(Change.ticket_id == ticket.id, Change.version > max(version, 0))
            .order_by(Change.id)
        ).all()
        clash = set(changed) & {f.field for c in since for f in c.fields}
        if clash:
            raise StaleEdit(
                _(
                    "Someone changed these fields since the version you edited, so nothing "
                    "was saved. Look at their changes, then try again."
                ),
                changes=list(since),
                fields={name: _("Changed by someone else meanwhile.") for name in clash},
            )
    return _apply(actor, ticket, "edited", {k: new for k, (_old, new) in changed.items()})


@unit_of_work
def take(*, actor: User, ticket: Ticket) -> Change:
    """Make an unassigned ticket the actor's; a new ticket moves on as the workflow says."""
    _require_staff(actor, ticket, _l("Only staff can take tickets."))
    if ticket.assignee_id is not None:
        if ticket.assignee_id == actor.id:
            raise Conflict(_("This ticket is yours already."))
        raise Conflict(_("%(name)s has taken this ticket.", name=ticket.assignee.name))
    values: dict[str, Any] = {"assignee": actor}
    values["state"] = state_after_take(current_workflow(), ticket.state)
    return _apply(actor, ticket, "take", values)


@unit_of_work
def steal(*, actor: User, ticket: Ticket) -> Change:
    """Take a ticket that someone else has: a deliberate act, recorded as such."""
    _require_staff(actor, ticket, _l("Only staff can take tickets."))
    if ticket.assignee_id is None:
        raise Conflict(_("Nobody has this ticket: take it instead."))
    if ticket.assignee_id == actor.id:
        raise Conflict(_("This ticket is yours already."))
    return _apply(actor, ticket, "steal", {"assignee": actor})


@unit_of_work
def assign(*, actor: User, ticket: Ticket, assignee: User | None) -> Change | None:
    """Give the ticket to a staff member, or to nobody."""
    _require_staff(actor, ticket, _l("Only staff can assign tickets."))
    if assignee is not None and not (assignee.is_staff and assignee.active):
        raise Invalid(
            _("%(name)s is not an active staff member.", name=assignee.name),
            fields={"user": _("Choose a staff member.")},
        )
    kind = "assign" if assignee is not None else "unassign"
    return _apply(actor, ticket, kind, {"assignee": assignee})


@unit_of_work
def change_state(*, actor: User, ticket: Ticket, state: str) -> Change | None:
    """Move the ticket to another state of the workflow, if the actor may."""
    _require_visible(actor, ticket)
    wf = current_workflow()
    if not wf.has_state(state):
        raise Invalid(
            _("There is no state %(state)r.", state=state), fields={"state": _("Unknown state.")}
        )
    if state == ticket.state:
        return None
    staff, author = actor.is_staff, actor.id == ticket.author_id
    if not may_move(wf, ticket.state, state, staff=staff, author=author):
        raise Forbidden(
            _(
                "You cannot move this ticket from %(old)s to %(new)s.",
                old=wf.describe(ticket.state).label,
                new=wf.state(state).label,
            )  # fmt: skip
        )
    values: dict[str, Any] = {"state": state}
    if claims(wf, ticket.state, staff=staff, assigned=ticket.assignee_id is not None):
        values["assignee"] = actor
    return _apply(actor, ticket, "state", values)


def comment(
    *, actor: User, ticket: Ticket, body: str, files: Sequence[IncomingFile] = ()
) -> Change:
    """Add a comment (the change's ``comment``), with files if given; everyone who may see
    a ticket may. The comment and its files are saved together or not at all."""
    _require_visible(actor, ticket)
    stored = _store_files(files)
    return _or_discard(stored, lambda: _comment(actor, ticket, body, stored))


@unit_of_work
def _comment(actor: User, ticket: Ticket, body: str, stored: list[attachments.Stored]) -> Change:
    body = _clean(body=body)["body"]
    if not body:
        raise Invalid(_("A comment cannot be empty."), fields={"body": _("Write something.")})
    fields: dict[str, tuple[Any, Any]] = {"comment": (None, body)}
    fields.update(monitor.diff(ticket, {"last_commenter": actor}))
    now = utcnow()
    note = Comment(ticket_id=ticket.id, author_id=actor.id, body=body, created=now, edited=None)
    writes = {"last_commenter": actor} if "last_commenter" in fields else {}
    change = monitor.record(
        db.session, ticket, actor=actor, kind="comment", fields=fields, writes=writes,
        comment=note, more=_file_rows(stored), at=now,
    )  # fmt: skip
    _add_attachments(actor, ticket, stored, note)
    return change


class IncomingFile(Protocol):
    """An uploaded file as the services take it (werkzeug's FileStorage is one)."""

    filename: str | None
    stream: IO[bytes]


def attach(*, actor: User, ticket: Ticket, files: Sequence[IncomingFile]) -> Change:
    """Attach files to a ticket; everyone who may see it may. Each file may have
    MAX_UPLOAD_MB, all files of the ticket together MAX_TICKET_UPLOADS_MB; an upload
    refused for any reason leaves nothing behind, on disk or in the database."""
    _require_visible(actor, ticket)
    stored = _store_files(files)
    if not stored:
        raise Invalid(_("Choose a file to attach."), fields={"file": _("Choose a file to attach.")})
    return _or_discard(stored, lambda: _attach(actor, ticket, stored))


@unit_of_work
def _attach(actor: User, ticket: Ticket, stored: list[attachments.Stored]) -> Change:
    change = monitor.record(
        db.session, ticket, actor=actor, kind="attachment_added", fields={},
        more=_file_rows(stored),
    )  # fmt: skip
    _add_attachments(actor, ticket, stored, None)
    return change


def remove_attachment(*, actor: User, attachment: Attachment) -> Change:
    """Take a file off its ticket (its uploader and staff may). The file is deleted once
    the removal is committed; the history keeps its name."""
    change = _remove_attachment(actor, attachment)
    attachments.delete(attachment.stored_name)
    return change


@unit_of_work
def _remove_attachment(actor: User, attachment: Attachment) -> Change:
    _require_visible(actor, attachment.ticket)
    if attachment.removed is not None:
        raise NotFound(_("This file has been removed."))
    why_not = _removal_refused(actor, attachment)
    if why_not:
        raise Forbidden(why_not)
    change = monitor.record(
        db.session,
        attachment.ticket,
        actor=actor,
        kind="attachment_removed",
        fields={"attachment": (attachment.name, None)},
    )
    attachment.removed = change.created
    ticket = attachment.ticket
    if "files" not in sa.inspect(ticket).unloaded:
        set_committed_value(ticket, "files", [a for a in ticket.files if a is not attachment])
    return change


def visible_attachment(actor: User, attachment_id: int, *, with_ticket: bool = False) -> Attachment:
    """An attachment (not removed) of a ticket the actor may see; NotFound otherwise,
    whether or not it exists. ``with_ticket``: its ticket and the ticket's files come
    with it, in the same statement."""
    query = sa.select(Attachment).where(
        Attachment.id == attachment_id, attachment_seen(visible_tickets(actor))
    )
    if with_ticket:
        query = query.options(*ATTACHMENT_WITH_TICKET)
    return found_attachment(db.session.scalars(query).unique().first())


# What removing a file reads with it: its ticket, and the ticket's files (the answer's).
ATTACHMENT_WITH_TICKET = (joinedload(Attachment.ticket).joinedload(Ticket.files),)


def attachment_seen(visible: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """A condition on attachments: not removed, of a ticket that ``visible`` (a condition
    on tickets: who may see it) holds for."""
    ticket = sa.exists().where(Ticket.id == Attachment.ticket_id, visible)
    return sa.and_(Attachment.removed.is_(None), ticket.correlate(Attachment))


def found_attachment(attachment: Attachment | None) -> Attachment:
    """What a read of a visible attachment found; NotFound if nothing."""
    if attachment is None:
        raise NotFound(_("There is no such file, or you may not see it."))
    return attachment


def all_attachments_of(ticket: Ticket) -> list[Attachment]:
    """Every file the ticket ever had, removed ones too, oldest first: its page shows the
    current ones and, in the timeline, each comment's."""
    return list(db.session.scalars(_attachments_of(), {"ticket": ticket.id}))


@functools.cache
def _attachments_of() -> sa.Select:
    """Built once per process, the ticket's id a bound parameter: every ticket page runs it."""
    return (
        sa.select(Attachment)
        .where(Attachment.ticket_id == sa.bindparam("ticket"))
        .order_by(Attachment.id)
    )


def may_remove_attachment(actor: User, attachment: Attachment) -> bool:
    return _removal_refused(actor, attachment) is None


def _removal_refused(actor: User, attachment: Attachment) -> str | None:
    if actor.is_staff or actor.id == attachment.uploader_id:
        return None
    return _("Only the person who attached a file and staff can remove it.")


def _store_files(files: Sequence[IncomingFile]) -> list[attachments.Stored]:
    """Write the chosen files to disk, each within MAX_UPLOAD_MB; when one is refused,
    the ones written before it go too. (A form without a file sends one with no name.)"""
    limit = attachments.limit_bytes("MAX_UPLOAD_MB")
    stored: list[attachments.Stored] = []
    for file in files:
        if not file.filename:
            continue
        try:
            stored.append(attachments.store(file.stream, file.filename, limit=limit))
        except BaseException:
            attachments.discard(stored)
            raise
    return stored


def _or_discard(stored: list[attachments.Stored], action: Callable[[], R]) -> R:
    """Run ``action``, the unit of work that records the stored files; when it fails,
    the files go too, so a refused upload leaves nothing half-written."""
    try:
        return action()
    except BaseException:
        attachments.discard(stored)
        raise


def _file_rows(stored: list[attachments.Stored]) -> list[tuple[str, Any, Any]]:
    """The monitor's rows for files attached: one per file, holding its name."""
    return [("attachment", None, s.name) for s in stored]


def _add_attachments(
    actor: User, ticket: Ticket, stored: list[attachments.Stored], note: Comment | None
) -> None:
    """Add the stored files to the ticket, within MAX_TICKET_UPLOADS_MB: those it has
    (``ticket.files``, loaded with it or now) and these; ``ticket.files`` then holds them
    all. Called after the change is recorded."""
    if not stored:
        return
    used = sum(a.size for a in ticket.files)
    adding = sum(s.size for s in stored)
    limit = attachments.limit_bytes("MAX_TICKET_UPLOADS_MB")
    if used + adding > limit:
        mb = attachments.megabytes
        message = (
            _(
                "A ticket's files may have %(limit)s MB together; this one has %(used)s MB "
                "already, and these files have %(adding)s MB.",
                limit=mb(limit),
                used=mb(used),
                adding=mb(adding),
            )  # fmt: skip
        )
        raise Invalid(message, fields={"file": message})
    now = utcnow()
    added = [
        Attachment(
            ticket=ticket, comment=note, uploader=actor, name=s.name,
            stored_name=s.stored_name, size=s.size, content_type=s.content_type,
            is_image=s.is_image, created=now,
        )
        for s in stored
    ]  # fmt: skip
    db.session.add_all(added)
    set_committed_value(ticket, "files", [*ticket.files, *added])


@unit_of_work
def edit_comment(*, actor: User, comment: Comment, body: str) -> Change | None:
    """Change one's own comment; the old text stays in the change monitor."""
    _require_visible(actor, comment.ticket)
    require_comment_author(actor, comment)
    body = _clean(body=body)["body"]
    if not body:
        raise Invalid(_("A comment cannot be empty."), fields={"body": _("Write something.")})
    if body == comment.body:
        return None
    change = monitor.record(
        db.session,
        comment.ticket,
        actor=actor,
        kind="comment_edited",
        fields={"comment": (comment.body, body)},
        comment=comment,
    )
    comment.body = body
    comment.edited = change.created
    return change


@unit_of_work
def delete_ticket(*, actor: User, ticket: Ticket) -> Change:
    """Admins take a ticket off every page; its change monitor keeps who and when."""
    _require_visible(actor, ticket)
    if not actor.is_admin:
        raise Forbidden(_("Only admins can delete tickets."))
    now = utcnow()
    return _apply(actor, ticket, "deleted", {"deleted": now})


@unit_of_work
def rate(*, actor: User, ticket: Ticket, rating: int) -> Change | None:
    """The author's word on the work, once the ticket is solved (Lino's rating). It can
    be changed until the ticket is closed; a closed ticket can still be rated once."""
    _require_visible(actor, ticket)
    why_not = _rating_refused(actor, ticket)
    if why_not:
        raise Forbidden(why_not)
    try:
        value = Rating(int(rating))
    except (TypeError, ValueError):
        unknown = {"rating": _("Unknown rating.")}
        raise Invalid(_("Choose one of the ratings."), fields=unknown) from None
    return _apply(actor, ticket, "rating", {"rating": int(value)})


def _rating_refused(actor: User, ticket: Ticket) -> str | None:
    """Why ``actor`` may not rate the ticket now, or None when they may."""
    wf = current_workflow()
    if actor.id != ticket.author_id:
        return _("Only the ticket's author can rate the work.")
    if ticket.state not in wf.solved_states:
        return _("The work can be rated once the ticket is solved.")
    if ticket.state == wf.closed and ticket.rating is not None:
        return _("This ticket is closed: its rating is final.")
    return None


def autoclose_after() -> timedelta | None:
    """How long a solved ticket waits for its author before it closes by itself; None
    when auto-close is off (the setting is 0, or the workflow has no "ready" state)."""
    hours = current.config()["AUTOCLOSE_AFTER"]
    if not hours or current_workflow().ready is None:
        return None
    return hours if isinstance(hours, timedelta) else timedelta(hours=float(hours))


def closes_at(ticket: Ticket) -> datetime | None:
    """When auto-close will close this ticket, if nobody moves it before."""
    after = autoclose_after()
    if after is None or ticket.state != current_workflow().ready:
        return None
    return ticket.state_since + after


def autoclose() -> list[int]:
    """Close every ticket that has waited in the ready state for longer than
    AUTOCLOSE_AFTER, as the system (the worker and ``flask autoclose`` call this). Each
    ticket is its own transaction: one the author reopens meanwhile stays open."""
    after = autoclose_after()
    if after is None:
        return []
    cutoff = utcnow() - after
    query = sa.select(Ticket.id).where(
        Ticket.state == current_workflow().ready,
        Ticket.state_since <= cutoff,
        Ticket.deleted.is_(None),
    )
    due = list(db.session.scalars(query.order_by(Ticket.id)))
    db.session.rollback()  # end the read, so each close begins its own write
    return [ticket_id for ticket_id in due if _autoclose_one(ticket_id, cutoff)]


@unit_of_work
def _autoclose_one(ticket_id: int, cutoff: datetime) -> Change | None:
    wf = current_workflow()
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.deleted or ticket.state != wf.ready:
        return None
    if ticket.state_since > cutoff:
        return None
    return _apply(None, ticket, "autoclose", {"state": wf.closed})


@dataclass
class Actions:
    """What a person may do to a ticket: the page shows these buttons and no others."""

    take: bool
    steal: bool
    assign: bool
    edit: bool
    delete: bool
    states: list[State]
    download_monitor: bool
    rate: bool


def may_take(staff: bool, ticket: Ticket) -> bool:
    """Whether someone (staff or not) is offered to take the ticket: the rule of ``take``
    asked ahead, cheap enough for every row of a list (rows.RowKit)."""
    return staff and ticket.assignee_id is None


def actions_for(actor: User, ticket: Ticket) -> Actions:
    """The same rules the services apply, asked ahead, to build buttons and forms."""
    wf = current_workflow()
    staff, author = actor.is_staff, actor.id == ticket.author_id
    try:
        editable = bool(_editable_fields(actor, ticket))
    except Forbidden:
        editable = False
    setting = "MONITOR_DOWNLOAD_STAFF" if staff else "MONITOR_DOWNLOAD_OWNER"
    return Actions(
        take=may_take(staff, ticket),
        steal=staff and ticket.assignee_id not in (None, actor.id),
        assign=staff,
        edit=editable,
        delete=actor.is_admin,
        states=next_states(wf, ticket.state, staff=staff, author=author),
        download_monitor=bool(current.config()[setting]),
        rate=_rating_refused(actor, ticket) is None,
    )


def require_comment_author(actor: User, comment: Comment) -> None:
    """Only the person who wrote a comment may edit it (staff neither)."""
    if comment.author_id != actor.id:
        raise Forbidden(_("Only the person who wrote a comment can edit it."))


def require_monitor_download(actor: User, ticket: Ticket) -> None:
    _require_visible(actor, ticket)
    if not actions_for(actor, ticket).download_monitor:
        raise Forbidden(_("Downloading the change monitor is turned off for you."))


def _apply(actor: User | None, ticket: Ticket, kind: str, values: dict[str, Any]) -> Change | None:
    """Record and set the values that really change; None when nothing does. ``actor``
    None is the system (auto-close)."""
    fields = monitor.diff(ticket, values)
    if not fields:
        return None
    now = utcnow()
    writes = {name: new for name, (_old, new) in fields.items()}
    if "state" in fields:
        writes.update(_state_times(ticket, writes["state"], now))
    return monitor.record(
        db.session, ticket, actor=actor, kind=kind, fields=fields, writes=writes, at=now
    )


def _state_times(ticket: Ticket, state: str, now: datetime) -> dict[str, Any]:
    """What entering ``state`` now sets besides: since when the ticket is in its state,
    and when it was solved (kept while it stays solved, cleared when it is reopened)."""
    solved = state in current_workflow().solved_states
    return {"state_since": now, "resolved": (ticket.resolved or now) if solved else None}


def require_site() -> bool:
    """Whether owners must report on a site: the setting, or else whether any site exists."""
    setting = current_app.config["REQUIRE_SITE"]
    if setting is None:
        return db.session.scalar(sa.select(Site.id).limit(1)) is not None
    return bool(setting)


def _check_site(actor: User, site: Site | None) -> None:
    """Owners report on sites they are subscribed to (staff on any, or none)."""
    if actor.is_staff:
        return
    if site is None:
        if require_site():
            raise Invalid(_("Choose a site."), fields={"site": _("Choose the site this is about.")})
        return
    if site.id not in subscribed_site_ids(actor):
        raise Invalid(
            _("You are not subscribed to %(site)s.", site=site.name),
            fields={"site": _("Choose one of your sites.")},
        )


def _editable_fields(actor: User, ticket: Ticket) -> tuple[str, ...]:
    if actor.is_staff:
        return STAFF_FIELDS
    if actor.id == ticket.author_id:
        if ticket.state not in current_workflow().active_states:
            raise Forbidden(_("This ticket is finished: it can no longer be edited."))
        return AUTHOR_FIELDS
    raise Forbidden(_("Only the author and staff can edit this ticket."))


def _clean(**values: Any) -> dict[str, Any]:
    """Trim texts and check them against the rules every ticket follows."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = values[name] = value.strip()
            if "\x00" in value:
                errors[name] = _("This field contains a NUL character.")
            elif len(value) > TEXT_LIMITS.get(name, 250):
                limit = format_number(TEXT_LIMITS.get(name, 250))
                errors[name] = _("At most %(n)s characters.", n=limit)
    if "summary" in values and not values["summary"] and "summary" not in errors:
        errors["summary"] = _("Say in a few words what the problem is.")
    if "description" in values and "description" not in errors:
        words = re.findall(r"\w+", values["description"])
        if len(words) < MIN_DESCRIPTION_WORDS:
            errors["description"] = _(
                "Please describe the problem in a sentence or two: what you did, "
                "what happened, what you expected."
            )
    if "priority" in values:
        try:
            values["priority"] = int(Priority(int(values["priority"])))
        except ValueError:
            errors["priority"] = _("Choose one of the priorities.")
    if values.get("deadline") is not None and not isinstance(values["deadline"], date):
        errors["deadline"] = _("Give a date.")
    if "ref" in values and values["ref"] == "":
        values["ref"] = None
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return values


def _require_visible(actor: User, ticket: Ticket) -> None:
    if not can_see(actor, ticket):
        raise NotFound(_("There is no such ticket, or you may not see it."))


def _require_staff(actor: User, ticket: Ticket, refusal: LazyString) -> None:
    """``refusal`` is translated only when it is given."""
    _require_visible(actor, ticket)
    if not actor.is_staff:
        raise Forbidden(str(refusal))
