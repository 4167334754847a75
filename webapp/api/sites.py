"""Sites and ticket types through the API: the sites one may open, following them, and the
types one may report with. The same rules as the site pages (subscriptions.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, g, request

from .. import subscriptions
from ..extensions import db
from ..models import Site, TicketType
from . import bp


@bp.get("/sites")
def list_sites():
    """Every site the token's user may open; ``?following=1`` keeps the ones they follow."""
    user = g.api_user
    followed = {s.site_id for s in user.subscriptions}
    sites = db.session.scalars(subscriptions.sites_open_to(user)).all()
    if request.args.get("following") == "1":
        sites = [s for s in sites if s.id in followed]
    return {"items": [site_json(s, following=s.id in followed) for s in sites]}


@bp.get("/sites/<int:site_id>")
def get_site(site_id: int):
    site = _site(site_id)
    return site_json(site, following=_follows(site))


@bp.post("/sites/<int:site_id>/subscribe")
def subscribe(site_id: int):
    site = _site(site_id)
    subscriptions.subscribe(actor=g.api_user, site=site)
    return site_json(site, following=True)


@bp.post("/sites/<int:site_id>/unsubscribe")
def unsubscribe(site_id: int):
    site = _site(site_id)
    subscriptions.unsubscribe(actor=g.api_user, site=site)
    return site_json(site, following=False)


@bp.get("/types")
def list_types():
    """Ticket types: the active ones people report with; staff also see retired ones."""
    query = sa.select(TicketType).order_by(TicketType.name)
    if not g.api_user.is_staff:
        query = query.where(TicketType.active.is_(True))
    return {"items": [type_json(t) for t in db.session.scalars(query)]}


def site_json(site: Site, *, following: bool) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "description": site.description,
        "state": site.state,
        "following": following,
    }


def type_json(ticket_type: TicketType) -> dict[str, Any]:
    return {
        "id": ticket_type.id,
        "name": ticket_type.name,
        "reporting_type": ticket_type.reporting_type,
        "active": ticket_type.active,
    }


def _site(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or not subscriptions.may_open(g.api_user, site):
        abort(404)
    return site


def _follows(site: Site) -> bool:
    return any(s.site_id == site.id for s in g.api_user.subscriptions)
