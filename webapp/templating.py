"""What every template can use: the workflow, role flags, time formatting and deadlines."""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_decimal
from flask import Flask
from markupsafe import Markup, escape

from . import current, i18n, markup, notify, services, statistics
from .models import MailMode, Priority, Rating, SiteState, Ticket, utcnow
from .workflow import State


def init_app(app: Flask) -> None:
    from . import rows

    app.context_processor(
        lambda: {
            "workflow": services.current_workflow(),
            "Priority": Priority,
            "Rating": Rating,
            "actions_for": _actions_for,
            "overdue": overdue,
            "unread_notifications": _unread_notifications,
            "statistics_boxes": lambda: statistics.boxes_for(current.user()),
            "language": i18n.language,
            "row_kit": rows.kit,
            "option": option,
        }
    )
    app.add_template_filter(lambda mode: MailMode(mode).label, "mail_mode_label")
    app.add_template_filter(lambda state: SiteState(state).label, "site_state_label")
    app.add_template_filter(local_time, "when")
    app.add_template_filter(i18n.format_day, "day")
    app.add_template_filter(markup.render, "markdown")
    app.add_template_filter(capped, "capped")


def option(value, label, current) -> Markup:
    """One <option> of a select, selected when ``current`` is ``value`` (as text).
    (Written with escape and an f-string: Markup.format takes ten times as long.)"""
    value = str(value)
    selected = " selected" if str(current) == value else ""
    return Markup(f'<option value="{escape(value)}"{selected}>{escape(label)}</option>')


def capped(count: int, cap: int, partial: bool = False) -> str:
    """A count that was only counted up to ``cap`` + 1: "1,000+" rather than a guess; a
    ``partial`` count (of part of a large filtered list) is "at least": "312+"."""
    locale = i18n.locale()
    if count > cap:
        return f"{_number(cap, locale)}+"
    return f"{_number(count, locale)}+" if partial else _number(count, locale)


@functools.lru_cache(maxsize=4096)
def _number(count: int, locale: Locale) -> str:
    """A count as the locale writes it, kept: a list writes a dozen, each of at most the
    cap, and Babel takes some 20 µs to write one."""
    return format_decimal(count, locale=locale)


def _actions_for(ticket: Ticket) -> services.Actions:
    return services.actions_for(current.user(), ticket)


def _unread_notifications() -> int:
    return notify.unread_count(current.user())


def viewer_zone() -> ZoneInfo:
    user = current.user()
    return user.zone if user.is_authenticated else ZoneInfo("UTC")


def local_time(moment: datetime | None) -> str:
    """A stored UTC time in the viewer's timezone and language."""
    if moment is None:
        return ""
    return i18n.format_moment(moment, viewer_zone())


def local_today(zone: ZoneInfo | None = None) -> date:
    """Today's date where the viewer is (in ``zone``, their timezone, when the caller
    has it already): a deadline is a day on their calendar."""
    return utcnow().astimezone(zone or viewer_zone()).date()


def overdue(ticket: Ticket) -> bool:
    """Whether the ticket is still being worked on and its deadline was before today."""
    state = services.current_workflow().describe(ticket.state)
    return past_deadline(ticket.deadline, state, local_today())


def past_deadline(deadline: date | None, state: State, today: date) -> bool:
    """The overdue rule, for a caller that knows the state and today already (a row)."""
    return deadline is not None and deadline < today and state.active
