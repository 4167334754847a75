"""Accounts and role groups: the one place that creates users, checks and changes
passwords, and puts people into the staff and admin groups."""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import available_timezones

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption
from werkzeug.security import check_password_hash, generate_password_hash

from . import current, i18n, notify, signed_in_users, stamps
from .exceptions import Invalid, NotFound
from .extensions import db
from .i18n import gettext as _
from .models import Group, User, UserSession, user_groups, utcnow
from .visibility import in_groups, staff_groups

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,39}$")
MIN_PASSWORD = 8
# Checked when the user is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("tessera-dummy-password")
# How stale a sign-in's last_seen may get before a request brings it up to date.
TOUCH_EVERY = timedelta(hours=1)


def start_session(user: User) -> str:
    """A new sign-in of the user; returns its secret, which only the cookie keeps."""
    secret = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=UserSession.digest(secret), user_id=user.id))
    db.session.commit()
    user.session_secret = secret
    return secret


def end_session(user: User) -> None:
    """End the sign-in this request came with: every copy of its cookie stops working."""
    if user.session_secret:
        digest = UserSession.digest(user.session_secret)
        db.session.execute(sa.delete(UserSession).where(UserSession.id == digest))
        db.session.commit()
        user.session_secret = None


def session_cutoff() -> datetime:
    """Sessions last seen before this have ended."""
    return utcnow() - timedelta(days=current.config()["SESSION_LIFETIME_DAYS"])


class WithSignIn(NamedTuple):
    """Something a request reads with its sign-in, in the sign-in's statement: one
    statement and round trip less. ``extend`` adds it to the sign-in's query as one more
    entity, outer-joined (it is given the query, the user's id as a bound parameter and the
    staff groups; each ``extend`` is built into the query once per process); ``params``
    are its parameters' values; ``joins_many``: it loads a collection with it, whose
    items repeat its row."""

    extend: Callable[[sa.Select, Any, tuple[str, ...]], sa.Select]
    params: tuple[tuple[str, Any], ...] = ()
    joins_many: bool = False


def signed_in_user(
    user_id: int, secret: str, *, with_unread: bool = False, also: WithSignIn | None = None
) -> User | None:
    """The active user whose sign-in has this secret, with their role groups: one query
    (every request asks for all of it); with ``with_unread``, the same query counts their
    unread notifications for the bell too, and with ``also`` reads that (see
    ``read_with_sign_in``). The data stamps come with it (``stamps.current``)."""
    digest = UserSession.digest(secret)
    query = _signed_in_query(with_unread, staff_groups(), also.extend if also else None)
    values = {"user_id": user_id, "digest": digest, "cutoff": session_cutoff()}
    if also is None:
        rows = db.session.connection().execute(query, values).all()
    else:  # ORM objects come with it
        result = db.session.execute(query, values | dict(also.params))
        rows = (result.unique() if also.joins_many else result).all()  # a row a group
    if not rows:
        return None
    n, first = len(signed_in_users.COLUMNS), rows[0]  # the user's columns, then the rest
    last_seen, tickets_stamp, setup_stamp = first[n + 2 : n + 5]
    stamps.remember(stamps.Stamps(tickets_stamp, setup_stamp))
    groups = tuple(sorted(tuple(row[n : n + 2]) for row in rows if row[n] is not None))
    user = signed_in_users.attach(tuple(first[:n]), groups)
    here = current.g()
    if with_unread:
        here.unread_for, here.unread = user.id, first[n + 5] or 0
        here.notifications_behind = bool(first[n + 6])
    if also is not None:
        here.read_with_sign_in = (also, first[-1])
    user.session_secret = secret
    if last_seen < utcnow() - TOUCH_EVERY:
        here.touch_session = digest
    return user


def read_with_sign_in(also: WithSignIn) -> tuple[bool, Any]:
    """``(True, what it found)`` (an object, or None) if this request's sign-in read
    ``also``; else ``(False, None)``: the caller reads it itself. Given once."""
    here = current.g()
    read = here.get("read_with_sign_in")
    if read is None or read[0] != also:
        return False, None
    del here.read_with_sign_in
    return True, read[1]


@functools.cache
def _signed_in_query(
    with_unread: bool, staff_groups: tuple[str, ...], extend: Callable | None
) -> sa.Select:
    """Built once per process, with the user, the sign-in and the cutoff as parameters:
    every request runs it, and building it cost more than running it. Plain rows, one per
    group of the user: the objects are made from them only when they changed
    (``signed_in_users``)."""
    users, sign_ins, groups = User.__table__, UserSession.__table__, Group.__table__
    user_id = sa.bindparam("user_id")
    query = (
        sa.select(
            *(users.c[key] for key in signed_in_users.COLUMNS),
            groups.c.id,
            groups.c.name,
            sign_ins.c.last_seen,
            *stamps.columns(),
        )
        .select_from(
            users.join(sign_ins, sign_ins.c.user_id == users.c.id)
            .outerjoin(user_groups, user_groups.c.user_id == users.c.id)
            .outerjoin(groups, groups.c.id == user_groups.c.group_id)
        )
        .where(
            users.c.id == user_id,
            users.c.active,
            sign_ins.c.id == sa.bindparam("digest"),
            sign_ins.c.last_seen >= sa.bindparam("cutoff"),
        )
    )
    if with_unread:
        query = query.add_columns(
            notify.unread_column(user_id, staff_groups), notify.behind_column(user_id)
        )
    if extend is not None:
        query = extend(query, user_id, staff_groups)
    return query


def touch_session(exc: BaseException | None = None) -> None:
    """At the end of a request whose sign-in was last seen more than TOUCH_EVERY ago, note
    that it is in use: once the request's own transaction is over (on SQLite it may hold
    the write lock), in a transaction of its own, so a page that only reads changes
    nothing it shows. Best effort: a busy database only delays it to a later request."""
    digest = current.g().pop("touch_session", None)
    if digest is None:
        return
    db.session.remove()
    try:
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(UserSession).where(UserSession.id == digest).values(last_seen=utcnow())
            )
    except sa.exc.SQLAlchemyError:
        current_app.logger.warning("could not note a sign-in's last use", exc_info=True)


def forget_expired_sessions() -> int:
    """Delete sign-ins unused for SESSION_LIFETIME_DAYS (the worker); returns how many."""
    result = db.session.execute(
        sa.delete(UserSession)
        .where(UserSession.last_seen < session_cutoff())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def find_user(login: str, *options: ORMOption) -> User | None:
    """The user whose username or e-mail address is ``login`` (any case), loaded with
    ``options`` (what the caller will look at, read in the same statement)."""
    login = login.strip().lower()
    column = User.email if "@" in login else User.username
    return db.session.scalars(sa.select(User).where(column == login).options(*options)).first()


def assignee(user_id: int) -> User | None:
    """The user a ticket is to be given to, with the groups that say whether they may
    work it; None if there is no such user. A staff member is one the process keeps
    (``_staff``), put into this session as kept (merged, not read); anyone else is read
    with their groups, in one statement."""
    kept = _staff().members.get(user_id)
    if kept is not None:
        return db.session.merge(kept, load=False)
    return db.session.get(User, user_id, options=[joinedload(User.groups)])


def authenticate(login: str, password: str) -> User | None:
    """The active user these credentials belong to, or None: one answer for every failure."""
    return check_credentials(find_user(login), password)


def check_credentials(user: User | None, password: str) -> User | None:
    """``user`` if the password is theirs and they are active, else None. A password is
    hashed either way, so an unknown name takes as long as a wrong password."""
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def create_user(
    *,
    username: str,
    email: str,
    password: str,
    display_name: str = "",
    check_password_rules: bool = True,
    commit: bool = True,
) -> User:
    """A new active owner. ``check_password_rules`` is off only for demo data; ``commit``
    off for a caller that commits it with more (an admin's record of it)."""
    username, email = username.strip().lower(), email.strip().lower()
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        errors["username"] = _(
            "Use 2 to 40 letters, digits, dots, dashes or underscores, starting with a "
            "letter or digit."
        )
    if check_password_rules and len(password) < MIN_PASSWORD:
        errors["password"] = _("Use at least %(n)d characters.", n=MIN_PASSWORD)
    _refuse(errors | _taken(username, email))
    user = User(
        username=username,
        email=email,
        display_name=display_name.strip(),
        language=current_app.config["DEFAULT_LANGUAGE"],
        timezone=current_app.config["DEFAULT_TIMEZONE"],
        mail_mode=current_app.config["DEFAULT_MAIL_MODE"],
    )
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit() if commit else db.session.flush()
    except sa.exc.IntegrityError:
        # Someone took the name or the address since the check: say so on the form, as
        # the check would have. Anything else is the generic 409 (errors.lost_race).
        db.session.rollback()
        _refuse(_taken(username, email))
        raise
    return user


def _taken(username: str, email: str) -> dict[str, str]:
    errors = {}
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = _("This username is taken.")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        errors["email"] = _("An account with this e-mail address exists already.")
    return errors


def _refuse(errors: dict[str, str]) -> None:
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


def change_password(*, user: User, current: str, new: str) -> None:
    """Set a new password; every other session of the user ends with the old one."""
    if not user.check_password(current):
        raise Invalid(
            _("Your current password is not correct."), fields={"current": _("Not correct.")}
        )
    if len(new) < MIN_PASSWORD:
        raise Invalid(
            _("The new password is too short."),
            fields={"new": _("Use at least %(n)d characters.", n=MIN_PASSWORD)},
        )
    user.set_password(new)
    db.session.commit()


def update_settings(
    *, user: User, display_name: str, language: str, timezone: str, mail_mode: str
) -> None:
    """What a person sets for themselves: their name, language, timezone and e-mail mode."""
    if timezone not in available_timezones() | {"UTC"}:
        raise Invalid(_("Choose a timezone from the list."), fields={"timezone": _("Unknown.")})
    if language not in i18n.LANGUAGES:
        raise Invalid(_("Unknown language."), fields={"language": _("Choose a language.")})
    user.display_name = display_name.strip()
    user.language = language
    user.timezone = timezone
    notify.set_mail_mode(user, mail_mode)
    db.session.commit()


def set_password(*, user: User, password: str, commit: bool = True) -> None:
    """Set a password without knowing the old one (admins and the CLI)."""
    user.set_password(password)
    if commit:
        db.session.commit()


def ensure_groups() -> list[Group]:
    """Create the staff and admin groups if missing (idempotent); return both."""
    names = [current_app.config[setting] for setting in ("STAFF_GROUP", "ADMIN_GROUP")]
    found = {g.name: g for g in db.session.scalars(sa.select(Group).where(Group.name.in_(names)))}
    missing = [Group(name=name) for name in dict.fromkeys(names) if name not in found]
    if missing:
        db.session.add_all(missing)
        db.session.commit()
        found |= {group.name: group for group in missing}
    return [found[name] for name in names]


def role_group(name: str) -> Group:
    """One of the two role groups, by its configured name."""
    names = staff_groups()
    if name not in names:
        raise NotFound(
            _("There is no group %(name)r; the groups are %(groups)s.", name=name,
              groups=", ".join(sorted(names)))
        )  # fmt: skip
    return next(group for group in ensure_groups() if group.name == name)


def add_to_group(*, user: User, group: Group, commit: bool = True) -> bool:
    """Put the user into the group; False when they were in it already."""
    if group in user.groups:
        return False
    user.groups.append(group)
    if commit:
        db.session.commit()
    user.__dict__.pop("group_names", None)
    return True


def remove_from_group(*, user: User, group: Group, commit: bool = True) -> bool:
    """Take the user out of the group; False when they were not in it."""
    if group not in user.groups:
        return False
    user.groups.remove(group)
    if commit:
        db.session.commit()
    user.__dict__.pop("group_names", None)
    return True


class Choice(NamedTuple):
    """A staff member as the assign menus show them."""

    id: int
    name: str


class _Staff(NamedTuple):
    choices: tuple[Choice, ...]  # in name order
    members: dict[int, User]  # by id, with their groups, in no session
    names: dict[int, str]  # by id


def staff_choices() -> tuple[Choice, ...]:
    """The people tickets can be assigned to (those of ``staff_members``), as plain
    (id, name) rows: every list and ticket page draws them, and needs no more."""
    return _staff().choices


def staff_ids() -> Collection[int]:
    """The ids of the staff members, as the staff are kept."""
    return _staff().members.keys()


def staff_names() -> Mapping[int, str]:
    """The staff members' names by id, as the staff are kept."""
    return _staff().names


def _staff() -> _Staff:
    """The staff members, kept by the process between setup changes (stamps.keep), which
    every change to a person or a group is."""
    return stamps.keep("staff", _read_staff)


def _read_staff() -> _Staff:
    """Read as plain rows, so that none of this session's own objects is taken from it:
    each member's columns and groups, made into an object of no session."""
    users, groups = User.__table__, Group.__table__
    n = len(signed_in_users.COLUMNS)
    query = (
        sa.select(*(users.c[key] for key in signed_in_users.COLUMNS), groups.c.id, groups.c.name)
        .select_from(
            users.join(user_groups, user_groups.c.user_id == users.c.id).join(
                groups, groups.c.id == user_groups.c.group_id
            )
        )
        .where(in_groups(*staff_groups()), users.c.active)
        .order_by(users.c.display_name, users.c.username)
    )
    found: dict[tuple, list[tuple[int, str]]] = {}
    for row in db.session.execute(query):
        found.setdefault(tuple(row[:n]), []).append((row[n], row[n + 1]))
    members = {
        row[0]: signed_in_users.made(row, tuple(sorted(member_of)))
        for row, member_of in found.items()
    }
    choices = tuple(Choice(user.id, user.name) for user in members.values())
    return _Staff(choices, members, dict(choices))


def staff_members() -> list[User]:
    """Active members of the staff and admin groups, with their groups, in name order:
    who tickets can be assigned to. The kept ones (``_staff``), put into this session."""
    return [db.session.merge(user, load=False) for user in _staff().members.values()]
