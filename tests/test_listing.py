"""Ticket lists: tab definitions, filters, the cursor, search and counts (both databases)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from tests.factories import make_ticket, make_user
from webapp import listing, search, services
from webapp.extensions import db
from webapp.models import Comment, Site, Subscription, Ticket, utcnow
from webapp.workflow import LINO


def ids(user, tab: str, **args) -> list[int]:
    view = listing.View.from_args({"tab": tab, **args}, user, LINO)
    assert not view.errors, view.errors
    return [t.id for t in listing.page(user, LINO, view, size=500).tickets]


def paged_ids(user, args: dict, size: int = 2) -> list[int]:
    """The ids of a view's tickets, page after page as its cursor leads."""
    paged, view = [], listing.View.from_args(args, user, LINO)
    while True:
        result = listing.page(user, LINO, view, size=size)
        paged += [t.id for t in result.tickets]
        if result.next_after is None:
            return paged
        view.after = result.next_after


@pytest.fixture
def desk(app):
    """A small help desk where each tab has something to show and something to leave out."""
    app.config["REQUIRE_SITE"] = False
    alice, bob = make_user("alice"), make_user("bob")
    sam, tia = make_user("sam", role="staff"), make_user("tia", role="staff")
    web = Site(name="Webshop")
    db.session.add(web)
    db.session.add_all(Subscription(user=u, site=web) for u in (sam, alice, bob))
    db.session.commit()
    t = {
        "new": make_ticket(alice, "Cart is empty", site=web, priority=30),
        "new_low": make_ticket(bob, "Font too small", priority=10),
        "mine_open": make_ticket(alice, "Invoice wrong"),
        "talk_feedback": make_ticket(alice, "Which browser?", site=web),
        "talk_waiting": make_ticket(bob, "Need logs", site=web),
        "closed": make_ticket(alice, "Old problem", private=True),
        "referenced": make_ticket(bob, "Known bug"),
    }
    services.take(actor=sam, ticket=t["mine_open"])
    services.change_state(actor=sam, ticket=t["talk_feedback"], state="talk")
    services.change_state(actor=sam, ticket=t["talk_waiting"], state="talk")
    services.comment(actor=sam, ticket=t["talk_waiting"], body="Please send the logs.")
    services.change_state(actor=sam, ticket=t["closed"], state="closed")
    services.change_state(actor=tia, ticket=t["referenced"], state="opened")
    services.edit(actor=tia, ticket=t["referenced"], version=t["referenced"].version, ref="BUG-7")
    return {"alice": alice, "bob": bob, "sam": sam, "tia": tia, "web": web, **t}


def test_tabs_follow_lino_views(desk):
    sam, d = desk["sam"], desk
    n = {k: v.id for k, v in d.items() if hasattr(v, "summary")}
    assert ids(sam, "triage") == [n["new"], n["new_low"]]  # by priority
    assert ids(sam, "work") == [n["mine_open"]]
    assert set(ids(sam, "unassigned")) == {
        n["new"],
        n["new_low"],
        n["talk_feedback"],
        n["talk_waiting"],
        n["referenced"],
    }
    assert ids(sam, "feedback") == [n["talk_feedback"]]  # subscribed, not the last commenter
    assert ids(sam, "waiting") == [n["talk_waiting"]]  # sam wrote the last comment
    assert ids(sam, "ref") == [n["referenced"]]
    assert n["closed"] not in ids(sam, "active") and n["closed"] in ids(sam, "all")
    assert n["closed"] not in ids(sam, "public")
    assert ids(sam, "all") == sorted(n.values(), reverse=True)


def test_owners_see_their_own_and_their_sites_public_tickets_and_only_their_tabs(desk):
    alice = desk["alice"]
    keys = [t.key for t in listing.tabs_for(alice, LINO)]
    assert keys == ["mine", "feedback", "waiting", "active", "public", "all"]
    own = {desk[k].id for k in ("new", "mine_open", "talk_feedback", "closed")}
    on_her_site = {desk["talk_waiting"].id}  # bob's, public, on the Webshop she follows
    assert set(ids(alice, "all")) == own | on_her_site
    assert ids(alice, "feedback") == [desk["talk_waiting"].id, desk["talk_feedback"].id]
    view = listing.View.from_args({"tab": "triage"}, alice, LINO)
    assert view.errors["tab"] and view.tab == "mine"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"state": "talk"}, {"talk_feedback", "talk_waiting"}),
        ({"priority": "30"}, {"new"}),
        (
            {"assignee": "none", "active": "yes"},
            {"new", "new_low", "talk_feedback", "talk_waiting", "referenced"},
        ),
        ({"assigned": "yes"}, {"mine_open"}),
        ({"author": "bob"}, {"new_low", "talk_waiting", "referenced"}),
        ({"private": "yes"}, {"closed"}),
        ({"todo": "yes"}, {"new", "new_low", "referenced", "mine_open"}),
        ({"active": "no"}, {"closed"}),
        ({"has_site": "yes"}, {"new", "talk_feedback", "talk_waiting"}),
        ({"q": "browser"}, {"talk_feedback"}),
        ({"q": "logs"}, {"talk_waiting"}),
        ({"created_from": date.today().isoformat(), "state": "closed"}, {"closed"}),
        ({"modified_to": "2000-01-01"}, set()),
    ],
)
def test_filters_narrow_any_tab(desk, args, expected):
    found = set(ids(desk["sam"], "all", **args))
    assert found == {desk[k].id for k in expected}


def test_filter_by_site_and_assignee_me(desk):
    assert set(ids(desk["sam"], "all", site=str(desk["web"].id))) == {
        desk["new"].id,
        desk["talk_feedback"].id,
        desk["talk_waiting"].id,
    }
    assert ids(desk["sam"], "all", assignee="me") == [desk["mine_open"].id]


@pytest.mark.parametrize(
    "args",
    [{"tab": "unassigned"}]
    + [{"tab": "all", "sort": sort}
       for sort in ("priority", "-priority", "deadline", "-deadline", "ref", "-ref")],
    ids=lambda args: args.get("sort", args["tab"]),
)  # fmt: skip
def test_a_page_is_read_in_its_order_from_an_index_on_postgresql(desk, args):
    """PostgreSQL takes no order from an index whose first column is only asked IS NULL:
    the Unassigned tab has an index of its own (migration 0020), or a page would sort
    every unassigned ticket; so has each sort by priority, deadline or reference (0023),
    or the All tab sorted so would sort every ticket (280 ms at a million). Told not to
    sort where it can help it, the plan of a page makes no sort it cannot avoid (each
    such sort costs 10^10 then)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner; SQLite takes the order from the same indexes")
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    view = listing.View.from_args(args, desk["sam"], LINO)
    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert listing.page(desk["sam"], LINO, view).tickets
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    db.session.rollback()
    statement, parameters = statements[-1]
    with db.engine.connect() as c:
        c.exec_driver_sql("SET enable_sort = off")
        plan = [row[0] for row in c.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
        c.rollback()
    total_cost = re.compile(r"cost=[\d.]+\.\.([\d.]+)")
    costs = [float(cost) for line in plan for cost in total_cost.findall(line)]
    assert max(costs) < 1e9, plan


@pytest.mark.parametrize("column", ["deadline", "ref"])
def test_tickets_without_a_value_come_last_either_way_and_pages_cross_over_to_them(app, column):
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    values = {"deadline": [date(2027, 3, 1), date(2027, 1, 1), date(2027, 2, 1)],
              "ref": ["R-2", "R-1", "R-3"]}[column]  # fmt: skip
    valued = {}
    for value in values:
        ticket = make_ticket(alice, f"With a {column}")
        services.edit(actor=sam, ticket=ticket, version=ticket.version, **{column: value})
        valued[value] = ticket.id
    empty = [make_ticket(alice, f"Without a {column}").id for _ in range(3)]
    newest_first = sorted(empty, reverse=True)
    up = [valued[v] for v in sorted(values)] + newest_first
    down = [valued[v] for v in sorted(values, reverse=True)] + newest_first
    for sort, expected in ((column, up), (f"-{column}", down)):
        assert ids(sam, "all", sort=sort) == expected
        assert paged_ids(sam, {"tab": "all", "sort": sort}) == expected, sort


RANGE_ARGS = {
    "created": {"created_from": "2026-01-02", "created_to": "2026-01-07"},
    "modified": {"modified_from": "2026-02-02", "modified_to": "2026-02-07"},
    "deadline": {"deadline_before": "2026-03-08"},
}


@pytest.mark.parametrize("held", ["sorted", "walked"])
@pytest.mark.parametrize("sort", ["-modified", "", "id", "created", "-priority", "deadline",
                                  "-deadline"])  # fmt: skip
@pytest.mark.parametrize("kind", ["created", "modified", "deadline"])
def test_the_tickets_in_a_date_range_page_in_order_however_they_are_found(
    app, monkeypatch, held, sort, kind
):
    """On PostgreSQL the tickets created in some days or due before one, of a list sorted
    by last change or number, are sorted apart when there are at most RANGE_SORTED of
    them, and the list's order is walked when there are more, or for any other range or
    order: the same pages whichever way (on SQLite always the walk)."""
    if held == "walked":
        monkeypatch.setattr(listing, "RANGE_SORTED", 3)
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    tickets = [make_ticket(alice, f"Ticket {i}") for i in range(10)]
    # Each column in its own order, so that no sort follows a range; days 1 and 9 (or no
    # deadline) lie outside every range, the priorities tie, two in range have no deadline.
    days = {"created": (5, 1, 7, 3, 9, 2, 8, 4, 6, 5), "modified": (3, 6, 2, 9, 5, 1, 4, 7, 8, 2),
            "deadline": (4, 7, None, 2, 6, 9, 3, None, 5, 1)}  # fmt: skip
    priorities = (20, 30, 20, 10, 30, 20, 10, 30, 20, 10)
    for i, ticket in enumerate(tickets):
        deadline = days["deadline"][i]
        db.session.execute(sa.update(Ticket.__table__).where(Ticket.id == ticket.id).values(
            created=datetime(2026, 1, days["created"][i], 9, tzinfo=UTC),
            modified=datetime(2026, 2, days["modified"][i], 9, tzinfo=UTC),
            deadline=date(2026, 3, deadline) if deadline else None, priority=priorities[i],
        ))  # fmt: skip
    db.session.commit()
    db.session.expire_all()
    inside = [t for i, t in enumerate(tickets)
              if days[kind][i] is not None and 2 <= days[kind][i] <= 7]  # fmt: skip
    if kind == "deadline":  # due before the 8th: from the 1st
        inside = [t for t in tickets if t.deadline and t.deadline < date(2026, 3, 8)]
    name = sort.lstrip("-")
    expected = sorted(inside, key=lambda t: -t.id)  # the newest first among equals
    if name and name != "id":
        valued = [t for t in expected if getattr(t, name) is not None]
        valued.sort(key=lambda t: getattr(t, name), reverse=sort.startswith("-"))
        expected = valued + [t for t in expected if getattr(t, name) is None]
    elif sort == "id":
        expected.reverse()
    args = {"tab": "all", **RANGE_ARGS[kind], **({"sort": sort} if sort else {})}
    assert ids(sam, **{k: v for k, v in args.items() if k != "tab"}, tab="all") == [
        t.id for t in expected
    ]
    assert paged_ids(sam, args) == [t.id for t in expected]


@pytest.fixture
def end_users(app):
    sam = make_user("sam", role="staff")
    return sam, {
        "maria": make_ticket(sam, "Cannot print", end_user_name="Maria Schmidt").id,
        "doe": make_ticket(sam, "No mail", end_user_email="j.doe@Example.org").id,
        "none": make_ticket(sam, "For myself").id,
    }


@pytest.mark.parametrize(
    "part, found",
    [("schm", {"maria"}), ("SCHMIDT", {"maria"}), ("example.ORG", {"doe"}),
     ("mi", {"maria"}), ("Do", {"doe"}), ("zz", set()), ("nobody", set())],
)  # fmt: skip
def test_the_end_user_filter_finds_any_part_of_a_name_or_address_in_any_case(
    end_users, part, found
):
    sam, tickets = end_users
    assert set(ids(sam, "all", end_user=part)) == {tickets[k] for k in found}


def test_the_end_user_filter_follows_an_edited_end_user(end_users):
    sam, tickets = end_users
    ticket = db.session.get(Ticket, tickets["maria"])
    services.edit(actor=sam, ticket=ticket, version=ticket.version, end_user_name="Ana Lopez")
    assert ids(sam, "all", end_user="lopez") == [ticket.id]
    assert ids(sam, "all", end_user="schmidt") == []


@pytest.mark.parametrize("column", ["end_user_name", "end_user_email"])
def test_the_end_user_filter_is_answered_by_a_trigram_index(app, column):
    """A part of three characters or more is found through a trigram index: pg_trgm's on
    PostgreSQL (migration 0024), an FTS5 table on SQLite (0025). Without them the filter
    read every ticket (730 ms at a million on PostgreSQL). On PostgreSQL, told to read no
    table whole and to walk no index, a plan can only use the index."""
    dialect = db.engine.dialect.name
    part = search.contains(getattr(Ticket, column), "Schmidt", dialect)
    sql = str(
        sa.select(Ticket.id).where(part).compile(db.engine, compile_kwargs={"literal_binds": True})
    )
    with db.engine.connect() as c:
        if dialect == "postgresql":
            c.exec_driver_sql("SET enable_seqscan = off")
            c.exec_driver_sql("SET enable_indexscan = off")
            plan = "\n".join(r[0] for r in c.exec_driver_sql(f"EXPLAIN {sql}"))
            expected = f"Bitmap Index Scan on ix_tickets_{column}_trgm"
        else:
            plan = "\n".join(r[-1] for r in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            expected = f"SCAN {search.END_USERS} VIRTUAL TABLE INDEX"
        c.rollback()
    assert expected in plan, plan


def test_bad_filters_are_reported_not_fatal(desk):
    view = listing.View.from_args(
        {"tab": "all", "priority": "99", "created_from": "yesterday", "sort": "colour",
         "after": "!!", "state": "nope", "private": "maybe"},
        desk["sam"], LINO,
    )  # fmt: skip
    assert set(view.errors) == {"priority", "created_from", "sort", "after", "state", "private"}
    assert listing.page(desk["sam"], LINO, view).tickets


def test_cursor_walks_every_ticket_once_while_new_ones_arrive(app):
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    originals = {make_ticket(alice, f"Ticket number {i}", priority=(i % 5 + 1) * 10).id
                 for i in range(17)}  # fmt: skip
    for args in ({}, {"sort": "-priority"}, {"sort": "priority"}, {"sort": "-modified"},
                 {"sort": "id"}, {"q": "number"}):  # fmt: skip
        seen: list[int] = []
        view = listing.View.from_args({"tab": "all", **args}, sam, LINO)
        for _ in range(20):
            result = listing.page(sam, LINO, view, size=4)
            seen += [t.id for t in result.tickets]
            make_ticket(alice, "Arrived while paging")
            if result.next_after is None:
                break
            view.after = result.next_after
        assert result.next_after is None, f"endless pages with {args}"
        assert len(seen) == len(set(seen)), f"duplicates with {args}"
        assert originals <= set(seen), f"gaps with {args}"


def test_search_ranks_summary_matches_first_and_follows_edits(app):
    alice = make_user("alice")
    in_body = make_ticket(alice, "Printing fails", description="The invoice printer stops.")
    in_summary = make_ticket(alice, "Invoice printer broken", description="It does not work.")
    sam = make_user("sam", role="staff")
    assert ids(sam, "all", q="invoice printer") == [in_summary.id, in_body.id]
    assert ids(sam, "all", q="invo") == [in_summary.id, in_body.id]  # prefixes match
    services.comment(actor=alice, ticket=in_body, body="Also the label printer in the warehouse")
    assert ids(sam, "all", q="warehouse") == [in_body.id]
    services.edit(actor=alice, ticket=in_summary, version=in_summary.version,
                  summary="Scanner broken")  # fmt: skip
    assert ids(sam, "all", q="scanner") == [in_summary.id]
    assert ids(sam, "all", q='"; DROP TABLE tickets; --') == []


@pytest.mark.parametrize(
    "look_first, candidates",
    [(search.LOOK_FIRST, search.CANDIDATES), (3, search.CANDIDATES), (3, 2)],
    ids=["newest", "candidates", "walk"],
)
def test_a_search_pages_through_the_summary_matches_then_the_text_matches(
    app, monkeypatch, look_first, candidates
):
    # PostgreSQL's three ways to a page: the newest tickets fill it; with 3, they do not,
    # and the matches are taken from the index; with 2 candidates as well, there are more
    # than it takes, and it walks the tickets instead.
    monkeypatch.setattr(search, "LOOK_FIRST", look_first)
    monkeypatch.setattr(search, "CANDIDATES", candidates)
    app.config["REQUIRE_SITE"] = False
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    made = [
        make_ticket(alice, "Toner low", description="Tray 2 is empty.") if i % 3 == 0
        else make_ticket(alice, f"Printer {i} streaks", description="Shake the toner.")
        for i in range(10)
    ]  # fmt: skip
    newest_first = [t.id for t in reversed(made)]
    in_summary = [i for i in newest_first if db.session.get(Ticket, i).summary == "Toner low"]
    view = listing.View.from_args({"tab": "all", "q": "toner"}, sam, LINO)
    pages = []
    for _ in range(10):
        result = listing.page(sam, LINO, view, size=3)
        pages.append([t.id for t in result.tickets])
        if result.next_after is None:
            break
        view.after = result.next_after
    # Four summary matches, then six in the text: the second page holds both ranks.
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    assert sum(pages, []) == in_summary + [i for i in newest_first if i not in in_summary]
    for forged in ([3.0, made[0].id], ["2", made[0].id], [True, made[0].id], [2.0, "x"]):
        view = listing.View.from_args({"tab": "all", "q": "toner"}, sam, LINO)
        view = listing.View.from_args(view.args(after=forged), sam, LINO)
        assert "after" in view.errors and view.after is None


def test_the_search_entry_follows_every_write_of_the_text_whoever_makes_it(app):
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    ticket = make_ticket(alice, "Printer jams", description="The paper tray is stuck.")
    other = make_ticket(alice, "Scanner is slow")
    note = services.comment(actor=alice, ticket=ticket, body="Toner smudges too.").comment
    assert ids(sam, "all", q="toner") == [ticket.id]
    services.edit_comment(actor=alice, comment=note, body="The fuser is hot.")
    assert (ids(sam, "all", q="toner"), ids(sam, "all", q="fuser")) == ([], [ticket.id])
    # A script or an import that writes the tables directly is searched the same way.
    db.session.execute(sa.update(Ticket).where(Ticket.id == ticket.id)
                       .values(description="The drum is worn."))  # fmt: skip
    db.session.execute(
        sa.insert(Comment).values(
            ticket_id=other.id, author_id=alice.id, body="Imported: lamp flickers", created=utcnow()
        )
    )
    db.session.commit()
    assert (ids(sam, "all", q="drum"), ids(sam, "all", q="tray")) == ([ticket.id], [])
    assert ids(sam, "all", q="fuser") == [ticket.id]  # the comments stay in the entry
    assert ids(sam, "all", q="lamp flickers") == [other.id]
    db.session.execute(sa.delete(Comment).where(Comment.id == note.id))
    db.session.commit()
    assert ids(sam, "all", q="fuser") == []


@pytest.mark.parametrize("kind", ["created", "deadline"])
def test_the_counts_of_a_date_range_count_its_tickets_only(app, monkeypatch, kind):
    """A date range's counts take its tickets from its index (PostgreSQL): each tab counts
    the tickets in the range, none outside; past the cap, lower bounds."""
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    tickets = [make_ticket(alice, f"Ticket {i}") for i in range(8)]
    days = (1, 3, 4, 5, 6, 9, 2, 7)  # the range is days 2-7 (due before the 8th: 1-7)
    for ticket, day in zip(tickets, days, strict=True):
        db.session.execute(sa.update(Ticket.__table__).where(Ticket.id == ticket.id).values(
            created=datetime(2026, 1, day, 9, tzinfo=UTC), deadline=date(2026, 3, day),
        ))  # fmt: skip
    db.session.commit()
    services.take(actor=sam, ticket=tickets[2])  # in the range, no longer to triage
    services.take(actor=sam, ticket=tickets[5])  # out of the range
    inside = sum(1 for day in days if (2 if kind == "created" else 1) <= day <= 7)
    view = listing.View.from_args({"tab": "all", **RANGE_ARGS[kind]}, sam, LINO)
    counts = listing.counts(sam, LINO, view)
    assert (counts["all"], counts["triage"], counts["work"]) == (inside, inside - 1, 1)
    assert not counts["partial"]
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    counts = listing.counts(sam, LINO, view)
    assert counts["partial"] and 3 <= counts["all"] <= 4 and counts["triage"] <= inside - 1


def test_counts_are_capped(app, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    for i in range(5):
        make_ticket(alice, f"Printer {i} jams")
    view = listing.View.from_args({"tab": "all"}, sam, LINO)
    counts = listing.counts(sam, LINO, view)
    assert counts["all"] == 4 and counts["triage"] == 4 and counts["work"] == 0


def test_filtered_counts_are_exact_up_to_the_cap_then_lower_bounds(app, monkeypatch):
    app.config["REQUIRE_SITE"] = False
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    for i in range(4):
        make_ticket(alice, f"Printer {i} jams", priority=30)
    make_ticket(alice, "Scanner is slow", priority=10)
    view = listing.View.from_args({"tab": "all", "priority": "30"}, sam, LINO)
    counts = listing.counts(sam, LINO, view)
    assert (counts["all"], counts["triage"], counts["work"], counts["partial"]) == (4, 4, 0, False)
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    counts = listing.counts(sam, LINO, view)
    assert counts["partial"] and 2 <= counts["all"] <= 3
