"""Notifications through the API: one's own, newest first, and marking them read (which,
as in the app, keeps a read one from being mailed). The same functions as the bell."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import abort, g, request, url_for

from .. import notify, services
from ..i18n import gettext as _
from ..routing import as_id
from . import bp


@bp.get("/notifications")
def list_notifications():
    """A page of notifications; ``next_before`` is the ``before`` of the next page."""
    before = request.args.get("before", "")
    if before and as_id(before) is None:
        abort(400, _("That page link is broken: 'before' must be a number."))
    items, older = notify.page(g.api_user, services.current_workflow(), before=as_id(before))
    return {"items": [notification_json(i) for i in items], "next_before": older}


@bp.post("/notifications/<int:notification_id>/read")
def mark_read(notification_id: int):
    note = notify.mark_seen(g.api_user, notification_id)
    (item,) = notify.items([note], services.current_workflow())
    return notification_json(item)


@bp.post("/notifications/read-all")
def mark_all_read():
    notify.mark_all_seen(g.api_user)
    return "", 204


def notification_json(item: notify.Item) -> dict[str, Any]:
    note = item.notification
    return {
        "id": note.id,
        "ticket_id": note.ticket_id,
        "change_id": note.change_id,
        "reason": note.reason,
        "headline": item.headline,
        "created": note.created.isoformat(),
        "seen": note.seen.isoformat() if note.seen else None,
        "url": urljoin(request.host_url, item.url),
        "ticket": url_for("api.get_ticket", ticket_id=note.ticket_id, _external=True),
    }
