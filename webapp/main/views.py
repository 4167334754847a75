"""The landing page after sign-in, and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, render_template
from flask_login import login_required

from .. import accounts, current, dashboard, listing, pagecache
from .. import statistics as stats
from ..extensions import db
from ..i18n import gettext as _
from . import bp


@bp.get("/")
@login_required
@pagecache.kept
def home():
    user = current.user()
    team = accounts.staff_members() if user.is_admin else []
    staff = team or (accounts.staff_choices() if user.is_staff else [])
    return render_template(
        "main/home.html",
        panels=dashboard.panels_for(user),
        cap=listing.COUNT_CAP,
        team=team,
        candidates=staff,
    )


@bp.get("/statistics")
@login_required
def statistics():
    """The dashboard of figures, with the boxes the settings give the viewer's role."""
    boxes = stats.boxes_for(current.user())
    if not boxes:
        if current.user().is_staff:
            abort(403, _("The statistics are turned off for staff."))
        abort(403, _("The statistics are turned off for ticket owners."))
    return render_template(
        "main/statistics.html",
        figures=stats.statistics_for(current.user(), boxes),
        duration=stats.human_duration,
    )


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
