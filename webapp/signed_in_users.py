"""The signed-in user's object, kept by the worker between requests.

Every request reads its user and their groups with its sign-in (``accounts.signed_in_user``),
as plain rows. Making ORM objects of them cost more than running the statement, so each
worker thread keeps the object it made for each person and gives it to the next request's
session while it holds exactly what that request read. A change to the person (their
settings, a group, deactivation) shows in what is read, and the request makes a new object;
so does whatever a request before did to the kept one (changed, expired, rolled back)."""

from __future__ import annotations

import threading
from collections import OrderedDict

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from . import current
from .extensions import db
from .models import Group, User

# People whose objects one worker thread keeps; the least recently signed in go first.
KEEP = 256
_KEPT = "tessera_signed_in_users"

# The user's columns, in the order the sign-in's statement reads them.
COLUMNS = tuple(attr.key for attr in sa.inspect(User).column_attrs)
Row = tuple  # their values
Groups = tuple[tuple[int, str], ...]  # (id, name) of each of their groups, sorted


def attach(row: Row, groups: Groups) -> User:
    """The user these columns and groups describe, in the request's session."""
    kept = _kept()
    user = kept.get(row[0])
    if user is not None and _as_read(user, row, groups):
        kept.move_to_end(row[0])
    else:
        user = kept[row[0]] = made(row, groups)
        if len(kept) > KEEP:
            kept.popitem(last=False)
    session = db.session()
    if not _groups_loaded(session, user):
        loaded = session.identity_map.get(sa.inspect(user).key)
        if loaded is None:
            session.add(user)
            return user
        if _holds(loaded, row):
            # Read by the sign-in's own statement too (as a ticket's assignee, say): the
            # session's object holds what was read, and needs only the groups.
            set_committed_value(loaded, "groups", list(user.groups))
            for group in user.groups:
                session.add(group)  # as adding the kept user would
            return loaded
    return session.merge(user, load=False)  # one object per row in a session


def _kept() -> OrderedDict[int, User]:
    local = current.app().extensions.setdefault(_KEPT, threading.local())
    if not hasattr(local, "users"):
        local.users = OrderedDict()
    return local.users


def made(row: Row, groups: Groups) -> User:
    """The user of these columns (in COLUMNS' order) and groups, as an object of no
    session."""
    user = User(**dict(zip(COLUMNS, row, strict=True)))
    make_transient_to_detached(user)
    members = []
    for group_id, name in groups:
        group = Group(id=group_id, name=name)
        make_transient_to_detached(group)
        members.append(group)
    set_committed_value(user, "groups", members)
    return user


def _as_read(user: User, row: Row, groups: Groups) -> bool:
    """Whether the kept object is in no session and holds exactly the values just read,
    whatever the requests before did to it (changed, expired, flushed and rolled back)."""
    if not sa.inspect(user).detached or not _holds(user, row):
        return False
    members = user.__dict__.get("groups")
    return (
        members is not None
        and tuple(sorted((g.__dict__.get("id"), g.__dict__.get("name")) for g in members)) == groups
    )


def _holds(user: User, row: Row) -> bool:
    """Whether the object holds the columns just read, unchanged since."""
    values = user.__dict__
    return not sa.inspect(user).modified and tuple(values.get(key) for key in COLUMNS) == row


def _groups_loaded(session, user: User) -> bool:
    return any(sa.inspect(group).key in session.identity_map for group in user.groups)
