"""The data model: people and their role groups, sites, ticket types, tickets, comments,
and the change monitor (one ``Change`` per change, its changed fields in its own row)."""

from __future__ import annotations

import enum
import functools
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask_babel import format_decimal, ngettext
from flask_login import UserMixin
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from . import current
from .extensions import db
from .i18n import lazy_gettext as _l

_clock: ContextVar[datetime | None] = ContextVar("tessera_clock", default=None)


def utcnow() -> datetime:
    """The current time, aware UTC; ``clock_at`` can set it (demo history, tests)."""
    return _clock.get() or datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Let everything recorded inside the block happen at ``moment``."""
    token = _clock.set(moment)
    try:
        yield
    finally:
        _clock.reset(token)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores naive UTC and returns aware UTC, the same on SQLite and PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime; Tessera stores aware UTC times")
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class FieldChange(NamedTuple):
    """One changed field of a change: the raw field name and the raw old and new values."""

    field: str
    old: str | None
    new: str | None


class FieldChanges(sa.types.TypeDecorator):
    """A change's changed fields, in order, kept in the change's own row as a JSON array
    of [field, old, new]: recording a change is one row to write, and reading it one row.
    PostgreSQL keeps it as jsonb, which it takes apart (the monitor CSV) at half the cost
    of json's text."""

    impl = sa.JSON().with_variant(JSONB(), "postgresql")
    cache_ok = True

    def process_result_value(self, value, dialect):
        return [FieldChange(*f) for f in value]


class Priority(enum.IntEnum):
    """One scale for Lino's priority, simpletickets' severity and spire's priority."""

    LOW = 10
    NORMAL = 20
    HIGH = 30
    URGENT = 40
    CRITICAL = 50

    @property
    def label(self) -> str:
        return PRIORITY_LABELS[self]


PRIORITY_LABELS = {
    Priority.LOW: _l("Low"), Priority.NORMAL: _l("Normal"), Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"), Priority.CRITICAL: _l("Critical"),
}  # fmt: skip


class SiteState(enum.StrEnum):
    """Site states of the reference table; ``exposed`` sites are shown and offered by default."""

    DRAFT = "draft"
    ACTIVE = "active"
    STABLE = "stable"
    SLEEPING = "sleeping"
    CLOSED = "closed"

    @property
    def exposed(self) -> bool:
        return self not in (SiteState.SLEEPING, SiteState.CLOSED)

    @property
    def label(self) -> str:
        return SITE_STATE_LABELS[self]


SITE_STATE_LABELS = {
    SiteState.DRAFT: _l("Draft"), SiteState.ACTIVE: _l("Active"), SiteState.STABLE: _l("Stable"),
    SiteState.SLEEPING: _l("Sleeping"), SiteState.CLOSED: _l("Closed"),
}  # fmt: skip


class ReportingType(enum.StrEnum):
    """Who pays for the work (Lino's ReportingTypes)."""

    REGULAR = "regular"
    FREE = "free"

    @property
    def label(self) -> str:
        return _l("Regular") if self is ReportingType.REGULAR else _l("Free")


class MailMode(enum.StrEnum):
    """How a person hears of their notifications by e-mail (Lino's mail modes)."""

    IMMEDIATELY = "immediately"
    DAILY = "daily"
    NONE = "none"

    @property
    def label(self) -> str:
        labels = {"immediately": _l("Immediately"), "daily": _l("Daily digest"),
                  "none": _l("No e-mail")}  # fmt: skip
        return labels[self.value]


class Rating(enum.IntEnum):
    """How the author rates the work on a solved ticket (Lino's Ratings)."""

    VERY_GOOD = 10
    GOOD = 20
    SATISFYING = 30
    DEFICIENT = 40
    INSUFFICIENT = 50
    UNRATABLE = 90

    @property
    def label(self) -> str:
        return RATING_LABELS[self]


RATING_LABELS = {
    Rating.VERY_GOOD: _l("Very good"), Rating.GOOD: _l("Good"),
    Rating.SATISFYING: _l("Satisfying"), Rating.DEFICIENT: _l("Deficient"),
    Rating.INSUFFICIENT: _l("Insufficient"), Rating.UNRATABLE: _l("Unratable"),
}  # fmt: skip


user_groups = sa.Table(
    "user_groups",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("group_id", sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Group(db.Model):
    """A role group; the staff and admin groups' names come from the settings."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    members: Mapped[list[User]] = relationship(
        secondary=user_groups, back_populates="groups", order_by="User.username"
    )

    def __repr__(self) -> str:
        return f"<Group {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case, so sign-in and uniqueness ignore case.
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(sa.String(10), default="en")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    mail_mode: Mapped[str] = mapped_column(sa.String(20), default=MailMode.IMMEDIATELY.value)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded on first use; the sign-in loader fetches them with the user in one query.
    groups: Mapped[list[Group]] = relationship(secondary=user_groups, back_populates="members")
    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def zone(self) -> ZoneInfo:
        """The user's timezone (UTC when the stored name is unknown)."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot sign in
        return self.active

    # The secret of the sign-in this request came with (see UserSession); not stored.
    session_secret = None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session (and the remember-me) cookie: the user and
        the secret of their sign-in, so that ending the sign-in ends every copy of it."""
        if not self.session_secret:
            raise RuntimeError("no sign-in: start one with accounts.start_session first")
        return f"{self.id}:{self.session_secret}"

    def __eq__(self, other) -> bool:
        """The same person (UserMixin would compare get_id, which names the sign-in)."""
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    __hash__ = object.__hash__  # as UserMixin's: objects in sets stay where they were put

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Sign the user out everywhere (committed by the caller)."""
        if self.id is not None:
            db.session.execute(sa.delete(UserSession).where(UserSession.user_id == self.id))

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @functools.cached_property
    def group_names(self) -> frozenset[str]:
        """Asked many times a page, so kept until the user is expired or refreshed (see
        _forget_group_names) or accounts.py changes the groups."""
        return frozenset(g.name for g in self.groups)

    def in_group(self, setting: str) -> bool:
        return current.config()[setting] in self.group_names

    @property
    def is_admin(self) -> bool:
        return self.in_group("ADMIN_GROUP")

    @property
    def is_staff(self) -> bool:
        """Staff work tickets; admins can do everything staff can."""
        return self.is_admin or self.in_group("STAFF_GROUP")

    @property
    def role(self) -> str:
        return "admin" if self.is_admin else "staff" if self.is_staff else "owner"

    @property
    def role_label(self) -> str:
        return {"admin": _l("admin"), "staff": _l("staff"), "owner": _l("owner")}[self.role]


class UserSession(db.Model):
    """One sign-in, from signing in to signing out. The session cookie (and the remember-me
    cookie) names it by a random secret, of which only a digest is stored here (a copy of
    the database signs nobody in). Signing out deletes it, so a copied cookie stops working
    too; a password change or deactivation deletes all of the user's; one unused for
    SESSION_LIFETIME_DAYS has ended (the worker deletes it)."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # SHA-256 of the secret
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Brought up to date at most once an hour (see accounts.signed_in_user).
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @staticmethod
    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


@sa.event.listens_for(User, "expire")
@sa.event.listens_for(User, "refresh")
def _forget_group_names(user: User | None, *args) -> None:
    if user is not None:  # None: the object itself is already gone
        user.__dict__.pop("group_names", None)


class Site(db.Model):
    """Where work happens: a customer, a product, a project."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[str] = mapped_column(sa.String(20), default=SiteState.ACTIVE.value)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="site", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Site {self.name}>"


class Subscription(db.Model):
    __tablename__ = "subscriptions"
    __table_args__ = (sa.UniqueConstraint("user_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="subscriptions")
    site: Mapped[Site] = relationship(back_populates="subscriptions")


class TicketType(db.Model):
    __tablename__ = "ticket_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    reporting_type: Mapped[str | None] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<TicketType {self.name}>"


class Ticket(db.Model):
    """A problem, question or request reported by a person who asks for help."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    summary: Mapped[str] = mapped_column(sa.String(250))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # Someone outside the system the ticket was reported for (Lino's "end user").
    end_user_name: Mapped[str] = mapped_column(sa.String(200), default="")
    end_user_email: Mapped[str] = mapped_column(sa.String(254), default="")
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"))
    ticket_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket_types.id"))
    # A state's name in the deployment's workflow (see workflow.py).
    state: Mapped[str] = mapped_column(sa.String(20))
    priority: Mapped[int] = mapped_column(sa.SmallInteger, default=Priority.NORMAL.value)
    deadline: Mapped[date | None] = mapped_column(sa.Date)
    waiting_for: Mapped[str] = mapped_column(sa.String(200), default="")
    upgrade_notes: Mapped[str] = mapped_column(sa.Text, default="")
    private: Mapped[bool] = mapped_column(default=False)
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    ref: Mapped[str | None] = mapped_column(sa.String(200))
    rating: Mapped[int | None] = mapped_column(sa.SmallInteger)
    reporting_type: Mapped[str | None] = mapped_column(sa.String(20))
    # Who wrote the latest comment: drives "needing my feedback" / "waiting for others".
    last_commenter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When the ticket entered its state (auto-close counts from here), and when it was
    # solved (entered one of the workflow's solved states; cleared when reopened).
    state_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)
    # Set when an admin deletes the ticket: it leaves every page, its history stays.
    deleted: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    last_commenter: Mapped[User | None] = relationship(foreign_keys=[last_commenter_id])
    site: Mapped[Site | None] = relationship()
    ticket_type: Mapped[TicketType | None] = relationship()
    duplicate_of: Mapped[Ticket | None] = relationship(
        remote_side=[id], foreign_keys=[duplicate_of_id]
    )
    parent: Mapped[Ticket | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    comments: Mapped[list[Comment]] = relationship(
        back_populates="ticket", order_by="Comment.id", cascade="all, delete-orphan"
    )
    changes: Mapped[list[Change]] = relationship(
        back_populates="ticket", order_by="Change.id", cascade="all, delete-orphan"
    )
    # The files it has now, oldest first (removed ones only in its history); kept in
    # step by services, which add and remove them.
    files: Mapped[list[Attachment]] = relationship(
        primaryjoin="and_(Attachment.ticket_id == Ticket.id, Attachment.removed.is_(None))",
        order_by="Attachment.id",
        viewonly=True,
    )

    def __repr__(self) -> str:
        return f"<Ticket #{self.id} {self.summary!r}>"

    @property
    def priority_label(self) -> str:
        return Priority(self.priority).label

    @property
    def rating_label(self) -> str:
        return Rating(self.rating).label if self.rating is not None else ""


def _partial(condition: str) -> dict:
    """An index's WHERE, for both databases."""
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


# The triage lists' queries: each tab filters on one of these prefixes (see listing.py).
# They hold only tickets that are not deleted, which is what every list asks for, so the
# lists' counts are answered from the indexes alone.
PRESENT = _partial("deleted IS NULL")
sa.Index("ix_tickets_state_priority", Ticket.state, Ticket.priority, Ticket.id, **PRESENT)
sa.Index("ix_tickets_state_site", Ticket.state, Ticket.site_id, Ticket.last_commenter_id, **PRESENT)
sa.Index(
    "ix_tickets_assignee_state",
    Ticket.assignee_id, Ticket.state, Ticket.priority, Ticket.modified, Ticket.id, **PRESENT,
)  # fmt: skip
sa.Index(
    "ix_tickets_assignee_priority",
    Ticket.assignee_id, Ticket.priority, Ticket.modified, Ticket.id, **PRESENT,
)  # fmt: skip
# The Unassigned tab in its order. PostgreSQL cannot take the order from the prefix
# above: "assignee_id IS NULL" is no equality to it, so it sorted every unassigned ticket.
sa.Index(
    "ix_tickets_unassigned", Ticket.priority, Ticket.modified, Ticket.id,
    **_partial("deleted IS NULL AND assignee_id IS NULL"),
)  # fmt: skip
# A site's tickets, most urgent first (its page): the site's 48,000 active tickets of a
# million were read and sorted for the first hundred.
sa.Index("ix_tickets_site_priority", Ticket.site_id, Ticket.priority, Ticket.id)
# A person's own tickets, last changed first (the home page's panels): without it, a
# planner that guessed a few thousand tickets for an author with none walked every ticket
# in ix_tickets_modified (2.2 s at a million tickets).
sa.Index("ix_tickets_author_modified", Ticket.author_id, Ticket.modified)
# The tickets created in some days, with when each last changed and its state, from the
# index alone (a list of them, last changed first: listing.RANGE_SORTED).
sa.Index("ix_tickets_created", Ticket.created, Ticket.modified, Ticket.id, Ticket.state, **PRESENT)
# The tickets due before a day (the deadline filter), which the sort indexes below cannot
# find (they begin with "deadline IS NULL", which PostgreSQL cannot match to a deadline),
# with when each last changed and its state, as ix_tickets_created.
sa.Index("ix_tickets_deadline", Ticket.deadline, Ticket.modified, Ticket.id, Ticket.state,
         **_partial("deleted IS NULL AND deadline IS NOT NULL"))  # fmt: skip
sa.Index("ix_tickets_last_commenter_state", Ticket.last_commenter_id, Ticket.state, **PRESENT)
sa.Index("ix_tickets_ref", Ticket.ref, **PRESENT)
# A list sorted by priority, deadline or reference, newest first among equals (the
# order listing._direction writes: a column that may be NULL sorts by "IS NULL" first),
# read from an index in that order: at a million tickets the All tab sorted so read and
# sorted every ticket (by priority 92 ms, by deadline 280 ms, by reference descending
# 169 ms). One index per direction: read backwards, an index would put NULLs first and
# the newest last.
_NEWEST = Ticket.id.desc()
sa.Index("ix_tickets_sort_priority_up", Ticket.priority, _NEWEST, **PRESENT)
sa.Index("ix_tickets_sort_priority_down", Ticket.priority.desc(), _NEWEST, **PRESENT)
_NO_DEADLINE, _NO_REF = Ticket.deadline.is_(None), Ticket.ref.is_(None)
sa.Index("ix_tickets_sort_deadline_up", _NO_DEADLINE, Ticket.deadline, _NEWEST, **PRESENT)
sa.Index("ix_tickets_sort_deadline_down", _NO_DEADLINE, Ticket.deadline.desc(), _NEWEST, **PRESENT)
sa.Index("ix_tickets_sort_ref_up", _NO_REF, Ticket.ref, _NEWEST, **PRESENT)
sa.Index("ix_tickets_sort_ref_down", _NO_REF, Ticket.ref.desc(), _NEWEST, **PRESENT)


class Comment(db.Model):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="comment", order_by="Attachment.id"
    )


class Attachment(db.Model):
    """A file on a ticket, or on one of its comments. The file lives in the attachments
    folder under ``stored_name``, a random name (see attachments.py); ``name`` is the one
    its uploader gave it. A removed attachment keeps its row (its file is deleted), so the
    history still names it and its address stays a 404."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    uploader_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    # What it is served as: a verified image's type, else application/octet-stream.
    content_type: Mapped[str] = mapped_column(sa.String(100))
    # Recognised by its content and decoded by Pillow: it has a thumbnail.
    is_image: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()
    comment: Mapped[Comment | None] = relationship(back_populates="attachments")
    uploader: Mapped[User] = relationship(lazy="joined", innerjoin=True)  # shown with it

    @property
    def size_label(self) -> str:
        """The size as people read it, in their language: 512 bytes, 12.5 KB, 3.2 MB."""
        if self.size < 1024:
            return ngettext("%(num)d byte", "%(num)d bytes", self.size)
        if self.size < 1024 * 1024:
            return f"{format_decimal(self.size / 1024, '#,##0.0')} KB"
        return f"{format_decimal(self.size / 1024 / 1024, '#,##0.0')} MB"


class Change(db.Model):
    """One change to a ticket: who (``actor`` empty means the system), what kind, when."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    # The ticket's version after this change: an edit made on version N conflicts with
    # the changes of versions above N.
    version: Mapped[int] = mapped_column(default=1)
    # The comment a "comment" or "comment_edited" change is about.
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="SET NULL")
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fields: Mapped[list[FieldChange]] = mapped_column(
        FieldChanges, default=list, server_default="[]"
    )

    ticket: Mapped[Ticket] = relationship(back_populates="changes")
    actor: Mapped[User | None] = relationship()
    comment: Mapped[Comment | None] = relationship()


class AdminAction(db.Model):
    """What an admin did, to whom or what, and when: the admin area's own record."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    # What it was about, as "user:5", "site:2", "ticket:17" ...
    target: Mapped[str] = mapped_column(sa.String(60))
    details: Mapped[str] = mapped_column(sa.Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()


class Outbox:
    """Columns of something the worker delivers outside the request: when it is due, how
    often it was tried, until when a worker holds it (its lease), and the last error."""

    due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    lease: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(sa.String(500), default="")
    delivered: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailState(enum.StrEnum):
    PENDING = "pending"  # to be mailed on its own, as soon as the worker can
    DIGEST = "digest"  # to be mailed with others in the recipient's daily digest
    SENT = "sent"
    OFF = "off"  # not mailed: the recipient wants no e-mail, or saw it in the app first
    FAILED = "failed"  # the mail server refused it every time


class Notification(Outbox, db.Model):
    """Tells one person about one change of a ticket: in the app (the bell) and, through
    the outbox columns, by e-mail. Written in the transaction of the change itself for
    its people and for whoever gets it by mail; for a site's other subscribers when they
    next look (``notify.catch_up``). At most one per person and change."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # The change's ticket, without a key of its own: a deleted ticket's notifications go
    # with its changes (the key below). On PostgreSQL each key is a check that locks the
    # row it names, for every one of the few hundred notifications a change writes.
    ticket_id: Mapped[int] = mapped_column(index=True)
    change_id: Mapped[int] = mapped_column(
        sa.ForeignKey("changes.id", ondelete="CASCADE"), index=True
    )
    # Why this person hears of it: created, assigned, commented or changed.
    reason: Mapped[str] = mapped_column(sa.String(20))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail: Mapped[str] = mapped_column(sa.String(10), default=MailState.OFF.value)

    recipient: Mapped[User] = relationship()
    ticket: Mapped[Ticket] = relationship(
        primaryjoin="Notification.ticket_id == Ticket.id", foreign_keys=[ticket_id]
    )
    change: Mapped[Change] = relationship()


# The conditions of the notifications' partial indexes, for the indexes and for the
# queries that read through them: SQLite uses a partial index only for a query that
# states its condition as the index does, values written out (not bound parameters).
UNREAD = Notification.seen.is_(None)
READ = Notification.seen.is_not(None)
WAITING_FOR_MAIL = (MailState.PENDING.value, MailState.DIGEST.value)
MAIL_WAITING = Notification.mail.in_(
    sa.bindparam("waiting", WAITING_FOR_MAIL, expanding=True, literal_execute=True)
)
# A person's notifications, newest change first, in two indexes: the unread (the bell)
# and the read. A new notification is unread, so it is written into one of them only.
# By change, not by id: a subscriber's are written when they look, after notifications
# of later changes may have been written for them with those changes.
sa.Index("ix_notifications_unread", Notification.recipient_id, Notification.change_id,
         sqlite_where=UNREAD, postgresql_where=UNREAD)  # fmt: skip
sa.Index("ix_notifications_read", Notification.recipient_id, Notification.change_id,
         sqlite_where=READ, postgresql_where=READ)  # fmt: skip
sa.Index("ix_notifications_outbox", Notification.mail, Notification.due,
         sqlite_where=MAIL_WAITING, postgresql_where=MAIL_WAITING)  # fmt: skip


class NotificationCursor(db.Model):
    """How far a person's notifications from their sites are written (``notify.catch_up``):
    up to change ``through``, at ``caught_up``. Not on ``users``, whose every write moves
    the pages' setup stamp."""

    __tablename__ = "notification_cursors"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    through: Mapped[int]
    caught_up: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(db.Model):
    """A personal API token: it acts with exactly its user's rights. Only its SHA-256 is
    kept; the token itself is shown once, when it is made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The token's first characters, to tell tokens apart in lists.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class WebhookEvent(enum.StrEnum):
    """What a webhook can be told of: a new ticket, any other change, a comment."""

    CREATED = "created"
    CHANGED = "changed"
    COMMENTED = "commented"

    @property
    def label(self) -> str:
        labels = {"created": _l("Ticket created"), "changed": _l("Ticket changed"),
                  "commented": _l("Ticket commented")}  # fmt: skip
        return labels[self.value]


class Webhook(db.Model):
    """A URL told of ticket changes on one site (or on all sites, ``site_id`` empty). Each
    delivery is signed with ``secret``, which admins see so the receiver can verify it."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    site_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True
    )
    # Comma-separated WebhookEvent values.
    events: Mapped[str] = mapped_column(sa.String(100))
    secret: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_hex(32))
    active: Mapped[bool] = mapped_column(default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site | None] = relationship()

    @property
    def event_list(self) -> list[str]:
        return self.parse_events(self.events)

    @staticmethod
    def parse_events(events: str) -> list[str]:
        """The events of the stored, comma-separated list."""
        return [e for e in events.split(",") if e]


class WebhookState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the receiver refused it every time


class WebhookDelivery(Outbox, db.Model):
    """One change sent to one webhook: the body is written with the change, in its
    transaction, and the worker posts it through the outbox columns."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    change_id: Mapped[int] = mapped_column(
        sa.ForeignKey("changes.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(sa.String(20))
    payload: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(10), default=WebhookState.PENDING.value)
    response_code: Mapped[int | None] = mapped_column()
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    webhook: Mapped[Webhook] = relationship()
    change: Mapped[Change] = relationship()


sa.Index(
    "ix_webhook_deliveries_outbox",
    WebhookDelivery.status,
    WebhookDelivery.due,
    sqlite_where=sa.text("status = 'pending'"),
    postgresql_where=sa.text("status = 'pending'"),
)


class Stamp(db.Model):
    """A counter that moves with every committed write to what pages show (see stamps.py)."""

    __tablename__ = "stamps"

    name: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
