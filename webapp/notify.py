"""Who hears about a ticket change, and the notifications people read in the app.

Every change the monitor records in a transaction is turned into notifications just before
that transaction commits (a ``before_commit`` hook), so a change and its notifications are
written together or not at all. Who is told:

- a new ticket: the subscribers of its site (unless it is private) and every admin;
- any other change or a comment: the author, the assignee (and the one it was taken
  from), and the subscribers of its site (unless it is private);
- never the person who acted, never a deactivated account, and never anyone the one
  visibility rule does not let see the ticket.

Each notification also says whether and when it is to be mailed (the outbox columns): at
once, in the recipient's daily digest, or not at all. ``notify_mail`` delivers them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, url_for
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session, joinedload

from . import mailer, monitor, services, timeline, webhooks
from .exceptions import Invalid, NotFound
from .extensions import db
from .models import (
    MAIL_WAITING,
    READ,
    UNREAD,
    WAITING_FOR_MAIL,
    Change,
    MailMode,
    MailState,
    Notification,
    Ticket,
    User,
    UTCDateTime,
    utcnow,
)
from .visibility import (
    in_groups,
    staff_groups,
    subscribed_to,
    visible_tickets,
    visible_to_id,
    who_sees,
)
from .workflow import Workflow

PAGE_SIZE = 30
BELL_CAP = 99


@event.listens_for(Session, "before_commit")
def _notify_recorded(session: Session) -> None:
    changes = monitor.take_recorded(session)
    if changes:
        session.flush()  # every id known: a new ticket's author, a new change's own
    for change in changes:
        _notify(session, change)
    webhooks.enqueue(session, changes)


def _notify(session: Session, change: Change) -> None:
    """Write the change's notifications in one INSERT ... SELECT: who is told, whether
    they may see the ticket (the one visibility rule, in SQL) and how they are mailed are
    all decided by the database, however many subscribers a site has. Only recipients
    who read their mail as a daily digest cost one statement more (their local hour)."""
    ticket = change.ticket
    if ticket.deleted is not None:
        return
    assignee = next((f for f in change.fields if f.field == "assignee"), None)
    people = {ticket.author_id, ticket.assignee_id}
    if assignee is not None and assignee.old:
        people.add(int(assignee.old))
    assigned = assignee is not None and assignee.new and assignee.new.isdigit()
    site = None if ticket.private else ticket.site_id
    insert = _recipients_insert(
        _Shape(
            created=change.kind == "created",
            by_site=site is not None,
            assigned=bool(assigned),
            mailed=mailer.enabled(),
            by_someone=change.actor_id is not None,
            staff=staff_groups(),
            admins=current_app.config["ADMIN_GROUP"],
        )
    )
    params = {
        "people": sorted(people - {None}),
        "seers": sorted({ticket.author_id, ticket.assignee_id} - {None}),
        "site": site, "ticket": ticket.id,
        "change": change.id, "created": change.created, "actor": change.actor_id,
        "assigned": int(assignee.new) if assigned else None,
        "reason": "commented" if change.kind == "comment" else "changed",
    }  # fmt: skip
    if not mailer.enabled():
        session.execute(insert, params)
        return
    written = session.execute(insert, params).all()
    digest = {row.id: row.recipient_id for row in written if row.mail == MailState.DIGEST.value}
    if digest:
        readers = {
            u.id: u
            for u in session.scalars(sa.select(User).where(User.id.in_(set(digest.values()))))
        }
        session.execute(
            sa.update(Notification),
            [{"id": i, "due": next_digest(readers[r], change.created)} for i, r in digest.items()],
        )


@dataclass(frozen=True)
class _Shape:
    """What decides the form of a change's notifications statement (its values are bound
    parameters): there are a few dozen forms in all, each built once per process."""

    created: bool  # a new ticket: every admin hears of it too
    by_site: bool  # on a site, not private: its subscribers hear of it and may see it
    assigned: bool  # given to someone, who is told so
    mailed: bool  # mail is on: how each is mailed, and the rows written come back
    by_someone: bool  # the actor (not the system) is not told of their own change
    staff: tuple[str, ...]
    admins: str


@functools.cache
def _recipients_insert(shape: _Shape) -> sa.Insert:
    people = sa.bindparam("people", expanding=True)
    site = sa.bindparam("site")
    who = [User.id.in_(people)]
    if shape.by_site:
        who.append(subscribed_to(site))
    if shape.created:
        who.append(in_groups(shape.admins))
        reason = sa.literal("created")
    elif shape.assigned:
        reason = sa.case((User.id == sa.bindparam("assigned"), "assigned"),
                         else_=sa.bindparam("reason"))  # fmt: skip
    else:
        reason = sa.bindparam("reason", type_=sa.String)
    created = sa.bindparam("created", type_=UTCDateTime)
    if shape.mailed:
        mail = sa.case(
            (sa.or_(User.email == "", User.mail_mode == MailMode.NONE.value), MailState.OFF.value),
            (User.mail_mode == MailMode.DAILY.value, MailState.DIGEST.value),
            else_=MailState.PENDING.value,
        )
        due = sa.case((mail == MailState.PENDING.value, created), else_=sa.null())
    else:
        mail, due = sa.literal(MailState.OFF.value), sa.null()
    # Told, if they may see the ticket: its people now (the one it was taken from may not).
    seers = sa.bindparam("seers", expanding=True)
    sees = who_sees(seers, site if shape.by_site else None, shape.staff)
    recipients = sa.select(
        User.id, sa.bindparam("ticket"), sa.bindparam("change"), reason, created, mail,
        sa.type_coerce(due, UTCDateTime), sa.literal(0), sa.literal(""),
    ).where(User.active, sa.or_(*who), sees)  # fmt: skip
    if shape.by_someone:
        recipients = recipients.where(User.id != sa.bindparam("actor"))
    columns = ["recipient_id", "ticket_id", "change_id", "reason", "created", "mail", "due",
               "attempts", "error"]  # fmt: skip
    # The table, not the entity: an ORM insert given parameters would be a bulk insert.
    insert = sa.insert(Notification.__table__).from_select(columns, recipients)
    if shape.mailed:
        insert = insert.returning(Notification.id, Notification.recipient_id, Notification.mail)
    return insert


def _mail_plan(user: User, now: datetime) -> dict:
    """Whether and when a new notification for ``user`` is to be mailed."""
    if not mailer.enabled() or not user.email or user.mail_mode == MailMode.NONE:
        return {"mail": MailState.OFF.value, "due": None}
    if user.mail_mode == MailMode.DAILY:
        return {"mail": MailState.DIGEST.value, "due": next_digest(user, now)}
    return {"mail": MailState.PENDING.value, "due": now}


def next_digest(user: User, after: datetime) -> datetime:
    """The next DIGEST_HOUR o'clock in the user's timezone after ``after`` (UTC)."""
    local = after.astimezone(user.zone)
    moment = local.replace(
        hour=current_app.config["DIGEST_HOUR"], minute=0, second=0, microsecond=0
    )
    if moment <= local:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


def set_mail_mode(user: User, mode: str) -> None:
    """Change how ``user`` gets e-mail; notifications not mailed yet follow the new mode.
    The caller commits."""
    try:
        user.mail_mode = MailMode(mode).value
    except ValueError:
        raise Invalid(_("Choose how to get e-mail."), fields={"mail_mode": _("Unknown.")}) from None
    waiting = db.session.scalars(
        sa.select(Notification).where(
            MAIL_WAITING, Notification.recipient_id == user.id, Notification.lease.is_(None)
        )
    )
    now = utcnow()
    for note in waiting:
        plan = _mail_plan(user, now)
        note.mail, note.due = plan["mail"], plan["due"]


# -- Reading them in the app -------------------------------------------------------------


@dataclass
class Item:
    """One notification as the notifications page shows it."""

    notification: Notification
    headline: str
    entry: timeline.Entry

    @property
    def closes(self) -> datetime | None:
        """For the author of a ticket this change solved: when auto-close will close it
        (as the change left it), so they know how long they have to reopen it."""
        note, change = self.notification, self.notification.change
        after = services.autoclose_after()
        moved = next((f.new for f in change.fields if f.field == "state"), None)
        if after is None or moved != services.current_workflow().ready:
            return None
        return change.created + after if note.recipient_id == note.ticket.author_id else None

    @property
    def url(self) -> str:
        note = self.notification
        return url_for("tickets.detail", ticket_id=note.ticket_id, _anchor=anchor(note.change))


def anchor(change: Change) -> str:
    """Where a change is on its ticket's page (the timeline entry's id)."""
    if change.kind == "comment" and change.comment_id:
        return f"comment-{change.comment_id}"
    return f"change-{change.id}"


def headline(note: Notification, entry: timeline.Entry) -> str:
    """ "#12 Printer jams: Alice commented", the same in the app and in e-mails."""
    action = _("assigned it to you") if note.reason == "assigned" else entry.action
    return f"#{note.ticket.id} {note.ticket.summary}: {entry.actor} {action}"


def unread_count(user: User) -> int:
    """Unread notifications about tickets the user may still see, counted to BELL_CAP + 1
    (read with the user at the start of a GET request, see accounts.signed_in_user)."""
    if g.get("unread_for") == user.id:
        return g.unread
    return db.session.scalar(_unread_query(user.id, visible_tickets(user))) or 0


def unread_column(user_id, staff_groups: tuple[str, ...]) -> sa.ScalarSelect:
    """The unread count as a column of a query that loads the user by id (a value or a
    bound parameter)."""
    return _unread_query(user_id, visible_to_id(user_id, staff_groups)).scalar_subquery()


def _unread_query(user_id: int, visible) -> sa.Select:
    unread = (
        sa.select(Notification.id)
        .join(Ticket, Ticket.id == Notification.ticket_id)
        .where(Notification.recipient_id == user_id, UNREAD)
        .where(visible)
        .limit(BELL_CAP + 1)
        .subquery()
    )
    return sa.select(sa.func.count()).select_from(unread)


def page(user: User, wf: Workflow, *, before: int | None = None) -> tuple[list[Item], int | None]:
    """The user's notifications, newest first, PAGE_SIZE at a time; with the id to pass
    as ``before`` for the next page (None on the last)."""
    newest = []
    for part in (UNREAD, READ):  # each in its index, newest first
        ids = (
            sa.select(Notification.id)
            .join(Ticket, Ticket.id == Notification.ticket_id)
            .where(Notification.recipient_id == user.id, part, visible_tickets(user))
            .order_by(Notification.id.desc())
            .limit(PAGE_SIZE + 1)
        )
        if before is not None:
            ids = ids.where(Notification.id < before)
        newest.append(sa.select(ids.subquery().c.id))
    query = (
        sa.select(Notification)
        .where(Notification.id.in_(sa.union_all(*newest)))
        .order_by(Notification.id.desc())
        .limit(PAGE_SIZE + 1)
        .options(
            joinedload(Notification.ticket),
            joinedload(Notification.change).options(
                joinedload(Change.actor), joinedload(Change.comment)
            ),
        )
    )
    notes = list(db.session.scalars(query).unique())
    more = len(notes) > PAGE_SIZE
    notes = notes[:PAGE_SIZE]
    return items(notes, wf), notes[-1].id if more else None


def items(notes: list[Notification], wf: Workflow) -> list[Item]:
    entries = timeline.describe([n.change for n in notes], wf)
    return [Item(n, headline(n, e), e) for n, e in zip(notes, entries, strict=True)]


def find(user: User, notification_id: int) -> Notification:
    """One of the user's notifications about a ticket they may see; NotFound otherwise."""
    note = db.session.scalar(
        sa.select(Notification)
        .join(Ticket, Ticket.id == Notification.ticket_id)
        .where(
            Notification.id == notification_id,
            Notification.recipient_id == user.id,
            visible_tickets(user),
        )
    )
    if note is None:
        raise NotFound(_("There is no such notification."))
    return note


def mark_seen(user: User, notification_id: int) -> Notification:
    """Mark one notification read. One read in the app before it was mailed is not
    mailed any more."""
    note = find(user, notification_id)
    if note.seen is None:
        note.seen = utcnow()
        if note.mail in WAITING_FOR_MAIL and note.lease is None:
            note.mail = MailState.OFF.value
    db.session.commit()
    return note


def mark_all_seen(user: User) -> None:
    now = utcnow()
    mine = sa.and_(Notification.recipient_id == user.id, UNREAD)
    db.session.execute(
        sa.update(Notification)
        .where(mine, MAIL_WAITING, Notification.lease.is_(None))
        .values(mail=MailState.OFF.value)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Notification)
        .where(mine)
        .values(seen=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def forget_old() -> int:
    """Delete notifications read more than NOTIFICATIONS_KEEP_DAYS ago (Lino keeps them 14
    days); unread ones stay. Returns how many went."""
    days = current_app.config["NOTIFICATIONS_KEEP_DAYS"]
    if not days:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(
        sa.delete(Notification)
        .where(Notification.seen < cutoff, Notification.mail.not_in(WAITING_FOR_MAIL))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount
