"""Ticket workflows as data plus pure functions: the states, the moves between them and who
may make each. The services ask these functions, the forms are built from them; labels are
lazily translated (German names from the reference table).

Staff (and admins) may move any ticket to any other state. A ticket's author may make only
the moves the workflow lists in ``author_moves``. Colours name a palette entry of app.css.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .i18n import lazy_gettext as _l


@dataclass(frozen=True)
class State:
    value: int
    name: str
    label: str
    symbol: str
    colour: str
    active: bool
    # Lino's "to do": somebody has to act on it (drives the "todo" list filter).
    todo: bool = False


@dataclass(frozen=True)
class Workflow:
    name: str
    label: str
    states: tuple[State, ...]
    initial: str
    # (from, to) pairs a ticket's author may make on their own ticket.
    author_moves: frozenset[tuple[str, str]]
    # Where "take" puts a ticket that is in one of these states.
    on_take: dict[str, str] = field(default_factory=dict)
    # simpletickets: a staff member who moves an unassigned ticket out of its initial
    # state gets it assigned.
    claim_on_open: bool = False
    # "Solved, waiting for the author's word" (auto-closed after AUTOCLOSE_AFTER), if the
    # workflow has such a state, and the final state of work well done.
    ready: str | None = None
    closed: str = ""

    def state(self, name: str) -> State:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)

    def describe(self, name: str) -> State:
        """The state to show for a stored name, also one this workflow does not know
        (data kept from a workflow the deployment used before)."""
        try:
            return self.state(name)
        except KeyError:
            return State(0, name, name.replace("_", " ").capitalize(), "?", "grey", active=False)

    def has_state(self, name: str) -> bool:
        return any(s.name == name for s in self.states)

    @property
    def active_states(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states if s.active)

    @property
    def solved_states(self) -> tuple[str, ...]:
        """The states of a solved ticket: its resolution time ends when it enters one, and
        its author may rate the work there."""
        return tuple(name for name in (self.ready, self.closed) if name)


def may_move(wf: Workflow, current: str, target: str, *, staff: bool, author: bool) -> bool:
    """Whether someone may move a ticket from ``current`` to ``target``."""
    if target == current or not wf.has_state(target):
        return False
    if staff:
        return True
    return author and (current, target) in wf.author_moves


def next_states(wf: Workflow, current: str, *, staff: bool, author: bool) -> list[State]:
    """The states someone may move a ticket to, in workflow order: the buttons to show."""
    return [s for s in wf.states if may_move(wf, current, s.name, staff=staff, author=author)]


def state_after_take(wf: Workflow, current: str) -> str:
    return wf.on_take.get(current, current)


def claims(wf: Workflow, current: str, *, staff: bool, assigned: bool) -> bool:
    """Whether moving this ticket makes the staff member who moves it its assignee."""
    return wf.claim_on_open and staff and not assigned and current == wf.initial


LINO = Workflow(
    name="lino",
    label=_l("Lino"),
    states=(
        State(10, "new", _l("New"), "⚹", "red", active=True, todo=True),
        State(15, "talk", _l("Talk"), "☎", "purple", active=True),
        State(20, "opened", _l("Open"), "☉", "blue", active=True, todo=True),
        State(22, "working", _l("Working"), "⚒", "amber", active=True, todo=True),
        State(30, "sleeping", _l("Sleeping"), "☾", "slate", active=False),
        State(40, "ready", _l("Ready"), "☐", "teal", active=True),
        State(50, "closed", _l("Closed"), "☑", "green", active=False),
        State(60, "cancelled", _l("Refused"), "☒", "grey", active=False),
    ),
    initial="new",
    author_moves=frozenset({("new", "cancelled"), ("ready", "closed"), ("ready", "opened")}),
    on_take={"new": "opened"},
    ready="ready",
    closed="closed",
)

SIMPLETICKETS = Workflow(
    name="simpletickets",
    label=_l("simpletickets"),
    states=(
        State(1, "new", _l("New"), "⚹", "red", active=True, todo=True),
        State(2, "assigned", _l("Assigned"), "☉", "brown", active=True, todo=True),
        State(5, "in_progress", _l("In progress"), "⚒", "blue", active=True, todo=True),
        State(8, "solved", _l("Solved"), "☐", "grey", active=True),
        State(9, "closed", _l("Closed"), "☑", "grey", active=False),
    ),
    initial="new",
    # An owner who is not happy with the solution reopens it; a closed one is final.
    author_moves=frozenset({("solved", "assigned")}),
    on_take={"new": "assigned"},
    claim_on_open=True,
    ready="solved",
    closed="closed",
)

SPIRE = Workflow(
    name="spire",
    label=_l("spire"),
    states=(
        State(1, "ready", _l("Ready"), "☐", "grey", active=True, todo=True),
        State(2, "in_progress", _l("In progress"), "⚒", "blue", active=True, todo=True),
        State(3, "done", _l("Done"), "☑", "green", active=False),
    ),
    initial="ready",
    author_moves=frozenset({("ready", "done"), ("in_progress", "done")}),
    on_take={"ready": "in_progress"},
    closed="done",
)

WORKFLOWS: dict[str, Workflow] = {wf.name: wf for wf in (LINO, SIMPLETICKETS, SPIRE)}
