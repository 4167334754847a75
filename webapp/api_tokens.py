"""Personal API tokens: made, named and revoked by their owner (or printed by the CLI for
scripts). A token is shown once; only its SHA-256 is stored, so a stolen database yields
no usable token. A request presents it as ``Authorization: Bearer <token>``."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from . import stamps
from .exceptions import Invalid, NotFound
from .extensions import db
from .i18n import gettext as _
from .models import ApiToken, User, utcnow

PREFIX = "tsr_"
NAME_LIMIT = 100
RECORD_USE_EVERY = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with its secret, which is never shown again."""
    name = name.strip()
    if not name or len(name) > NAME_LIMIT or "\x00" in name:
        rule = _("Give the token a name of at most %(n)d characters.", n=NAME_LIMIT)
        raise Invalid(rule, fields={"name": rule})
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, digest=digest(secret), prefix=secret[:10])
    db.session.add(token)
    db.session.commit()
    return token, secret


def user_for(secret: str) -> User | None:
    """The active user an unrevoked token belongs to (noting its use), or None."""
    # One statement: the token, its person and their groups, and the data stamps (as the
    # pages' sign-in reads them, see stamps.current).
    found = (
        db.session.execute(
            sa.select(ApiToken, *stamps.columns())
            .where(ApiToken.digest == digest(secret), ApiToken.revoked.is_(None))
            .options(joinedload(ApiToken.user).joinedload(User.groups))
        )
        .unique()
        .one_or_none()
    )
    if found is None:
        return None
    token, *stamped = found
    stamps.remember(stamps.Stamps(*stamped))
    if not token.user.active:
        return None
    now = utcnow()
    if token.last_used is None or now - token.last_used > RECORD_USE_EVERY:
        # Not on every call (a busy script would write all day), and in a transaction of
        # its own: on SQLite a read turned write fails when another write came between.
        db.session.rollback()
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id).values(last_used=now))
        db.session.commit()
    return token.user


def tokens_of(user: User) -> list[ApiToken]:
    query = sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(None))
    return list(db.session.scalars(query.order_by(ApiToken.id)))


def revoke(*, user: User, token_id: int) -> ApiToken:
    """End one of the user's tokens at once."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked is not None:
        raise NotFound(_("There is no such token."))
    token.revoked = utcnow()
    db.session.commit()
    return token
