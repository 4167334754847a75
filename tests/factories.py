"""Plain factory functions for tests; tickets are made through the services, as in real use."""

from __future__ import annotations

import itertools
from functools import cache

from flask import current_app
from werkzeug.security import generate_password_hash

from webapp import accounts, services
from webapp.extensions import db
from webapp.models import Site, Subscription, Ticket, User

PASSWORD = "secret-pass"
_numbers = itertools.count(1)


@cache
def password_hash() -> str:
    # Few iterations: the tests sign in thousands of times (production uses the default).
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def make_user(username: str | None = None, *, role: str = "owner", **fields) -> User:
    """A user with password PASSWORD; ``role`` is owner, staff or admin."""
    username = username or f"user{next(_numbers)}"
    user = User(
        username=username,
        email=fields.pop("email", f"{username}@example.com"),
        display_name=fields.pop("display_name", username.capitalize()),
        password_hash=password_hash(),
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    if role != "owner":
        setting = {"staff": "STAFF_GROUP", "admin": "ADMIN_GROUP"}[role]
        group = accounts.role_group(current_app.config[setting])
        accounts.add_to_group(user=user, group=group)
    return user


def make_ticket(author: User, summary: str | None = None, **fields) -> Ticket:
    return services.create_ticket(
        actor=author,
        summary=summary or f"Printer on floor {next(_numbers)} jams",
        description=fields.pop("description", "It jams on every second page since Monday."),
        **fields,
    )


def make_site(name: str, *subscribers: User, state: str = "active") -> Site:
    site = Site(name=name, state=state)
    db.session.add(site)
    db.session.add_all(Subscription(user=user, site=site) for user in subscribers)
    db.session.commit()
    return site
