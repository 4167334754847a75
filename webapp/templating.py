"""What every template can use: the workflow, role flags and time formatting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from flask_login import current_user

from . import markup, services
from .models import Priority, Ticket


def init_app(app: Flask) -> None:
    app.context_processor(
        lambda: {
            "workflow": services.current_workflow(),
            "Priority": Priority,
            "actions_for": _actions_for,
        }
    )
    app.add_template_filter(local_time, "when")
    app.add_template_filter(markup.render, "markdown")
    app.add_template_filter(capped, "capped")


def capped(count: int, cap: int, partial: bool = False) -> str:
    """A count that was only counted up to ``cap`` + 1: "1,000+" rather than a guess; a
    ``partial`` count (of part of a large filtered list) is "at least": "312+"."""
    if count > cap:
        return f"{cap:,}+"
    return f"{count:,}+" if partial else f"{count:,}"


def _actions_for(ticket: Ticket) -> services.Actions:
    return services.actions_for(current_user, ticket)


def local_time(moment: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    """A stored UTC time in the viewer's timezone."""
    if moment is None:
        return ""
    try:
        zone = ZoneInfo(current_user.timezone if current_user.is_authenticated else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime(fmt)
