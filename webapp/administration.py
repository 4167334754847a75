"""What admins do: people, role groups, sites and their subscribers, ticket types,
webhooks, and deleting tickets. Each function checks that the actor is an admin, does the
work through the module that owns it, and records an AdminAction (who, what, when)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from . import accounts, i18n, services, subscriptions, webhooks
from .exceptions import Conflict, Forbidden, Invalid
from .extensions import db
from .i18n import gettext as _
from .models import (
    AdminAction,
    Group,
    ReportingType,
    Site,
    SiteState,
    Ticket,
    TicketType,
    User,
    Webhook,
)


def log(actor: User, action: str, target: str, details: str = "") -> None:
    """Record what an admin did and commit it together with what it records: the two are
    saved in one transaction or not at all. What the session holds is as this transaction
    wrote it, so the answer that shows it need not read it again."""
    db.session.add(AdminAction(actor=actor, action=action, target=target, details=details))
    services.commit_keeping_state()


def recent(limit: int = 200) -> list[AdminAction]:
    query = sa.select(AdminAction).order_by(AdminAction.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def create_user(*, actor: User, username: str, email: str, password: str,
                display_name: str = "", language: str = "en") -> User:  # fmt: skip
    _require_admin(actor)
    user = accounts.create_user(
        username=username, email=email, password=password, display_name=display_name,
        commit=False,
    )  # fmt: skip
    user.language = _language(language)
    log(actor, "create user", f"user:{user.id}", user.username)
    return user


def update_user(*, actor: User, user: User, display_name: str, email: str, language: str) -> None:
    _require_admin(actor)
    email = email.strip().lower()
    taken = db.session.scalar(sa.select(User.id).where(User.email == email, User.id != user.id))
    if taken:
        raise Invalid(_("Please correct the marked fields."),
                      fields={"email": _("Another account has this address.")})  # fmt: skip
    changes = {"display_name": display_name.strip(), "email": email,
               "language": _language(language)}  # fmt: skip
    changed = {k: v for k, v in changes.items() if getattr(user, k) != v}
    for name, value in changed.items():
        setattr(user, name, value)
    if changed:
        log(
            actor, "edit user", f"user:{user.id}", ", ".join(f"{k}={v}" for k, v in changed.items())
        )


def set_active(*, actor: User, user: User, active: bool) -> None:
    """Deactivate (they cannot sign in; their tickets stay) or reactivate a user."""
    _require_admin(actor)
    if not active and user.id == actor.id:
        raise Conflict(_("You cannot deactivate yourself."))
    if user.active == active:
        return
    user.active = active
    user.end_sessions()
    log(actor, "reactivate user" if active else "deactivate user", f"user:{user.id}",
        user.username)  # fmt: skip


def reset_password(*, actor: User, user: User, password: str) -> None:
    _require_admin(actor)
    if len(password) < accounts.MIN_PASSWORD:
        rule = _("Use at least %(n)d characters.", n=accounts.MIN_PASSWORD)
        raise Invalid(_("The password is too short."), fields={"password": rule})
    accounts.set_password(user=user, password=password, commit=False)
    log(actor, "reset password", f"user:{user.id}", user.username)


def add_member(*, actor: User, user: User, group: Group) -> bool:
    _require_admin(actor)
    added = accounts.add_to_group(user=user, group=group, commit=False)
    if added:
        log(actor, "add to group", f"user:{user.id}", f"{user.username} → {group.name}")
    return added


def remove_member(*, actor: User, user: User, group: Group) -> bool:
    _require_admin(actor)
    if group.name == current_app.config["ADMIN_GROUP"] and user.id == actor.id:
        admins = [u for u in group_members(group) if u.active]
        if len(admins) <= 1:
            raise Conflict(_("You are the last admin: make someone else admin first."))
    removed = accounts.remove_from_group(user=user, group=group, commit=False)
    if removed:
        log(actor, "remove from group", f"user:{user.id}", f"{user.username} ← {group.name}")
    return removed


def group_members(group: Group) -> list[User]:
    """By username, those added in this request included."""
    return sorted(group.members, key=lambda user: user.username)


def save_site(*, actor: User, site: Site | None, name: str, description: str, state: str) -> Site:
    """Create a site (``site`` None) or change one."""
    _require_admin(actor)
    name = name.strip()
    if state not in {s.value for s in SiteState}:
        raise Invalid(_("Unknown state."), fields={"state": _("Choose a state.")})
    _require_unique_name(Site, name, site, _("site"))
    created = site is None
    site = site or Site()
    site.name, site.description, site.state = name, description.strip(), state
    db.session.add(site)
    db.session.flush()  # a new site's id, for its record
    log(actor, "create site" if created else "edit site", f"site:{site.id}", f"{name} ({state})")
    return site


def set_subscribed(*, actor: User, site: Site, user: User, subscribed: bool) -> bool:
    _require_admin(actor)
    if not subscriptions.set_subscription(
        user=user, site=site, subscribed=subscribed, commit=False
    ):
        return False
    log(actor, "subscribe" if subscribed else "unsubscribe", f"site:{site.id}",
        f"{user.username} {'to' if subscribed else 'from'} {site.name}")  # fmt: skip
    return True


def save_ticket_type(*, actor: User, ticket_type: TicketType | None, name: str,
                     reporting_type: str, active: bool) -> TicketType:  # fmt: skip
    _require_admin(actor)
    name = name.strip()
    if reporting_type and reporting_type not in {r.value for r in ReportingType}:
        raise Invalid(_("Unknown reporting type."), fields={"reporting_type": _("Choose one.")})
    _require_unique_name(TicketType, name, ticket_type, _("type"))
    created = ticket_type is None
    ticket_type = ticket_type or TicketType()
    ticket_type.name, ticket_type.reporting_type = name, reporting_type or None
    ticket_type.active = active
    db.session.add(ticket_type)
    db.session.flush()  # a new type's id, for its record
    log(actor, "create type" if created else "edit type", f"type:{ticket_type.id}",
        f"{name}{'' if active else ' (inactive)'}")  # fmt: skip
    return ticket_type


def create_webhook(*, actor: User, url: str, site: Site | None, events: list[str]) -> Webhook:
    _require_admin(actor)
    webhook = webhooks.create(url=url, site=site, events=events)
    db.session.flush()  # its id, for its record
    details = f"{webhook.url} ({site.name if site else 'all sites'}: {webhook.events})"
    log(actor, "create webhook", f"webhook:{webhook.id}", details)
    return webhook


def deactivate_webhook(*, actor: User, webhook: Webhook) -> None:
    """Stop telling a webhook anything (its delivery log stays)."""
    _require_admin(actor)
    if not webhook.active:
        return
    webhook.active = False
    log(actor, "deactivate webhook", f"webhook:{webhook.id}", webhook.url)


def delete_ticket(*, actor: User, ticket: Ticket) -> None:
    """Take a ticket off every page (its history stays, with who deleted it and when)."""
    _require_admin(actor)
    services.delete_ticket(actor=actor, ticket=ticket)
    log(actor, "delete ticket", f"ticket:{ticket.id}", ticket.summary)


def _require_unique_name(model, name: str, current, what: str) -> None:
    clash = sa.select(model.id).where(model.name == name)
    if current is not None:
        clash = clash.where(model.id != current.id)
    if not name or db.session.scalar(clash):
        rule = _("Give a name no other %(what)s has.", what=what)
        raise Invalid(_("Please correct the marked fields."), fields={"name": rule})


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(_("Only admins can do this."))


def _language(value: str) -> str:
    if value not in i18n.LANGUAGES:
        raise Invalid(_("Unknown language."), fields={"language": _("Choose a language.")})
    return value
