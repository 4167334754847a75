"""The bell and the notifications page: read, mark read, mark all read. Opening a
notification marks it read and lands on the change it is about."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from .. import current, notify, services
from ..extensions import login_manager
from ..htmx import is_htmx
from ..i18n import gettext as _
from ..routing import as_id
from . import bp


@bp.before_request
def _signed_in():
    """Signed-in users only; the bell's refresh gets a bare 401 (not the sign-in page,
    which htmx would draw into the header)."""
    if not current.user().is_authenticated:
        if request.endpoint == "notifications.bell":
            return "", 401
        return login_manager.unauthorized()
    return None


@bp.get("/notifications")
def index():
    before = request.args.get("before", "")
    if before and as_id(before) is None:
        abort(400, _("That page link is broken: 'before' must be a number."))
    items, older = notify.page(current.user(), services.current_workflow(), before=as_id(before))
    return render_template("notifications/index.html", items=items, older=older)


@bp.get("/notifications/bell")
def bell():
    notify.catch_up(current.user())
    return render_template("notifications/_bell.html")


@bp.post("/notifications/<int:notification_id>/open")
def open_one(notification_id: int):
    note = notify.mark_seen(current.user(), notification_id)
    anchor = notify.anchor(note.change)
    return redirect(url_for("tickets.detail", ticket_id=note.ticket_id, _anchor=anchor), 303)


@bp.post("/notifications/<int:notification_id>/read")
def mark_read(notification_id: int):
    note = notify.mark_seen(current.user(), notification_id)
    if not is_htmx():
        return redirect(url_for(".index"), 303)
    (item,) = notify.items([note], services.current_workflow())
    return render_template("notifications/_marked.html", item=item)


@bp.post("/notifications/read-all")
def mark_all_read():
    notify.mark_all_seen(current.user())
    if not is_htmx():
        return redirect(url_for(".index"), 303)
    items, older = notify.page(current.user(), services.current_workflow(), caught_up=True)
    return render_template("notifications/_all_marked.html", items=items, older=older)
