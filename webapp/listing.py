"""Ticket lists: Lino's views as tabs, filters, sorting and keyset pagination, all read
from and written to a query string, so a view is a URL. Every query starts from the one
visibility rule."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql import util as sql_util

from . import csvexport, search
from .extensions import db
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import (
    Change,
    Priority,
    Rating,
    Site,
    Subscription,
    Ticket,
    TicketType,
    User,
    UTCDateTime,
)
from .routing import as_id
from .visibility import visible_tickets
from .workflow import Workflow

PAGE_SIZE = 50  # a morning's new tickets at a glance (issue 9 measures 50 rows)
# Every count a list, a panel or a site's page shows stops here ("1,000+"): past it a
# number tells a person nothing a list can show, and counting on costs every page.
COUNT_CAP = 1000
# PostgreSQL: how many tickets in a list's date range it sorts itself, at most (see
# _range_first).
RANGE_SORTED = 50_000


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    order: tuple[str, ...]
    staff_only: bool
    where: Callable[[User, Workflow], Any]
    # The workflow state the tab is about, when it needs one (Lino's "talk").
    needs_state: str | None = None


def one_of(column: sa.ColumnElement, values) -> sa.ColumnElement[bool]:
    """``column IN (values)``, each value a bound parameter of its own: the SQL is written
    once, when the statement is compiled. (A plain ``in_`` of a list is one "expanding"
    parameter, whose SQL SQLAlchemy writes anew at every execution: a staff member's tab
    counts ask for the active states three times.)"""
    return column.in_([sa.literal(value, column.type) for value in values])


def active(wf: Workflow) -> sa.ColumnElement[bool]:
    """A ticket in one of the workflow's active states."""
    return one_of(Ticket.state, wf.active_states)


def _subscribed(user: User):
    return Ticket.site_id.in_(
        sa.select(Subscription.site_id).where(Subscription.user_id == user.id)
    )


TABS = (
    Tab("triage", _l("To triage"), ("-priority", "-id"), True,
        lambda u, wf: Ticket.state == wf.initial),
    Tab("work", _l("My work"), ("-priority", "-modified", "-id"), True,
        lambda u, wf: sa.and_(active(wf), Ticket.assignee_id == u.id)),
    Tab("unassigned", _l("Unassigned"), ("-priority", "-modified", "-id"), True,
        lambda u, wf: sa.and_(active(wf), Ticket.assignee_id.is_(None))),
    Tab("mine", _l("My tickets"), ("-priority", "-id"), False,
        lambda u, wf: sa.and_(active(wf), Ticket.author_id == u.id)),
    Tab("feedback", _l("Needing my feedback"), ("-priority", "-id"), False,
        lambda u, wf: sa.and_(
            Ticket.state == "talk", _subscribed(u),
            sa.or_(Ticket.last_commenter_id.is_(None), Ticket.last_commenter_id != u.id),
        ), needs_state="talk"),
    Tab("waiting", _l("Waiting for others"), ("-modified", "-id"), False,
        lambda u, wf: sa.and_(Ticket.state == "talk", Ticket.last_commenter_id == u.id),
        needs_state="talk"),
    Tab("active", _l("Active"), ("-id",), False, lambda u, wf: active(wf)),
    Tab("public", _l("Public"), ("-id",), False, lambda u, wf: Ticket.private.is_(False)),
    # "> " rather than IS NOT NULL (the same here: an empty ref is stored as NULL) lets
    # SQLite walk ix_tickets_ref.
    Tab("ref", _l("With reference"), ("ref", "-id"), True, lambda u, wf: Ticket.ref > ""),
    Tab("all", _l("All"), ("-id",), False, lambda u, wf: sa.true()),
)  # fmt: skip
TAB_BY_KEY = {tab.key: tab for tab in TABS}
SORTABLE = {
    "id": Ticket.id,
    "priority": Ticket.priority,
    "modified": Ticket.modified,
    "created": Ticket.created,
    "ref": Ticket.ref,
    "deadline": Ticket.deadline,
}
# Columns that may be NULL: a NULL sorts last whatever the direction (a ticket without a
# deadline or a reference comes after those with one), and the cursor knows it.
NULLS_LAST = frozenset({Ticket.ref, Ticket.deadline})
YES_NO = {"yes": True, "no": False}
FLAG_FILTERS = ("private", "todo", "active", "assigned", "has_site")
DATE_FILTERS = (
    "deadline_before", "created_from", "created_to", "modified_from", "modified_to",
)  # fmt: skip


def tabs_for(user: User, wf: Workflow) -> list[Tab]:
    staff = user.is_staff  # once: the user is mostly flask_login's proxy
    return [
        t for t in TABS
        if (staff or not t.staff_only) and (t.needs_state is None or wf.has_state(t.needs_state))
    ]  # fmt: skip


def default_tab(user: User) -> str:
    return "triage" if user.is_staff else "mine"


@dataclass
class View:
    """One list view: a tab, its filters, a sort and a position, as read from a URL."""

    tab: str
    filters: dict[str, Any] = field(default_factory=dict)
    sort: str = ""
    after: list | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, str], user: User, wf: Workflow) -> View:
        errors: dict[str, str] = {}
        keys = {t.key for t in tabs_for(user, wf)}
        tab = args.get("tab") or default_tab(user)
        if tab not in keys:
            errors["tab"] = _("There is no list %(tab)r for you.", tab=tab)
            tab = default_tab(user)
        filters = _parse_filters(args, wf, errors)
        sort = args.get("sort", "")
        if sort and sort.lstrip("-") not in SORTABLE:
            errors["sort"] = _("Cannot sort by %(key)r.", key=sort.lstrip("-"))
            sort = ""
        after = None
        if args.get("after"):
            try:
                after = json.loads(base64.urlsafe_b64decode(args["after"].encode()))
                if not isinstance(after, list):
                    raise ValueError
            except ValueError:
                errors["after"] = _("That page link is broken; showing the first page.")
        view = cls(tab, filters, sort, after, errors)
        if not view._cursor_fits():
            view.errors["after"] = _("That page link is broken; showing the first page.")
            view.after = None
        return view

    def _cursor_fits(self) -> bool:
        """Whether the cursor's values are what the sort columns hold (a date for a date)."""
        columns = [SORTABLE.get(key.lstrip("-")) for key in self.order()]  # None: rank
        try:
            for column, value in zip(columns, self.after or [], strict=False):
                if column is not None:
                    _restore(column, value)
                elif type(value) not in (int, float) or value not in search.RANKS:
                    return False
        except (TypeError, ValueError):
            return False
        return True

    def order(self) -> tuple[str, ...]:
        if self.sort:
            return (self.sort, "-id") if self.sort.lstrip("-") != "id" else (self.sort,)
        if self.filters.get("q"):
            return ("-rank", "-id")
        return TAB_BY_KEY[self.tab].order

    def args(self, **changes: Any) -> dict[str, str]:
        """The query string of this view (or of a changed copy), without empty parts."""
        view = replace(self, **changes) if changes else self
        args = {"tab": view.tab, **{k: _format(v) for k, v in view.filters.items()}}
        if view.sort:
            args["sort"] = view.sort
        if view.after is not None:
            args["after"] = base64.urlsafe_b64encode(json.dumps(view.after).encode()).decode()
        return {k: v for k, v in args.items() if v not in ("", None)}


@dataclass
class Page:
    tickets: list[Ticket]
    next_after: list | None


def where(user: User, wf: Workflow, tab: str, filters: dict[str, Any]):
    """The WHERE clause of a tab with filters, always inside what the user may see."""
    return sa.and_(TAB_BY_KEY[tab].where(user, wf), filtered(user, wf, filters))


def filtered(user: User, wf: Workflow, filters: dict[str, Any]):
    """What the user may see, narrowed by the filters (any tab)."""
    clauses = [visible_tickets(user)]
    f = filters
    for name, column in (
        ("site", Ticket.site_id), ("type", Ticket.ticket_type_id),
        ("priority", Ticket.priority), ("state", Ticket.state),
    ):  # fmt: skip
        if name in f:
            clauses.append(column == f[name])
    if "assignee" in f:
        value = f["assignee"]
        clauses.append(
            Ticket.assignee_id.is_(None) if value == "none"
            else Ticket.assignee_id == (user.id if value == "me" else value)
        )  # fmt: skip
    if "author" in f:
        author = sa.select(User.id).where(User.username == f["author"]).scalar_subquery()
        clauses.append(Ticket.author_id == author)
    if "end_user" in f:
        part, dialect = f["end_user"], db.session.get_bind().dialect.name
        clauses.append(
            sa.or_(*(search.contains(column, part, dialect)
                     for column in (Ticket.end_user_name, Ticket.end_user_email)))
        )  # fmt: skip
    flags = {
        "private": Ticket.private.is_(True),
        "todo": one_of(Ticket.state, [s.name for s in wf.states if s.todo]),
        "active": active(wf),
        "assigned": Ticket.assignee_id.is_not(None),
        "has_site": Ticket.site_id.is_not(None),
    }
    for name, clause in flags.items():
        if name in f:
            clauses.append(clause if f[name] else sa.not_(clause))
    if "rating" in f:
        value = f["rating"]
        clauses.append(Ticket.rating.is_(None) if value == "none" else Ticket.rating == value)
    for name in ("deadline", "created", "modified"):
        clauses += _range(Ticket, name, f)
    return sa.and_(*clauses)


def _range(ticket, name: str, filters: dict[str, Any]) -> list:
    """A date filter's conditions (deadline, created or modified) on ``ticket`` (the
    tickets or an alias of them), none if the view has no such filter: before a day, or
    from the first day's start to the last day's end."""
    if name == "deadline":
        before = filters.get("deadline_before")
        return [] if before is None else [ticket.deadline < _known(before, sa.Date)]
    column, clauses = getattr(ticket, name), []
    if f"{name}_from" in filters:
        clauses.append(column >= _known(_start_of(filters[f"{name}_from"]), UTCDateTime))
    if f"{name}_to" in filters:
        end = _start_of(filters[f"{name}_to"] + timedelta(days=1))
        clauses.append(column < _known(end, UTCDateTime))
    return clauses


def _known(value, type_):
    """A date filter's value, written into the SQL on PostgreSQL (``search.constant``):
    a statement run a few times is planned once for any value, and a plan for any range
    walked every ticket for a narrow one (a month's tickets by number, 71 -> 196 ms at a
    million tickets; due before a day, 46 -> 240 ms)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return search.constant(value, type_)
    return sa.literal(value, type_)


def in_view(user: User, wf: Workflow, view: View):
    """Whether a ticket belongs to the view: its tab, its filters and its search."""
    clause = where(user, wf, view.tab, view.filters)
    found = _found(view)
    return clause if found is None else sa.and_(clause, found.matching())


# Built statements, by what they are built from (the viewer's id and role, the workflow,
# the view; or the home page's panel, or the site): the same list asked again skips
# building its statement, and SQLAlchemy finds its compiled form by the statement's own,
# already computed, cache key. A statement holds no data, only the question; the oldest
# go first.
_STATEMENTS: dict[tuple, Any] = {}
STATEMENTS_KEPT = 256


def _remembered(kind: str, user: User, wf: Workflow, view: View, build: Callable[[], Any]):
    key = (
        kind, user.id, user.is_staff, wf.name, view.tab, tuple(sorted(view.filters.items())),
        view.sort, json.dumps(view.after), db.session.get_bind().dialect.name, COUNT_CAP,
        RANGE_SORTED, search.CANDIDATES, search.LOOK_FIRST,
    )  # fmt: skip
    return _kept(key, build)


def _kept(key: tuple, build: Callable[[], Any]):
    """The statement built for ``key``, built now if it is not kept."""
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build()
        while len(_STATEMENTS) > STATEMENTS_KEPT:
            _STATEMENTS.pop(next(iter(_STATEMENTS)), None)
    return statement


def page(user: User, wf: Workflow, view: View, size: int | None = None) -> Page:
    """One page of the view, in one query, with the next page's cursor."""
    size = size or PAGE_SIZE
    query = _remembered(f"page{size}", user, wf, view, lambda: _page_query(user, wf, view, size))
    rows = db.session.execute(query).all()
    tickets = [row[0] for row in rows[:size]]
    next_after = None
    if len(rows) > size:
        last = rows[size - 1]
        next_after = [_jsonable(v) for v in last[1:]]
    return Page(tickets, next_after)


def _page_query(user: User, wf: Workflow, view: View, size: int) -> sa.Select:
    query, sort_columns = _ordered_query(user, wf, view)
    found = _found(view)
    if found is not None and view.order() == ("-rank", "-id"):
        # A search in rank order: the search finds the page's best matches.
        after = view.after if view.after is not None and len(view.after) == 2 else None
        best = found.best(where(user, wf, view.tab, view.filters), size + 1, after)
        top = sa.select(
            best.c.ticket_id.label("top_id"), best.c.rank.label("key0"),
            best.c.ticket_id.label("key1"),
        ).subquery()  # fmt: skip
    else:
        # Sort narrow rows (id and sort keys) first, then fetch the page's tickets whole.
        if view.after is not None and len(view.after) == len(sort_columns):
            query = query.where(_after(sort_columns, view.after))
        keys = [column.label(f"key{i}") for i, (column, _) in enumerate(sort_columns)]
        # A column that may be NULL is sorted by "IS NULL" first: given as a column too,
        # so that PostgreSQL sees that the page below comes out in the order above.
        keys += [column.is_(None).label(f"empty{i}")
                 for i, (column, _) in enumerate(sort_columns) if column in NULLS_LAST]  # fmt: skip
        top = query.with_only_columns(Ticket.id.label("top_id"), *keys).limit(size + 1)
        if ranged := _range_apart(view, sort_columns):
            top = _range_first(top, view, ranged, sort_columns, size)
        top = top.subquery()
    top_keys = [top.c[f"key{i}"] for i in range(len(sort_columns))]
    order = []
    for i, (key, (column, desc)) in enumerate(zip(top_keys, sort_columns, strict=True)):
        empty = top.c[f"empty{i}"] if column in NULLS_LAST else None
        order += _direction(key, desc, empty=empty)
    query = sa.select(Ticket, *top_keys).join(top, top.c.top_id == Ticket.id).order_by(*order)
    return query


# The date ranges a list is sorted apart by (see _range_first): each by an index that
# holds (the range's column, modified, id, state), so that the All and Active tabs sort
# their tickets in the range by last change or number from the index alone. A list sorted
# by another column, or by last change in a range of last changes, walks its order: its
# tickets are not found sooner or later in that order for being in the range.
RANGES = ("created", "deadline")


def _range_apart(view: View, sort_columns) -> str | None:
    """On PostgreSQL, the date range of a list sorted by last change or number (created
    first, then deadline), or None (SQLite's planner takes a range first on its own)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    if not all(column in (Ticket.modified, Ticket.id) for column, _ in sort_columns):
        return None
    return _date_range(view)


def _date_range(view: View) -> str | None:
    """The first of RANGES that the view's filters bound, or None."""
    return next((name for name in RANGES if _range(Ticket, name, view.filters)), None)


def _range_first(walk: sa.Select, view: View, name: str, sort_columns, size: int):
    """The page of a list of the tickets in a date range (created in some days, or due
    before one), sorted by last change or number. PostgreSQL walks that order from the
    top until the page is full, taking the range's tickets to be spread evenly along it;
    but a ticket created long ago mostly changed long ago, and a month a year back walked
    every ticket changed since (1.1 s at a million tickets). So when the range holds at
    most RANGE_SORTED tickets (counted in its index alone), the page takes all of the
    view's tickets in it, by whichever index suits the view, and sorts them; only more
    are walked as before."""
    indexed = aliased(Ticket, name="in_range")
    cap = sa.literal(RANGE_SORTED + 1, literal_execute=True)
    held = (
        sa.select(indexed.id)
        .where(indexed.deleted.is_(None), *_range(indexed, name, view.filters))
        .limit(cap)
        .subquery()
    )
    counted = sa.select(sa.func.count().label("held")).select_from(held).cte("range_counted")
    few = sa.select(counted.c.held <= RANGE_SORTED).scalar_subquery()
    # Apart (OFFSET 0), so that the planner finds them as it would all of them, not in the
    # page's order (a MATERIALIZED CTE did too, but copied them: 15-20 ms against 9-10
    # for a month of a million tickets).
    found = walk.order_by(None).limit(None).offset(0).subquery("range_found")
    order = [
        clause
        for i, (_, desc) in enumerate(sort_columns)
        for clause in _direction(found.c[f"key{i}"], desc)
    ]
    sorted_range = sa.select(found).where(few).order_by(*order).limit(size + 1)
    parts = (sorted_range, walk.where(sa.not_(few)))
    return sa.union_all(*(sa.select(part.subquery()) for part in parts))


def counts(user: User, wf: Workflow, view: View) -> dict[str, Any]:
    """How many tickets each tab holds with the view's filters, in one statement; under
    "since", the newest change's id (where the list's live updates start).

    Without filters each tab counts along its index up to COUNT_CAP + 1 ("1,000+"). A
    filtered view (or a search) is counted in one pass over its first COUNT_CAP + 1
    tickets; when there are more, every count is a lower bound and "partial" says so."""
    statement = _remembered("counts", user, wf, view, lambda: _counts_query(user, wf, view))
    # Plain numbers: run by the connection, without the ORM's look for entities to load.
    row = db.session.connection().execute(statement).one()
    result = {k: v or 0 for k, v in row._mapping.items()}
    if not view.filters:
        return {**result, "partial": False}
    return {**result, "partial": result.pop("total") > COUNT_CAP}


def _counts_query(user: User, wf: Workflow, view: View) -> sa.Select:
    since = sa.select(sa.func.max(Change.id)).scalar_subquery().label("since")
    tabs = tabs_for(user, wf)
    if not view.filters:
        columns = [since]
        for tab in tabs:
            inner = (
                sa.select(Ticket.id)
                .where(where(user, wf, tab.key, view.filters))
                .limit(COUNT_CAP + 1)
                .subquery()
            )
            count = sa.select(sa.func.count()).select_from(inner).scalar_subquery()
            columns.append(count.label(tab.key))
        return sa.select(*columns)
    chosen = sa.select(*Ticket.__table__.c).where(filtered(user, wf, view.filters))
    found = _found(view)
    if found is not None:
        chosen = chosen.where(found.matching())
    elif ranged := _date_range(view):
        # The first tickets of a date range in its index's order: else PostgreSQL reads
        # the table in its own order until it has found them (9 -> 3 ms for a month a
        # year back, at a million tickets). A search finds its own first.
        chosen = chosen.order_by(getattr(Ticket, ranged))
    # One pass: each tab's condition is asked of the chosen rows themselves.
    # The cap written into the SQL: in a plan kept for any cap (psycopg prepares a statement
    # run five times), PostgreSQL hashed every ticket to count a search's first matches.
    cap = sa.literal(COUNT_CAP + 1, literal_execute=True)
    chosen = chosen.limit(cap).subquery("chosen")
    on_chosen = sql_util.ClauseAdapter(chosen)
    columns = [since, sa.func.count().label("total")] + [
        sa.func.count().filter(on_chosen.traverse(tab.where(user, wf))).label(tab.key)
        for tab in tabs
    ]
    return sa.select(*columns).select_from(chosen)


def first(
    user: User, name: tuple, asked: Callable[[], tuple[Any, tuple]], size: int
) -> tuple[int, list[Ticket]]:
    """The first ``size`` tickets the user may see that meet the condition ``asked()``
    gives, in the order it gives, and how many there are, counted up to COUNT_CAP + 1 as
    the tabs count: one statement. The order should be one an index gives, so that
    neither part reads more tickets than it shows (the home page's panels, a site's
    page). The statement is built once for the user and ``name`` (what, besides the user,
    decides the condition), as a list's is."""

    def build() -> sa.Select:
        condition, order = asked()
        where = sa.and_(visible_tickets(user), condition)
        held = sa.select(Ticket.id).where(where).limit(COUNT_CAP + 1).subquery()
        count = sa.select(sa.func.count()).select_from(held).scalar_subquery()
        return sa.select(Ticket, count).where(where).order_by(*order).limit(size)

    key = ("first", *name, user.id, user.is_staff, size, COUNT_CAP)
    rows = db.session.execute(_kept(key, build)).all()
    return (rows[0][1] if rows else 0), [row[0] for row in rows]


def matching_ids(user: User, wf: Workflow, view: View, cap: int) -> list[int]:
    """The ids of every ticket in the view (for "all N matching"), at most ``cap``."""
    query, _ = _ordered_query(user, wf, view)
    query = query.with_only_columns(Ticket.id).limit(cap)
    return list(db.session.scalars(query))


def export_query(user: User, wf: Workflow, view: View) -> sa.Select:
    """Every ticket of the view, all pages, as the CSV's cells (csvexport.written): names
    joined in, labels in the viewer's language, what people type neutralised for
    spreadsheets."""
    query, _ = _ordered_query(user, wf, view)
    dialect = db.session.get_bind().dialect.name
    typed = functools.partial(csvexport.neutralised, dialect=dialect)
    author, assignee = _EXPORT_AUTHOR, _EXPORT_ASSIGNEE
    columns = (
        Ticket.id, typed(Ticket.summary), Ticket.state,
        csvexport.labelled(Ticket.priority, _labels(Priority)), typed(Site.name),
        typed(TicketType.name), typed(author.username), typed(assignee.username),
        typed(Ticket.end_user_name), csvexport.utc_text(Ticket.created, dialect),
        csvexport.utc_text(Ticket.modified, dialect), csvexport.day_text(Ticket.deadline, dialect),
        sa.case((Ticket.private, "yes"), else_="no"), typed(Ticket.ref),
        csvexport.labelled(Ticket.rating, _labels(Rating)),
    )  # fmt: skip
    return (
        query.with_only_columns(*columns, maintain_column_froms=True)
        .outerjoin(Site, Site.id == Ticket.site_id)
        .outerjoin(TicketType, TicketType.id == Ticket.ticket_type_id)
        .join(author, author.id == Ticket.author_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
    )


# The export's author and assignee: one pair of aliases, so that its statement is the same
# from export to export (SQLAlchemy compiles it once).
_EXPORT_AUTHOR, _EXPORT_ASSIGNEE = aliased(User), aliased(User)


def _labels(choices) -> dict[int, str]:
    """Each choice's label, in the viewer's language."""
    return {choice.value: str(choice.label) for choice in choices}


def _found(view: View) -> search.Search | None:
    text = view.filters.get("q")
    return search.parse(db.session.get_bind().dialect.name, text) if text else None


def _ordered_query(user: User, wf: Workflow, view: View) -> tuple[sa.Select, list]:
    found = _found(view)
    sort_columns = []
    for key in view.order():
        name = key.lstrip("-")
        if name == "rank" and found is None:
            continue
        column = found.rank() if name == "rank" else SORTABLE[name]
        sort_columns.append((column, key.startswith("-")))
    query = sa.select(Ticket, *[c for c, _ in sort_columns])
    if found is not None:
        query = query.where(found.matching())
    query = query.where(where(user, wf, view.tab, view.filters))
    order = [clause for c, desc in sort_columns for clause in _direction(c, desc)]
    return query.order_by(*order), sort_columns


def _direction(column, desc: bool, *, empty=None) -> list:
    """The ORDER BY terms of one sort column. A column that may be NULL sorts by "IS
    NULL" first (false before true), then by itself: the order of NULLS LAST, but one an
    index gives on both databases (SQLite cannot index NULLS LAST), read forwards in
    either direction (the tickets' sort indexes in models.py). ``empty``: that flag as
    a column already selected (a page's subquery gives it)."""
    ordered = column.desc() if desc else column.asc()
    if empty is None and column in NULLS_LAST:
        empty = column.is_(None)
    return [ordered] if empty is None else [empty, ordered]


def _after(sort_columns, values: list):
    """Keyset condition: rows that come after ``values`` in the sort order (NULLs last)."""
    clauses = []
    for i, (column, desc) in enumerate(sort_columns):
        value = _restore(column, values[i])
        if value is None:
            continue  # nothing sorts after NULL in this column
        earlier = zip(sort_columns[:i], values[:i], strict=True)
        equal = [_equals(c, _restore(c, v)) for (c, _), v in earlier]
        beyond = column < value if desc else column > value
        if column in NULLS_LAST:
            beyond = sa.or_(beyond, column.is_(None))
        clauses.append(sa.and_(*equal, beyond))
    return sa.or_(*clauses)


def _equals(column, value):
    return column.is_(None) if value is None else column == value


def _restore(column, value):
    """A cursor's JSON value as the column holds it."""
    if value is None:
        return None
    if column in (Ticket.modified, Ticket.created):
        return datetime.fromisoformat(value)
    if column is Ticket.deadline:
        return date.fromisoformat(value)
    if column in (Ticket.id, Ticket.priority) and type(value) is not int:
        raise TypeError("a number was expected")
    return value


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value  # datetimes too


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _parse_filters(args: Mapping[str, str], wf: Workflow, errors: dict[str, str]) -> dict:
    filters: dict[str, Any] = {}

    def number(name: str, label: str) -> None:
        if args.get(name):
            if as_id(args[name]) is not None:
                filters[name] = as_id(args[name])
            else:
                errors[name] = _("%(label)s must be a number.", label=label)

    number("site", _l("Site"))
    number("type", _l("Type"))
    if args.get("priority"):
        if args["priority"].isdecimal() and int(args["priority"]) in set(Priority):
            filters["priority"] = int(args["priority"])
        else:
            errors["priority"] = _("Unknown priority.")
    if args.get("rating"):
        value = args["rating"]
        if value == "none":
            filters["rating"] = value
        elif value.isdecimal() and int(value) in set(Rating):
            filters["rating"] = int(value)
        else:
            errors["rating"] = _("Unknown rating: choose one of the ratings, or 'none'.")
    if args.get("state"):
        if wf.has_state(args["state"]):
            filters["state"] = args["state"]
        else:
            errors["state"] = _("Unknown state %(state)r.", state=args["state"])
    if args.get("assignee"):
        value = args["assignee"]
        if value in ("me", "none"):
            filters["assignee"] = value
        elif as_id(value) is not None:
            filters["assignee"] = as_id(value)
        else:
            errors["assignee"] = _("Assignee must be a user, 'me' or 'none'.")
    for name in ("author", "end_user", "q"):
        value = args.get(name, "").strip()
        if len(value) > 200 or "\x00" in value:
            errors[name] = _("Too long, or not text.")
        elif value:
            filters[name] = value.lower() if name == "author" else value
    for name in FLAG_FILTERS:
        if args.get(name):
            if args[name] in YES_NO:
                filters[name] = YES_NO[args[name]]
            else:
                errors[name] = _("Choose yes or no.")
    for name in DATE_FILTERS:
        if args.get(name):
            try:
                filters[name] = date.fromisoformat(args[name])
            except ValueError:
                errors[name] = _("Give a date as YYYY-MM-DD.")
    return filters
