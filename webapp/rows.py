"""What a ticket row needs that is the same for every row of a page: the viewer's role,
the CSRF token, the texts in the viewer's language, each state's badge and menu, today.
A list draws 50 rows and more; ``kit()`` works these out once per request (kept on
``flask.g``), so a row costs string formatting rather than lookups and translations.
The rules are those of services.actions_for and templating.overdue, asked per row."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from . import i18n, pagecache, services
from .models import Priority, Rating
from .templating import local_today, viewer_zone
from .workflow import State, next_states


class RowKit:
    def __init__(self) -> None:
        user = current_user._get_current_object()
        self.user_id = user.id
        self.staff = user.is_staff
        self.wf = services.current_workflow()
        self.token = generate_csrf()
        self.base = url_for("tickets.detail", ticket_id=0)[:-1]  # "/tickets/"
        self.today = local_today()
        self.zone = viewer_zone()
        self.language = i18n.language()
        shared = _SHARED.get((self.wf.name, self.language))
        if shared is None:
            shared = _SHARED[(self.wf.name, self.language)] = _Shared(self.wf)
        self.text, self.priorities, self.ratings = shared.text, shared.priorities, shared.ratings
        self._states, self._menus = shared.states, shared.menus

    def url(self, ticket_id: int) -> str:
        return f"{self.base}{ticket_id}"

    def say(self, key: str, **values) -> Markup:
        return self.text[key] % values

    def state(self, name: str) -> tuple[State, str]:
        """The state and its label in the viewer's language."""
        found = self._states.get(name)
        if found is None:
            state = self.wf.describe(name)
            found = self._states[name] = (state, str(state.label))
        return found

    def priority(self, value: int) -> str:
        return self.priorities.get(value) or str(Priority(value).label)

    def rating(self, value: int | None) -> str:
        return "" if value is None else self.ratings.get(value) or str(Rating(value).label)

    def can_take(self, ticket) -> bool:
        return services.may_take(self.staff, ticket)

    def state_buttons(self, ticket) -> Markup:
        """The buttons of the row's state menu (empty: no menu), alike for every ticket in
        the same state with the same author relation."""
        author = ticket.author_id == self.user_id
        key = (ticket.state, self.staff, author)
        menu = self._menus.get(key)
        if menu is None:
            states = next_states(self.wf, ticket.state, staff=self.staff, author=author)
            menu = self._menus[key] = Markup("").join(
                Markup(
                    '<button type="submit" name="state" value="{}" class="menu-item">'
                    '<span aria-hidden="true">{}</span> {}</button>'
                ).format(s.name, s.symbol, s.label)
                for s in states
            )
        return menu

    def overdue(self, ticket) -> bool:
        if ticket.deadline is None or ticket.deadline >= self.today:
            return False
        return self.state(ticket.state)[0].active

    def day(self, value) -> str:
        return i18n.format_day(value, self.language)

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return i18n.format_moment(moment, self.zone, self.language)


class _Shared:
    """What every row of every request in one language shares: texts, labels and menus
    (translations do not change while the process runs)."""

    def __init__(self, wf) -> None:
        # Texts as the templates' _() gives them: trusted translations, the values escaped.
        t = {
            "select": _("Select #%(id)d"),
            "private_title": _("Only the author, the assignee and staff see it"),
            "private": _("private"), "overdue": _("overdue: due %(day)s"), "due": _("due %(day)s"),
            "rated_title": _("The author's rating of the work"), "rated": _("rated: %(rating)s"),
            "priority": _("Priority"), "site": _("Site"), "assigned": _("Assigned to"),
            "changed": _("Changed"), "take": _("Take"), "state": _("State"),
            "move": _("Move #%(id)d to"), "assign": _("Assign"),
            "assign_to": _("Assign #%(id)d to"), "nobody": _("Nobody"),
        }  # fmt: skip
        self.text = {key: Markup(value) for key, value in t.items()}
        self.priorities = {p.value: str(p.label) for p in Priority}
        self.ratings = {r.value: str(r.label) for r in Rating}
        self.states: dict[str, tuple[State, str]] = {}
        self.menus: dict[tuple[str, bool, bool], Markup] = {}


_SHARED: dict[tuple[str, str], _Shared] = {}


def kept_row(ticket, assign_choices: Markup, candidates) -> Markup:
    """The ticket's row as _row.html draws it, kept by the worker for viewers alike (the
    same role and relation to the ticket, language, zone and day) until the ticket changes
    (its version) or the people, sites and types it shows do. A list drawn anew after one
    change redraws one row, not fifty."""
    k = kit()
    key = (
        ticket.id, ticket.version, k.staff, ticket.author_id == k.user_id, bool(candidates),
        k.language, k.zone.key, k.today,
    )  # fmt: skip
    template = current_app.jinja_env.get_template("tickets/_row.html")

    def draw() -> str:
        return template.render(
            t=ticket, assign_choices=assign_choices, candidates=candidates, row_kit=kit
        )

    return pagecache.piece("tessera_rows", key, draw, k.token)


def kit() -> RowKit:
    found = g.get("row_kit")
    if found is None or found.user_id != current_user.id:
        found = g.row_kit = RowKit()
    return found
