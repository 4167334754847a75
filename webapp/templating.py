"""What every template can use: the workflow, role flags and time formatting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from flask_login import current_user

from .models import Priority
from .services import current_workflow


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"workflow": current_workflow(), "Priority": Priority})
    app.add_template_filter(local_time, "when")


def local_time(moment: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    """A stored UTC time in the viewer's timezone."""
    if moment is None:
        return ""
    try:
        zone = ZoneInfo(current_user.timezone if current_user.is_authenticated else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime(fmt)
