"""Who hears about a ticket change, and the notifications people read in the app.

Who is told:

- a new ticket: the subscribers of its site (unless it is private) and every admin;
- any other change or a comment: the author, the assignee (and the one it was taken
  from), and the subscribers of its site (unless it is private);
- never the person who acted, never a deactivated account, and never anyone the one
  visibility rule does not let see the ticket.

When their notification is written:

- with the change, by the statement that writes it (``told``, which ``monitor.record``
  writes with the change: on PostgreSQL as part of one statement), so a change and these
  notifications are saved together or not at all: the ticket's people, the admins of a
  new ticket, and every subscriber who gets it by mail (the outbox columns say whether
  and when: at once, in the recipient's daily digest, or not at all; ``notify_mail``
  delivers them);
- when they next look, for a site's other subscribers (``catch_up``): the bell's
  refresh, the notifications page and the API write what the sites they follow saw
  since their cursor, from the changes themselves. A change would otherwise write a row
  for each of its site's subscribers, most of whom are not looking: on the generated
  data 66 a change, a third of what a write cost. A page shows the bell as written so
  far and, when changes were made since, has the bell refresh at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, url_for
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from . import current, mailer, services, timeline
from .exceptions import Invalid, NotFound
from .extensions import db
from .i18n import gettext as _
from .models import (
    MAIL_WAITING,
    READ,
    UNREAD,
    WAITING_FOR_MAIL,
    Change,
    MailMode,
    MailState,
    Notification,
    NotificationCursor,
    Subscription,
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
    visible_to,
    visible_to_id,
    who_sees,
)
from .workflow import Workflow

PAGE_SIZE = 30
BELL_CAP = 99
# A subscriber who looks again after more changes than this hears of the latest this many.
BACKLOG = 10_000
# PostgreSQL numbers a change when it is written, not when it commits: a catch-up looks
# again at changes this far below its cursor, made up to LATE before it last caught up.
LOOKBACK, LATE = 1_000, timedelta(minutes=1)
# A page asks its bell to catch up when someone else made one of the newest this many
# changes since the viewer's cursor (older ones show at the bell's next refresh).
BEHIND_WINDOW = 1_000


@dataclass(frozen=True)
class Told:
    """A change's notifications told with it (``monitor.record`` writes them with the
    change): an INSERT ... SELECT of the recipients, its values bound parameters. Who is
    told, whether they may see the ticket (the one visibility rule, in SQL) and how they
    are mailed are all decided by the database, however many subscribers get mail. With
    mail on it returns the rows it wrote, for ``mailed``."""

    shape: _Shape
    params: dict

    @property
    def mailed(self) -> bool:
        return self.shape.mailed

    def insert(self) -> sa.Insert:
        """The statement, for the change whose id is the bound parameter ``change``."""
        return recipients_insert(self.shape)


def told(change: Change, ticket: Ticket) -> Told | None:
    """What tells ``change`` of ``ticket`` (as the change leaves it) to its people, or
    None for a deleted ticket."""
    if ticket.deleted is not None:
        return None
    assignee = next((f for f in change.fields if f.field == "assignee"), None)
    people = {ticket.author_id, ticket.assignee_id}
    if assignee is not None and assignee.old:
        people.add(int(assignee.old))
    assigned = assignee is not None and assignee.new and assignee.new.isdigit()
    site = None if ticket.private else ticket.site_id
    shape = _Shape(
        created=change.kind == "created",
        by_site=site is not None,
        assigned=bool(assigned),
        mailed=mailer.enabled(),
        by_someone=change.actor_id is not None,
        staff=staff_groups(),
        admins=current.config()["ADMIN_GROUP"],
    )
    params = {
        **_slots("person", people, _PEOPLE),
        **_slots("seer", {ticket.author_id, ticket.assignee_id}, _SEERS),
        "site": site, "ticket": ticket.id, "at": change.created, "actor": change.actor_id,
        "assigned": int(assignee.new) if assigned else None,
        "reason": "commented" if change.kind == "comment" else "changed",
    }  # fmt: skip
    return Told(shape, params)


# A change's people: its author, its assignee and the one it was taken from, of whom the
# first two see it. Bound as that many parameters, NULL where there is none: an expanding
# IN list would have the statement's text written anew on every change.
_PEOPLE, _SEERS = 3, 2


def _slots(name: str, ids: set[int | None], slots: int) -> dict[str, int | None]:
    found = sorted(ids - {None})
    return {f"{name}_{i}": found[i] if i < len(found) else None for i in range(slots)}


def _slotted(name: str, slots: int) -> list[sa.BindParameter]:
    return [sa.bindparam(f"{name}_{i}", type_=sa.Integer) for i in range(slots)]


def mailed(session: Session, change: Change, written) -> None:
    """Given the rows a ``Told`` wrote with mail on (id, recipient_id, mail), when each
    daily digest reader's is due: their local hour costs one statement more."""
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


# What both ways of writing notifications give, in the order their SELECTs list it.
_COLUMNS = ["recipient_id", "ticket_id", "change_id", "reason", "created", "mail", "due",
            "attempts", "error"]  # fmt: skip


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


@functools.lru_cache(maxsize=512)  # bounded: one for each of monitor._at_once too
def recipients_insert(shape: _Shape, change: sa.CTE | None = None) -> sa.Insert:
    """The notifications' INSERT ... SELECT of the form ``shape``, for the change whose id
    is the bound parameter ``change``, or for the row of ``change``, the WITH query that
    writes it."""
    people = _slotted("person", _PEOPLE)
    site = sa.bindparam("site")
    who = [User.id.in_(people)]
    no_mail = sa.or_(User.email == "", User.mail_mode == MailMode.NONE.value)
    if shape.by_site and shape.mailed:  # the others catch up when they look
        who.append(sa.and_(subscribed_to(site), sa.not_(no_mail)))
    if shape.created:
        who.append(in_groups(shape.admins))
        reason = sa.literal("created")
    elif shape.assigned:
        reason = sa.case((User.id == sa.bindparam("assigned"), "assigned"),
                         else_=sa.bindparam("reason"))  # fmt: skip
    else:
        reason = sa.bindparam("reason", type_=sa.String)
    # "at", not "created": a parameter named as a ticket's column would join the SET clause
    # of the ticket's UPDATE that monitor.record writes with this statement.
    created = sa.bindparam("at", type_=UTCDateTime)
    if shape.mailed:
        mail = sa.case(
            (no_mail, MailState.OFF.value),
            (User.mail_mode == MailMode.DAILY.value, MailState.DIGEST.value),
            else_=MailState.PENDING.value,
        )
        due = sa.case((mail == MailState.PENDING.value, created), else_=sa.null())
    else:
        mail, due = sa.literal(MailState.OFF.value), sa.null()
    # Told, if they may see the ticket: its people now (the one it was taken from may not).
    seers = _slotted("seer", _SEERS)
    sees = who_sees(seers, site if shape.by_site else None, shape.staff)
    if change is None:
        ticket_id, change_id = sa.bindparam("ticket"), sa.bindparam("change")
    else:
        ticket_id, change_id = change.c.ticket_id, change.c.id
    recipients = sa.select(
        User.id, ticket_id, change_id, reason, created, mail,
        sa.type_coerce(due, UTCDateTime), sa.literal(0), sa.literal(""),
    ).where(User.active, sa.or_(*who), sees)  # fmt: skip
    if change is not None:
        recipients = recipients.select_from(change.join(User, sa.true()))
    if shape.by_someone:
        recipients = recipients.where(User.id != sa.bindparam("actor"))
    # The table, not the entity: an ORM insert given parameters would be a bulk insert.
    insert = sa.insert(Notification.__table__).from_select(_COLUMNS, recipients)
    if shape.mailed:
        insert = insert.returning(Notification.id, Notification.recipient_id, Notification.mail)
    return insert


@functools.lru_cache(maxsize=64)
def recipients_insert_all(shapes: tuple[_Shape, ...]) -> sa.Insert:
    """The notifications of several changes as one INSERT ... SELECT: the i-th of the
    form ``shapes[i]``, its parameters named with ``_<i>`` added (``recipients_insert``'s
    ``site`` is ``site_0`` for the first). With mail on, it returns the rows it wrote and
    their change."""
    selects = [
        _suffixed(recipients_insert(shape).select, f"_{i}") for i, shape in enumerate(shapes)
    ]
    insert = sa.insert(Notification.__table__).from_select(_COLUMNS, sa.union_all(*selects))
    if any(shape.mailed for shape in shapes):
        insert = insert.returning(
            Notification.id, Notification.recipient_id, Notification.mail, Notification.change_id
        )
    return insert


def _suffixed(select: sa.Select, suffix: str) -> sa.Select:
    """``select`` with ``suffix`` added to the name of each named parameter (not to the
    values it holds as literals)."""

    def renamed(element):
        if isinstance(element, sa.BindParameter) and not element.unique:
            return sa.bindparam(element.key + suffix, type_=element.type)
        return None

    return sa.sql.visitors.replacement_traverse(select, {}, renamed)


# -- A subscriber's, when they look ------------------------------------------------------


_NEWEST = sa.select(sa.func.max(Change.id)).scalar_subquery()


def _cursors(column, user_id) -> sa.ScalarSelect:
    """The user's cursor's ``column`` (None before their first look)."""
    return sa.select(column).where(NotificationCursor.user_id == user_id).scalar_subquery()


def behind_column(user_id) -> sa.ColumnElement[bool]:
    """Whether the user follows a site and someone else made a change since their
    cursor, as a column of a query that loads the user by id (a value or a bound
    parameter)."""
    through = _cursors(NotificationCursor.through, user_id)
    follows = sa.exists().where(Subscription.user_id == user_id)
    # The newest changes since the cursor, newest first, read so in the index whoever
    # made them (an EXISTS on all of them had PostgreSQL read every change from the
    # first, 0.5 s at a million tickets).
    since = (
        sa.select(Change.actor_id)
        .where(Change.id > sa.func.coalesce(through, -1))
        .order_by(Change.id.desc())
        .limit(BEHIND_WINDOW)
        .subquery()
    )
    others = sa.exists().where(sa.or_(since.c.actor_id.is_(None), since.c.actor_id != user_id))
    return sa.and_(follows, others)


# The newest change, and where the cursor of the user ``me`` stands.
_CURSOR = sa.select(
    _NEWEST,
    _cursors(NotificationCursor.through, sa.bindparam("me")),
    _cursors(NotificationCursor.caught_up, sa.bindparam("me")),
)


def catch_up(user: User) -> int:
    """Write the user's notifications from the sites they follow for the changes made
    since their cursor, as ``told`` would have (not those it wrote: their people's,
    the mailed ones), and move the cursor to the newest change; commit. Returns how many
    were written, all unread, which the bell's count of this request takes in.

    Two requests of one person may catch up at once: the cursor moves only from where
    each read it, so one of them writes and the other nothing."""
    session = db.session()
    newest, through, caught_up = session.execute(_CURSOR, {"me": user.id}).one()
    if newest is None or (through is not None and newest <= through):
        g.pop("notifications_behind", None)
        return 0
    now, cursor = utcnow(), NotificationCursor.__table__
    since = max(through or 0, newest - BACKLOG)
    if through is None:  # the first look: what was made since they followed each site
        insert = _dialect_insert(cursor).on_conflict_do_nothing()
        move = insert.values(user_id=user.id, through=newest, caught_up=now)
    else:
        move = (
            sa.update(cursor)
            .where(cursor.c.user_id == user.id, cursor.c.through == through)
            .values(through=newest, caught_up=now)
        )
    written = 0
    if session.execute(move.returning(cursor.c.user_id)).first() is not None:
        params = {"me": user.id, "start": since, "newest": newest}
        looks_back = since == through  # not past BACKLOG, which skips what is below
        if looks_back:
            params |= {"start": since - LOOKBACK, "since": since, "late_after": caught_up - LATE}
        written = session.execute(_catch_up_insert(looks_back), params).rowcount
    services.commit_keeping_state()
    g.pop("notifications_behind", None)
    if written and g.get("unread_for") == user.id:
        g.unread = min(g.unread + written, BELL_CAP + 1)
    return written


def _dialect_insert(table: sa.Table):
    dialects = {"postgresql": postgresql, "sqlite": sqlite}
    return dialects[db.engine.dialect.name].insert(table)


@functools.cache
def _catch_up_insert(looks_back: bool) -> sa.Insert:
    """The notifications of a subscriber (``me``) about the changes numbered from
    ``start`` (excluded) to ``newest`` that were not written yet; looking back, those
    numbered up to ``since`` only if made after ``late_after`` (committed after an
    earlier catch-up passed them). One range of numbers either way, read in the index."""
    me = sa.bindparam("me")
    numbered = sa.and_(Change.id > sa.bindparam("start"), Change.id <= sa.bindparam("newest"))
    if looks_back:
        late = Change.created > sa.bindparam("late_after", type_=UTCDateTime)
        numbered = sa.and_(numbered, sa.or_(Change.id > sa.bindparam("since"), late))
    # Their site's, tested for each change of the range: joined to the tickets instead,
    # SQLite began with every ticket of the person's sites (4.5 ms at 10,000 tickets).
    followed = sa.exists().where(
        Ticket.id == Change.ticket_id,
        Ticket.deleted.is_(None),
        Ticket.private.is_(False),
        Subscription.site_id == Ticket.site_id,
        Subscription.user_id == me,
        Subscription.created <= Change.created,  # followed when it was made
    )
    written = sa.exists().where(Notification.change_id == Change.id,
                                Notification.recipient_id == me)  # fmt: skip
    reason = sa.case((Change.kind == "created", "created"), (Change.kind == "comment", "commented"),
                     else_="changed")  # fmt: skip
    off = sa.literal(MailState.OFF.value)
    values = (me, Change.ticket_id, Change.id, reason, Change.created,
              off, sa.null(), sa.literal(0), sa.literal(""))  # fmt: skip
    rows = (
        sa.select(*values)
        .where(numbered, sa.or_(Change.actor_id.is_(None), Change.actor_id != me))
        .where(followed, ~written)
        .order_by(Change.id)
    )
    insert = sa.insert(Notification.__table__).from_select(_COLUMNS, rows)
    return insert.execution_options(preserve_rowcount=True)  # how many: not kept by default


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
    here = current.g()
    if here.get("unread_for") == user.id:
        return here.unread
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


def page(
    user: User, wf: Workflow, *, before: int | None = None, caught_up: bool = False
) -> tuple[list[Item], int | None]:
    """The user's notifications, newest change first, PAGE_SIZE at a time; with the value
    to pass as ``before`` for the next page (None on the last): the number of the last
    one's change (a person has one notification a change). Caught up first, unless the
    caller just did."""
    if not caught_up:
        catch_up(user)
    query = _page_query(user.is_staff, paged=before is not None)
    notes = list(db.session.scalars(query, {"me": user.id, "before": before}).unique())
    more = len(notes) > PAGE_SIZE
    notes = notes[:PAGE_SIZE]
    return items(notes, wf), notes[-1].change_id if more else None


@functools.cache
def _page_query(staff: bool, *, paged: bool) -> sa.Select:
    """A page of notifications of the person ``me`` (a bound parameter), before the change
    ``before`` if ``paged``; built once per process, role and kind of page."""
    me = sa.bindparam("me")
    newest = []
    for part in (UNREAD, READ):  # each in its index, newest first
        ids = (
            sa.select(Notification.id)
            .join(Ticket, Ticket.id == Notification.ticket_id)
            .where(Notification.recipient_id == me, part, visible_to(me, staff=staff))
            .order_by(Notification.change_id.desc())
            .limit(PAGE_SIZE + 1)
        )
        if paged:
            ids = ids.where(Notification.change_id < sa.bindparam("before"))
        newest.append(sa.select(ids.subquery().c.id))
    return (
        sa.select(Notification)
        .where(Notification.id.in_(sa.union_all(*newest)))
        .order_by(Notification.change_id.desc())
        .limit(PAGE_SIZE + 1)
        .options(
            # The ticket's site: the one its changes name, most of the time (timeline._held)
            joinedload(Notification.ticket).joinedload(Ticket.site),
            joinedload(Notification.change).options(
                joinedload(Change.actor), joinedload(Change.comment)
            ),
        )
    )


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
    """Every unread notification of the user read now; those waiting for a mail not
    mailed any more (unless a worker is sending it), in the same statement."""
    catch_up(user)
    unmailed = sa.and_(MAIL_WAITING, Notification.lease.is_(None))
    db.session.execute(
        sa.update(Notification)
        .where(Notification.recipient_id == user.id, UNREAD)
        .values(
            seen=utcnow(),
            mail=sa.case((unmailed, MailState.OFF.value), else_=Notification.mail),
        )
        .execution_options(synchronize_session=False)
    )
    services.commit_keeping_state()  # the answer shows the person: not read again
    g.unread_for, g.unread = user.id, 0  # the bell's count, known


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
