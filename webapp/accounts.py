"""Accounts and role groups: the one place that creates users, checks and changes
passwords, and puts people into the staff and admin groups."""

from __future__ import annotations

import re
from typing import NamedTuple
from zoneinfo import available_timezones

import sqlalchemy as sa
from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from . import i18n, notify
from .exceptions import Invalid, NotFound
from .extensions import db
from .models import Group, User, user_groups

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,39}$")
MIN_PASSWORD = 8
# Checked when the user is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("tessera-dummy-password")


def signed_in_user(user_id: int, *, with_unread: bool = False) -> User | None:
    """The user with their role groups, in one query (every request asks for both); with
    ``with_unread``, the same query counts their unread notifications for the bell too."""
    query = sa.select(User).where(User.id == user_id).options(joinedload(User.groups))
    if not with_unread:
        return db.session.scalars(query).unique().one_or_none()
    row = db.session.execute(query.add_columns(notify.unread_column(user_id))).unique().first()
    if row is None:
        return None
    g.unread_for, g.unread = row[0].id, row[1] or 0
    return row[0]


def find_user(login: str) -> User | None:
    """The user whose username or e-mail address is ``login`` (any case)."""
    login = login.strip().lower()
    column = User.email if "@" in login else User.username
    return db.session.scalar(sa.select(User).where(column == login))


def authenticate(login: str, password: str) -> User | None:
    """The active user these credentials belong to, or None: one answer for every failure."""
    user = find_user(login)
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
) -> User:
    """A new active owner. ``check_password_rules`` is off only for demo data."""
    username, email = username.strip().lower(), email.strip().lower()
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        errors["username"] = _(
            "Use 2 to 40 letters, digits, dots, dashes or underscores, starting with a "
            "letter or digit."
        )
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = _("This username is taken.")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        errors["email"] = _("An account with this e-mail address exists already.")
    if check_password_rules and len(password) < MIN_PASSWORD:
        errors["password"] = _("Use at least %(n)d characters.", n=MIN_PASSWORD)
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
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
    db.session.commit()
    return user


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


def set_password(*, user: User, password: str) -> None:
    """Set a password without knowing the old one (admins and the CLI)."""
    user.set_password(password)
    db.session.commit()


def ensure_groups() -> list[Group]:
    """Create the staff and admin groups if missing (idempotent); return both."""
    groups = []
    for setting in ("STAFF_GROUP", "ADMIN_GROUP"):
        name = current_app.config[setting]
        group = db.session.scalar(sa.select(Group).where(Group.name == name))
        if group is None:
            group = Group(name=name)
            db.session.add(group)
        groups.append(group)
    db.session.commit()
    return groups


def role_group(name: str) -> Group:
    """One of the two role groups, by its configured name."""
    names = {current_app.config["STAFF_GROUP"], current_app.config["ADMIN_GROUP"]}
    if name not in names:
        raise NotFound(
            _("There is no group %(name)r; the groups are %(groups)s.", name=name,
              groups=", ".join(sorted(names)))
        )  # fmt: skip
    ensure_groups()
    return db.session.scalar(sa.select(Group).where(Group.name == name))


def add_to_group(*, user: User, group: Group) -> bool:
    """Put the user into the group; False when they were in it already."""
    if group in user.groups:
        return False
    user.groups.append(group)
    db.session.commit()
    user.__dict__.pop("group_names", None)
    return True


def remove_from_group(*, user: User, group: Group) -> bool:
    """Take the user out of the group; False when they were not in it."""
    if group not in user.groups:
        return False
    user.groups.remove(group)
    db.session.commit()
    user.__dict__.pop("group_names", None)
    return True


class Choice(NamedTuple):
    """A staff member as the assign menus show them."""

    id: int
    name: str


def staff_choices() -> list[Choice]:
    """The people tickets can be assigned to (those of ``staff_members``), as plain
    (id, name) rows: every list and ticket page draws them, and needs no more."""
    names = [current_app.config["STAFF_GROUP"], current_app.config["ADMIN_GROUP"]]
    members = sa.select(user_groups.c.user_id).join(Group, Group.id == user_groups.c.group_id)
    query = (
        sa.select(User.id, User.display_name, User.username)
        .where(User.id.in_(members.where(Group.name.in_(names))), User.active)
        .order_by(User.display_name, User.username)
    )
    return [Choice(i, shown or username) for i, shown, username in db.session.execute(query)]


def staff_members() -> list[User]:
    """Active members of the staff and admin groups: who tickets can be assigned to."""
    names = [current_app.config["STAFF_GROUP"], current_app.config["ADMIN_GROUP"]]
    query = (
        sa.select(User)
        .join(User.groups)
        .where(Group.name.in_(names), User.active)
        .distinct()
        .order_by(User.display_name, User.username)
        .options(joinedload(User.groups))
    )
    return list(db.session.scalars(query).unique())
