"""The statistics page's figures, over the tickets the viewer may see (the one visibility
rule decides, for staff and owners alike). The database counts everything in a few grouped
statements over every ticket: about a second at a hundred thousand tickets on SQLite and
at a million on PostgreSQL. So each worker keeps the figures it counted for
STATISTICS_KEEP_SECONDS, for everyone who sees the same tickets (all staff alike, each
owner apart), and the page says when they were counted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import sqlalchemy as sa
from flask import current_app

from . import current, i18n, listing
from .extensions import db
from .i18n import gettext as _
from .models import Priority, Rating, Site, Ticket, TicketType, User, utcnow
from .services import current_workflow
from .visibility import visible_tickets
from .workflow import State

# The page's boxes in the order it shows them; STATISTICS_STAFF and STATISTICS_OWNER
# choose among them.
BOXES = ("counts", "times", "progress", "weekly", "ratings")
WEEKS = 12
OLDEST = 5
KEPT_MAX = 256  # kept figures per worker: all staff share one, each owner has their own


@dataclass
class Count:
    """A line of a count table. ``key`` is what the ticket list filters on: a priority, a
    site's or a type's id; None for the tickets without a site or type."""

    key: int | None
    label: str
    count: int


@dataclass
class Waiting:
    ticket_id: int
    summary: str
    state: str
    age: timedelta


@dataclass
class Counts:
    by_state: list[tuple[State, int]]
    # Open (active) tickets only, from here on.
    by_priority: list[Count]
    by_site: list[Count]
    by_type: list[Count]
    unassigned: int
    overdue: int  # a deadline before ``today``
    today: date
    oldest: list[Waiting]


@dataclass
class Times:
    """How long solving took (solved minus reported), over ``solved`` tickets."""

    solved: int
    fastest: timedelta | None
    median: timedelta | None
    mean: timedelta | None


@dataclass
class Progress:
    solved: int
    pending: int


@dataclass
class Week:
    start: date  # a Monday
    reported: int
    solved: int


@dataclass
class Statistics:
    """The figures of the boxes asked for; the others stay None."""

    counts: Counts | None = None
    times: Times | None = None
    progress: Progress | None = None
    weekly: list[Week] | None = None
    ratings: list[tuple[Rating, int]] | None = None
    at: datetime = field(default_factory=utcnow)  # when they were counted


def boxes_for(user: User) -> tuple[str, ...]:
    """The boxes the settings show this user, in page order; none hides the page."""
    setting = current.config()["STATISTICS_STAFF" if user.is_staff else "STATISTICS_OWNER"]
    return tuple(box for box in BOXES if box in setting)


def statistics_for(user: User, boxes: tuple[str, ...] = BOXES) -> Statistics:
    """The figures of ``boxes`` over the tickets ``user`` may see, counted at most
    STATISTICS_KEEP_SECONDS ago (0: counted for each request)."""
    keep = current_app.config["STATISTICS_KEEP_SECONDS"]
    if keep <= 0:
        return _count(user, boxes)
    kept = current_app.extensions.setdefault("tessera_statistics", {})
    viewer = "staff" if user.is_staff else user.id
    key = (viewer, boxes, _today_for(user), i18n.language())
    found = kept.get(key)
    if found is None or utcnow() - found.at >= timedelta(seconds=keep):
        kept.pop(key, None)  # the newest last: the oldest go first
        found = kept[key] = _count(user, boxes)
        while len(kept) > KEPT_MAX:
            kept.pop(next(iter(kept)))
    return found


def _count(user: User, boxes: tuple[str, ...]) -> Statistics:
    """The figures, counted now. The boxes that are a
    handful of counts over every visible ticket (progress, weekly, ratings) share one
    statement: each gives its columns and reads its part of the one row."""
    visible = visible_tickets(user)
    compute: dict[str, Callable[[], object]] = {
        "counts": lambda: _counts(visible, _today_for(user)),
        "times": lambda: _times(visible),
    }
    shared = {"progress": _progress, "weekly": _weekly, "ratings": _ratings}
    parts = {box: shared[box]() for box in boxes if box in shared}
    found: dict[str, object] = {}
    if parts:
        columns = [column for part_columns, _read in parts.values() for column in part_columns]
        row = db.session.execute(sa.select(*columns).where(visible)).one()
        start = 0
        for box, (part_columns, read) in parts.items():
            found[box] = read(row[start : start + len(part_columns)])
            start += len(part_columns)
    return Statistics(**{box: found[box] if box in found else compute[box]() for box in boxes})


def _today_for(user: User) -> date:
    """Today on the user's calendar, which their deadlines are days of (as in the lists)."""
    return utcnow().astimezone(user.zone).date()


def _counts(visible: sa.ColumnElement[bool], today: date) -> Counts:
    wf = current_workflow()
    now = utcnow()
    per_state = db.session.execute(
        sa.select(
            Ticket.state,
            sa.func.count(),
            sa.func.count(sa.case((Ticket.assignee_id.is_(None), 1))),
            sa.func.count(sa.case((Ticket.deadline < today, 1))),
        )
        .where(visible)
        .group_by(Ticket.state)
    ).all()
    found = {state: count for state, count, _, _ in per_state}
    by_state = [(s, found.pop(s.name, 0)) for s in wf.states]
    # States left behind by a workflow the deployment used before are shown too.
    by_state += [(wf.describe(name), count) for name, count in sorted(found.items())]
    open_states = [row for row in per_state if row[0] in wf.active_states]
    active = sa.and_(visible, listing.active(wf))
    oldest = db.session.execute(
        sa.select(Ticket.id, Ticket.summary, Ticket.state, Ticket.created)
        .where(active)
        .order_by(Ticket.created, Ticket.id)
        .limit(OLDEST)
    ).all()
    by_priority, by_site, by_type = _open_by(active)
    return Counts(
        by_state=by_state,
        by_priority=by_priority,
        by_site=by_site,
        by_type=by_type,
        unassigned=sum(row[2] for row in open_states),
        overdue=sum(row[3] for row in open_states),
        today=today,
        oldest=[Waiting(row.id, row.summary, row.state, now - row.created) for row in oldest],
    )


def _open_by(active: sa.ColumnElement[bool]) -> tuple[list[Count], list[Count], list[Count]]:
    """Open tickets by priority, by site and by type, in one statement."""

    def grouped(kind: str, key, label, joined=None, on=None) -> sa.Select:
        query = sa.select(
            sa.literal(kind, sa.String).label("kind"),
            key.label("key"),
            label.label("label"),
            sa.func.count().label("n"),
        ).select_from(Ticket)
        if joined is not None:
            query = query.outerjoin(joined, on)
        return query.where(active).group_by(key, label)

    rows = db.session.execute(
        sa.union_all(
            grouped("priority", Ticket.priority, sa.cast(sa.null(), sa.String)),
            grouped("site", Ticket.site_id, Site.name, Site, Site.id == Ticket.site_id),
            grouped(
                "type",
                Ticket.ticket_type_id,
                TicketType.name,
                TicketType,
                TicketType.id == Ticket.ticket_type_id,
            ),
        )
    ).all()
    priorities = {row.key: row.n for row in rows if row.kind == "priority"}
    by_priority = [
        Count(p.value, p.label, priorities[p]) for p in reversed(Priority) if p in priorities
    ]
    by: dict[str, list[Count]] = {"site": [], "type": []}
    for row in rows:
        if row.kind in by:
            nothing = _("No site") if row.kind == "site" else _("No type")
            by[row.kind].append(Count(row.key, row.label or nothing, row.n))
    return by_priority, sorted(by["site"], key=_most_first), sorted(by["type"], key=_most_first)


def _most_first(line: Count) -> tuple:
    """Most tickets first; "no site" after the sites with as many."""
    return (-line.count, line.key is None, line.label.lower())


def _times(visible: sa.ColumnElement[bool]) -> Times:
    """Fastest, median and mean resolution in one statement; the median is the middle row
    (or the mean of the two middle rows) of the sorted durations, numbered by a window."""
    took = _seconds_between(Ticket.created, Ticket.resolved)
    solved = sa.and_(visible, Ticket.resolved.is_not(None))
    ranked = (
        sa.select(
            took.label("took"),
            sa.func.row_number().over(order_by=took).label("rn"),
            sa.func.count().over().label("n"),
        )
        .where(solved)
        .subquery()
    )
    middle = sa.or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
    n, fastest, mean, median = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.min(ranked.c.took),
            sa.func.avg(ranked.c.took),
            sa.func.avg(sa.case((middle, ranked.c.took))),
        )
    ).one()
    if not n:
        return Times(0, None, None, None)
    return Times(n, _duration(fastest), _duration(median), _duration(mean))


def _seconds_between(start, end) -> sa.ColumnElement[float]:
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400


def _duration(seconds) -> timedelta:
    # SQLite's julianday carries float noise below the second.
    return timedelta(seconds=round(float(seconds)))


# The shared boxes: each gives the columns it needs over the visible tickets, and reads
# its figures from those columns of the one row.


def _progress() -> tuple[list, Callable[[Sequence], Progress]]:
    """Solved: has a resolution time; pending: still active and not solved."""
    active = listing.active(current_workflow())
    columns = [
        sa.func.count(sa.case((Ticket.resolved.is_not(None), 1))),
        sa.func.count(sa.case((sa.and_(active, Ticket.resolved.is_(None)), 1))),
    ]
    return columns, lambda row: Progress(row[0], row[1])


def _weekly() -> tuple[list, Callable[[Sequence], list[Week]]]:
    """Reported and solved per week (Monday to Sunday, UTC), the current week last."""
    today = utcnow().date()
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    bounds = [datetime.combine(d, time(), UTC) for d in mondays]
    bounds.append(bounds[-1] + timedelta(weeks=1))

    def per_week(column) -> list:
        return [
            sa.func.count(sa.case((sa.and_(column >= start, column < end), 1)))
            for start, end in pairwise(bounds)
        ]

    columns = [*per_week(Ticket.created), *per_week(Ticket.resolved)]
    return columns, lambda row: [Week(d, row[i], row[WEEKS + i]) for i, d in enumerate(mondays)]


def _ratings() -> tuple[list, Callable[[Sequence], list[tuple[Rating, int]]]]:
    columns = [sa.func.count(sa.case((Ticket.rating == r.value, 1))) for r in Rating]
    return columns, lambda row: list(zip(Rating, row, strict=True))


def human_duration(span: timedelta | None) -> str:
    """A duration as people say it: "2 d 3 h", "3 h 20 min", "45 min"."""
    if span is None:
        return "—"
    minutes = int(span.total_seconds()) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        if hours:
            return _("%(days)d d %(hours)d h", days=days, hours=hours)
        return _("%(days)d d", days=days)
    if hours:
        if minutes:
            return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
        return _("%(hours)d h", hours=hours)
    return _("%(minutes)d min", minutes=minutes) if minutes else _("under 1 min")
