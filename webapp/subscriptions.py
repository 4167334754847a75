"""Who follows which site: subscribing and unsubscribing, and which sites a person may
open. Subscribers see a site's tickets that are not private (see visibility.py)."""

from __future__ import annotations

import sqlalchemy as sa

from . import services
from .exceptions import Forbidden, NotFound
from .extensions import db
from .i18n import gettext as _
from .models import Site, SiteState, Subscription, User


def may_open(user: User, site: Site) -> bool:
    """Exposed sites are open to everyone signed in; sleeping and closed ones to their
    subscribers and staff."""
    if user.is_staff or SiteState(site.state).exposed:
        return True
    return any(s.site_id == site.id for s in user.subscriptions)


def sites_open_to(user: User) -> sa.Select[tuple[Site]]:
    """The sites ``user`` may open (the rule of ``may_open``, as a query), by name."""
    query = sa.select(Site).order_by(Site.name)
    if user.is_staff:
        return query
    followed = sa.select(Subscription.site_id).where(Subscription.user_id == user.id)
    exposed = [s.value for s in SiteState if s.exposed]
    return query.where(sa.or_(Site.state.in_(exposed), Site.id.in_(followed)))


def subscribe(*, actor: User, site: Site) -> bool:
    """Follow a site; False when already following."""
    if not may_open(actor, site):
        raise NotFound(_("There is no such site."))
    if not SiteState(site.state).exposed and not actor.is_staff:
        raise Forbidden(f"{site.name} is {site.state}: it takes no new subscribers.")
    return set_subscription(user=actor, site=site, subscribed=True)


def unsubscribe(*, actor: User, site: Site) -> bool:
    """Stop following a site; False when not following."""
    return set_subscription(user=actor, site=site, subscribed=False)


def set_subscription(*, user: User, site: Site, subscribed: bool, commit: bool = True) -> bool:
    """Make ``user`` follow ``site`` or not (callers have checked who may); False when
    nothing changed. ``commit`` off for a caller that commits it with more."""
    current = next((s for s in user.subscriptions if s.site_id == site.id), None)
    if subscribed == (current is not None):
        return False
    if subscribed:
        db.session.add(Subscription(user=user, site=site))
    else:
        db.session.delete(current)
    db.session.expire(user, ["subscriptions"])  # both ends read again when next asked for
    db.session.expire(site, ["subscriptions"])
    if commit:
        services.commit_keeping_state()  # the rest is as written: the answer reads nothing again
    return True
