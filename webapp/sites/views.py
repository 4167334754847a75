"""Sites: the ones I follow, all of them (staff), one site's page, and following them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, url_for
from flask_login import login_required

from .. import accounts, current, listing, subscriptions
from ..extensions import db
from ..htmx import is_htmx
from ..i18n import gettext as _
from ..models import Site, SiteState, Subscription, Ticket, User
from ..rows import name_assignees
from ..services import current_workflow
from . import bp

EXPOSED = [s.value for s in SiteState if s.exposed]


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every site page needs a signed-in user."""


@bp.get("/")
def mine():
    query = sa.select(Site).join(Subscription).where(Subscription.user_id == current.user().id)
    show_all = request.args.get("all") == "1"
    if not show_all:
        query = query.where(Site.state.in_(EXPOSED))
    sites = db.session.scalars(query.order_by(Site.name)).all()
    return render_template("sites/list.html", sites=sites, scope="mine", show_all=show_all)


@bp.get("/all")
def everything():
    if not current.user().is_staff:
        abort(403, _("Only staff see every site."))
    sites = db.session.scalars(sa.select(Site).order_by(Site.name)).all()
    return render_template("sites/list.html", sites=sites, scope="all", show_all=True)


@bp.get("/<int:site_id>")
def detail(site_id: int):
    site = _site(site_id)
    wf = current_workflow()
    count, tickets = listing.first(
        current.user(),
        ("site", site.id, wf.name),
        lambda: (
            sa.and_(Ticket.site_id == site.id, listing.active(wf)),
            (Ticket.priority.desc(), Ticket.id.desc()),
        ),
        listing.PAGE_SIZE,
    )
    name_assignees(tickets)
    subscribers = db.session.scalars(
        sa.select(User).join(Subscription).where(Subscription.site_id == site.id)
        .order_by(User.display_name, User.username)
    ).all()  # fmt: skip
    return render_template(
        "sites/detail.html",
        site=site,
        tickets=tickets,
        count=count,
        cap=listing.COUNT_CAP,
        subscribers=subscribers,
        following=current.user() in subscribers,
        candidates=accounts.staff_choices() if current.user().is_staff else [],
    )


@bp.post("/<int:site_id>/subscribe")
def subscribe(site_id: int):
    site = _site(site_id)
    subscriptions.subscribe(actor=current.user(), site=site)
    return _answer(site, following=True)


@bp.post("/<int:site_id>/unsubscribe")
def unsubscribe(site_id: int):
    site = _site(site_id)
    subscriptions.unsubscribe(actor=current.user(), site=site)
    return _answer(site, following=False)


def _site(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or not subscriptions.may_open(current.user(), site):
        abort(404)
    return site


def _answer(site: Site, *, following: bool):
    if is_htmx():
        return render_template("sites/_follow.html", site=site, following=following)
    return redirect(request.referrer or url_for(".detail", site_id=site.id), code=303)
