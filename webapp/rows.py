"""What a ticket row needs that is the same for every row of a page: the viewer's role,
the CSRF token, the texts in the viewer's language, each state's badge and menu, today.
A list draws 50 rows and more; ``kit()`` works these out once per request (kept on
``flask.g``), so a row costs string formatting rather than lookups and translations.
The rules are those of services.actions_for and templating.past_deadline, asked per row."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import NamedTuple

import sqlalchemy as sa
from flask import url_for
from markupsafe import Markup
from sqlalchemy.orm.attributes import set_committed_value

from . import accounts, csrf_tokens, current, i18n, pagecache, services, setup_names
from .extensions import db
from .i18n import gettext as _
from .models import Priority, Rating, Ticket, User
from .templating import local_today, past_deadline, viewer_zone
from .workflow import State, next_states


class RowKit:
    def __init__(self) -> None:
        user = current.user()
        self.user_id = user.id
        self.staff = user.is_staff
        self.wf = services.current_workflow()
        self.token = csrf_tokens.token()
        self.base = _base()
        self.zone = viewer_zone()
        self.today = local_today(self.zone)
        self.language = i18n.language()
        shared = _SHARED.get((self.wf.name, self.language))
        if shared is None:
            shared = _SHARED[(self.wf.name, self.language)] = _Shared(self.wf)
        self.text, self.priorities, self.ratings = shared.text, shared.priorities, shared.ratings
        self._states, self._menus = shared.states, shared.menus
        self._draw = None  # the row macro, found on first use
        self._kept = None  # the kept rows, looked up on first use
        self._site_names = self._staff_names = None  # as kept, looked up on first use
        self._candidates, self._choices = (), _NOTHING  # the last Assign menu drawn

    def draw(self, ticket, candidates, *, oob: bool = False, conflict=None) -> Markup:
        """The ticket's row as _row.html's macro draws it, with an Assign menu of
        ``candidates`` (none: no menu); ``oob``: to be swapped in by its id wherever it
        is, ``conflict``: a lost race's message shown in it. Called from Python, not
        included: an include costs a template context of its own."""
        if self._draw is None:
            self._draw = current.app().jinja_env.get_template("tickets/_row.html").module.row
        if candidates is not self._candidates:  # a page's rows share theirs
            self._candidates, self._choices = candidates, assign_choices(candidates)
        return self._draw(ticket, self, self._choices, candidates, oob, conflict)

    def kept(self, ticket, candidates) -> Markup:
        """The ticket's row as ``draw`` draws it, kept by the worker for viewers alike
        (the same role and relation to the ticket, language, zone and day) until the
        ticket changes (its version) or the people, sites and types it shows do. A list
        drawn anew after one change redraws one row, not fifty."""
        key = (
            ticket.id, ticket.version, self.staff, ticket.author_id == self.user_id,
            bool(candidates), self.language, self.zone.key, self.today,
        )  # fmt: skip
        if self._kept is None:
            self._kept = pagecache.Pieces("tessera_rows", self.token)
        return self._kept.get(key, lambda: self.draw(ticket, candidates))

    def alone(self, ticket, candidates, conflict=None) -> Markup:
        """The answer to an action from a list's row: the row (with the lost race's
        message, if any), and what the action did, for the live region, in a template
        element (htmx swaps it out of band; a table's rows take nothing else)."""
        row = self.draw(ticket, candidates, conflict=conflict)
        return Markup("%s\n<template>%s</template>") % (row, self.announce(ticket, conflict))

    def announce(self, ticket, conflict=None) -> Markup:
        """What an action did to the ticket, for the page's live region (#alerts): its
        state and assignee now. A lost race is said by the conflict message itself
        (role="alert"), so the region is only emptied."""
        said = _NOTHING
        if not conflict:
            values = {"id": ticket.id, "state": self.state(ticket.state)[1]}
            assignee = self.assignee_name(ticket)
            if assignee is None:
                text = self.text.saved % values
            else:
                text = self.text.saved_to % {**values, "name": assignee}
            said = Markup('<p class="alert alert-success">%s</p>') % text
        return Markup('<div id="alerts" hx-swap-oob="innerHTML">%s</div>') % said

    def row(self, ticket) -> Row:
        """What the ticket's row shows, in one call: a template's calls cost more than
        the work they do."""
        number = ticket.id
        state, state_label = self.state(ticket.state)
        deadline = ticket.deadline
        late = past_deadline(deadline, state, self.today)
        due = self._say("overdue" if late else "due", deadline) if deadline else _NOTHING
        rating = ticket.rating
        rated = _NOTHING
        if rating is not None and self.staff:
            label = self.ratings.get(rating) or str(Rating(rating).label)
            rated = self.text.rated % {"rating": label}
        priority = ticket.priority
        modified = ticket.modified
        return Row(
            id=number,
            url=f"{self.base}{number}",
            late=late,
            due=due,
            rated=rated,
            state=state,
            state_label=state_label,
            priority=priority,
            priority_label=self.priorities.get(priority) or str(Priority(priority).label),
            site=self.site_name(ticket) or "—",
            assignee=self.assignee_name(ticket) or "—",
            modified=modified.isoformat(),
            changed=i18n.format_moment(modified, self.zone, self.language),
            take=services.may_take(self.staff, ticket),
            states=self.state_buttons(ticket),
            select=self._numbered("select", number),
            move=self._numbered("move", number),
            assign_to=self._numbered("assign_to", number),
        )

    def site_name(self, ticket) -> str | None:
        """The name of the ticket's site (None: it has none): from the site loaded with
        it, else from the names the worker keeps of every site (between setup changes)."""
        if self._site_names is None:
            self._site_names = setup_names.site_names()
        return _name(ticket, "site", self._site_names)

    def assignee_name(self, ticket) -> str | None:
        """The name of the person the ticket is assigned to (None: nobody): from the
        person loaded with it, else from the staff the worker keeps; else (someone who has
        left the staff since) read."""
        if self._staff_names is None:
            self._staff_names = accounts.staff_names()
        return _name(ticket, "assignee", self._staff_names)

    def state(self, name: str) -> tuple[State, str]:
        """The state and its label in the viewer's language."""
        found = self._states.get(name)
        if found is None:
            state = self.wf.describe(name)
            found = self._states[name] = (state, str(state.label))
        return found

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

    def _say(self, key: str, day) -> Markup:
        return getattr(self.text, key) % {"day": i18n.format_day(day, self.language)}

    def _numbered(self, key: str, number: int) -> Markup:
        """A text with the ticket's number in it (a number needs no escaping)."""
        return Markup(str.__mod__(getattr(self.text, key), {"id": number}))


class Row(NamedTuple):
    """One ticket's row, as _row.html shows it."""

    id: int
    url: str
    late: bool  # past its deadline while active
    due: Markup  # "overdue: due …" or "due …", or nothing
    rated: Markup  # for staff, the author's rating, or nothing
    state: State
    state_label: str
    priority: int
    priority_label: str
    site: str
    assignee: str
    modified: str  # ISO 8601
    changed: str  # in the viewer's language and timezone
    take: bool
    states: Markup  # the state menu's buttons (none: no menu)
    select: Markup
    move: Markup
    assign_to: Markup


_NOTHING = Markup("")


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
            "saved": _("Saved: #%(id)d is %(state)s, assigned to nobody."),
            "saved_to": _("Saved: #%(id)d is %(state)s, assigned to %(name)s."),
        }  # fmt: skip
        # Attributes, not a dict's items: a template's ``k.text.take`` finds an attribute
        # at once, and a key only after the attribute lookup has failed.
        self.text = SimpleNamespace(**{key: Markup(value) for key, value in t.items()})
        self.priorities = {p.value: str(p.label) for p in Priority}
        self.ratings = {r.value: str(r.label) for r in Rating}
        self.states: dict[str, tuple[State, str]] = {}
        self.menus: dict[tuple[str, bool, bool], Markup] = {}


_SHARED: dict[tuple[str, str], _Shared] = {}


def _name(ticket: Ticket, relation: str, kept: Mapping[int, str]) -> str | None:
    """The name of what the ticket's ``relation`` refers to (None: nothing): from the
    object loaded with the ticket, else as the worker keeps it (``kept``, by id), else
    read (one statement, for this ticket)."""
    ident = getattr(ticket, f"{relation}_id")
    if ident is None:
        return None
    if relation not in ticket.__dict__:
        name = kept.get(ident)
        if name is not None:
            return name
    return getattr(ticket, relation).name


def name_assignees(tickets) -> None:
    """Before their rows are drawn: give the tickets assigned to someone the worker does
    not keep among the staff (who has left it since) their assignee, read for all of
    them in one statement, so that no row reads its own. (A row names every other
    assignee, and every site, from what the worker keeps.)"""
    staff = accounts.staff_ids()
    missing = {
        t.assignee_id
        for t in tickets
        if t.assignee_id is not None and t.assignee_id not in staff and "assignee" not in t.__dict__
    }
    if not missing:
        return
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(missing)))}
    for ticket in tickets:
        if ticket.assignee_id in people:
            set_committed_value(ticket, "assignee", people[ticket.assignee_id])


def _base() -> str:
    """The start of every ticket's address ("/tickets/" where the app is at the root),
    worked out once for each root the app is served at."""
    root = current.request().script_root
    found = _BASES.get(root)
    if found is None:
        found = _BASES[root] = url_for("tickets.detail", ticket_id=0)[:-1]
    return found


_BASES: dict[str, str] = {}


def assign_choices(candidates) -> Markup:
    """The buttons of a row's Assign menu, one per candidate (a staff member, as
    ``accounts.staff_choices`` gives them): alike for every row, kept by the worker for
    each set of staff it has drawn."""
    if not candidates:
        return _NOTHING
    key = tuple((c.id, c.name) for c in candidates)
    found = _ASSIGN_CHOICES.get(key)
    if found is None:
        if len(_ASSIGN_CHOICES) >= 16:  # the staff changed more often than a worker lives
            _ASSIGN_CHOICES.clear()
        found = _ASSIGN_CHOICES[key] = Markup("").join(
            Markup(
                '<button type="submit" name="user" value="{}" class="menu-item">{}</button>'
            ).format(number, name)
            for number, name in key
        )
    return found


_ASSIGN_CHOICES: dict[tuple[tuple[int, str], ...], Markup] = {}


def kit() -> RowKit:
    here = current.g()
    found = here.get("row_kit")
    if found is None or found.user_id != current.user().id:
        found = here.row_kit = RowKit()
    return found
