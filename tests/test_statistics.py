"""The statistics page: its figures on a help desk whose history is known to the minute,
who sees which figures, and the settings that switch the boxes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions
from tests.factories import make_site, make_ticket, make_user
from webapp import services
from webapp.extensions import db
from webapp.models import Priority, Rating, TicketType, clock_at
from webapp.statistics import Count, human_duration, statistics_for

# A Wednesday; its week began on Monday 10 March, and the twelve weeks on 23 December.
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


def at(*moment: int) -> datetime:
    return datetime(*moment, tzinfo=UTC)


@pytest.fixture
def desk(app):
    """Seven tickets with a known history (Lino's workflow; "ready" is solved but open):

    t0  sam, no site, reported Sun 22 Dec 23:59, closed 31 min later
    t1  alice, Webshop, Bug, high, reported Mon 3 Mar 09:00, taken by sam, ready 2 h
        later; rated very good
    t2  alice, Webshop, reported Tue 4 Mar 10:00, ready a day later, then closed; its
        deadline passed, but it is closed; rated good
    t3  bob, Webshop, private, high, reported Mon 10 Feb 08:00, ready four days later
        without an assignee
    t4  sam, no site, low, reported Mon 6 Jan 00:00, still new, unassigned, deadline 1 Mar
    t5  alice, Webshop, Bug, urgent, reported Mon 10 Mar 09:00, taken, ready, reopened by
        alice: open again and not solved; its deadline is today
    t6  alice, Webshop, reported and solved in ten minutes on 11 Mar, rated, then deleted
    """
    people = {
        "alice": make_user("alice"),
        "bob": make_user("bob"),
        "carol": make_user("carol"),
        "sam": make_user("sam", role="staff"),
        "ada": make_user("ada", role="admin"),
    }
    alice, bob, sam = people["alice"], people["bob"], people["sam"]
    web = make_site("Webshop", alice, bob)
    bug = TicketType(name="Bug")
    db.session.add(bug)
    db.session.commit()

    def move(ticket, state, when, actor=sam):
        with clock_at(when):
            services.change_state(actor=actor, ticket=ticket, state=state)

    with clock_at(at(2024, 12, 22, 23, 59)):
        t0 = make_ticket(sam, "Old backup failed")
    move(t0, "closed", at(2024, 12, 23, 0, 30))

    with clock_at(at(2025, 3, 3, 9)):
        t1 = make_ticket(alice, "Cart is empty", site=web, ticket_type=bug, priority=Priority.HIGH)
        services.take(actor=sam, ticket=t1)
    move(t1, "ready", at(2025, 3, 3, 11))
    with clock_at(at(2025, 3, 3, 12)):
        services.rate(actor=alice, ticket=t1, rating=Rating.VERY_GOOD)

    with clock_at(at(2025, 3, 4, 10)):
        t2 = make_ticket(alice, "Invoice shows no VAT", site=web)
        services.edit(actor=sam, ticket=t2, version=t2.version, deadline=date(2025, 3, 2))
    move(t2, "ready", at(2025, 3, 5, 10))
    with clock_at(at(2025, 3, 5, 11)):
        services.rate(actor=alice, ticket=t2, rating=Rating.GOOD)
    move(t2, "closed", at(2025, 3, 6, 10), actor=alice)

    with clock_at(at(2025, 2, 10, 8)):
        t3 = make_ticket(bob, "My password expired", site=web, private=True, priority=30)
    move(t3, "ready", at(2025, 2, 14, 8))

    with clock_at(at(2025, 1, 6)):
        t4 = make_ticket(sam, "Renew the certificate", priority=Priority.LOW)
        services.edit(actor=sam, ticket=t4, version=t4.version, deadline=date(2025, 3, 1))

    with clock_at(at(2025, 3, 10, 9)):
        t5 = make_ticket(alice, "Checkout is slow", site=web, ticket_type=bug, priority=40)
        services.take(actor=sam, ticket=t5)
        services.edit(actor=sam, ticket=t5, version=t5.version, deadline=NOW.date())
    move(t5, "ready", at(2025, 3, 10, 15))
    move(t5, "opened", at(2025, 3, 11, 9), actor=alice)

    with clock_at(at(2025, 3, 11, 10)):
        t6 = make_ticket(alice, "Test, please ignore", site=web)
    move(t6, "ready", at(2025, 3, 11, 10, 10))
    with clock_at(at(2025, 3, 11, 10, 20)):
        services.rate(actor=alice, ticket=t6, rating=Rating.INSUFFICIENT)
        services.delete_ticket(actor=people["ada"], ticket=t6)

    tickets = {f"t{i}": t for i, t in enumerate((t0, t1, t2, t3, t4, t5, t6))}
    return people | tickets | {"web": web, "bug": bug}


def figures(user, boxes=("counts", "times", "progress", "weekly", "ratings")):
    with clock_at(NOW):
        return statistics_for(user, boxes)


def states(counts) -> dict[str, int]:
    return {state.name: n for state, n in counts.by_state}


def test_staff_counts_every_ticket_by_state_and_open_ones_by_priority_site_and_type(desk):
    c = figures(desk["sam"]).counts
    assert states(c) == {
        "new": 1, "talk": 0, "opened": 1, "working": 0,
        "sleeping": 0, "ready": 2, "closed": 2, "cancelled": 0,
    }  # fmt: skip
    assert c.by_priority == [
        Count(40, "Urgent", 1), Count(30, "High", 2), Count(10, "Low", 1)
    ]  # fmt: skip
    assert c.by_site == [Count(desk["web"].id, "Webshop", 3), Count(None, "No site", 1)]
    assert c.by_type == [Count(desk["bug"].id, "Bug", 2), Count(None, "No type", 2)]


def test_unassigned_and_overdue_count_open_tickets_only(desk):
    c = figures(desk["sam"]).counts
    # t3 (ready, nobody has it) and t4; the closed t0 has no assignee either.
    assert c.unassigned == 2
    # t4's deadline passed; t2's too, but it is closed; t5's is today.
    assert c.overdue == 1


def test_overdue_goes_by_the_viewers_calendar_as_the_lists_do(desk):
    desk["sam"].timezone = "Pacific/Auckland"  # already 13 March there: t5 is overdue too
    db.session.commit()
    assert figures(desk["sam"]).counts.overdue == 2


def test_oldest_waiting_are_the_open_tickets_reported_first_with_their_age(desk):
    oldest = figures(desk["sam"]).counts.oldest
    assert [w.ticket_id for w in oldest] == [desk[t].id for t in ("t4", "t3", "t1", "t5")]
    assert oldest[0].age == timedelta(days=65, hours=12)
    assert human_duration(oldest[0].age) == "65 d 12 h"


def test_resolution_times_over_every_solved_ticket_staff_may_see(desk):
    times = figures(desk["sam"]).times
    # 31 min (t0), 2 h (t1), 1 d (t2), 4 d (t3): the reopened t5 and the deleted t6 not.
    assert times.solved == 4
    assert times.fastest == timedelta(minutes=31)
    assert times.median == timedelta(hours=13)  # between 2 h and 1 d
    assert times.mean == timedelta(days=1, hours=6, minutes=37, seconds=45)


def test_an_owners_times_cover_the_tickets_they_may_see_not_only_their_own(desk):
    bob = figures(desk["bob"]).times
    # His own t3 and alice's public t1 and t2 on the site he follows.
    assert (bob.solved, bob.fastest, bob.median) == (3, timedelta(hours=2), timedelta(days=1))
    assert bob.mean == timedelta(days=1, hours=16, minutes=40)


def test_an_owner_does_not_count_others_private_tickets(desk):
    alice = figures(desk["alice"])
    # Not bob's private t3, not sam's tickets without a site.
    assert states(alice.counts) == {
        "new": 0, "talk": 0, "opened": 1, "working": 0,
        "sleeping": 0, "ready": 1, "closed": 1, "cancelled": 0,
    }  # fmt: skip
    assert alice.counts.by_priority == [Count(40, "Urgent", 1), Count(30, "High", 1)]
    assert (alice.counts.unassigned, alice.counts.overdue) == (0, 0)
    assert (alice.times.solved, alice.times.median) == (2, timedelta(hours=13))
    assert (alice.progress.solved, alice.progress.pending) == (2, 1)
    assert sum(w.reported for w in alice.weekly) == 3


def test_an_owner_following_no_site_sees_figures_of_nothing(desk):
    carol = figures(desk["carol"])
    assert sum(states(carol.counts).values()) == 0
    assert carol.counts.oldest == [] and carol.counts.by_site == []
    assert (carol.times.solved, carol.times.median) == (0, None)
    assert all((w.reported, w.solved) == (0, 0) for w in carol.weekly)
    assert all(n == 0 for _, n in carol.ratings)


def test_solved_means_solved_now_and_pending_means_open_and_not_solved(desk):
    progress = figures(desk["sam"]).progress
    # Solved: t0, t1, t2, t3 (ready counts as solved); pending: t4 and the reopened t5.
    assert (progress.solved, progress.pending) == (4, 2)


def test_weekly_buckets_start_on_monday_and_end_with_the_current_week(desk):
    weeks = figures(desk["sam"]).weekly
    assert len(weeks) == 12
    assert (weeks[0].start, weeks[-1].start) == (date(2024, 12, 23), date(2025, 3, 10))
    busy = {w.start: (w.reported, w.solved) for w in weeks if w.reported or w.solved}
    assert busy == {
        # t0 was reported the Sunday before the twelve weeks, and solved inside them.
        date(2024, 12, 23): (0, 1),
        date(2025, 1, 6): (1, 0),  # t4, reported on the stroke of Monday
        date(2025, 2, 10): (1, 1),  # t3
        date(2025, 3, 3): (2, 2),  # t1, t2
        date(2025, 3, 10): (1, 0),  # t5, reopened; the deleted t6 not at all
    }


def test_ratings_count_each_rating_of_tickets_still_there(desk):
    ratings = dict(figures(desk["sam"]).ratings)
    assert list(ratings) == list(Rating)
    assert ratings == {
        Rating.VERY_GOOD: 1, Rating.GOOD: 1, Rating.SATISFYING: 0,
        Rating.DEFICIENT: 0, Rating.INSUFFICIENT: 0, Rating.UNRATABLE: 0,
    }  # fmt: skip


def test_a_deleted_ticket_counts_nowhere(desk):
    before = figures(desk["sam"])
    with clock_at(NOW):
        services.delete_ticket(actor=desk["ada"], ticket=desk["t1"])
    after = figures(desk["sam"])
    assert states(after.counts)["ready"] == states(before.counts)["ready"] - 1
    assert after.counts.by_site[0] == Count(desk["web"].id, "Webshop", 2)
    assert after.times.solved == 3 and after.times.fastest == timedelta(minutes=31)
    assert after.progress.solved == 3
    assert sum(w.reported for w in after.weekly) == sum(w.reported for w in before.weekly) - 1
    assert dict(after.ratings)[Rating.VERY_GOOD] == 0


def test_the_figures_take_a_fixed_handful_of_statements(desk):
    sam = desk["sam"]
    assert sam.is_staff  # loads the user and their groups before counting
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "FROM tickets" in statement:
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        figures(sam)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    # counts 3, times 1, and one for progress, weekly and ratings together: not one per
    # week, site, state or rating.
    assert len(statements) == 5


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(seconds=40), "under 1 min"),
        (timedelta(minutes=45, seconds=59), "45 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=20), "3 h 20 min"),
        (timedelta(days=2, hours=3, minutes=59), "2 d 3 h"),
        (timedelta(days=2), "2 d"),
        (None, "—"),
    ],
)
def test_durations_read_as_people_say_them(span, said):
    assert human_duration(span) == said


def page_of(app, username: str):
    client = app.test_client()
    AuthActions(client).login(username)
    with clock_at(NOW):
        return client, client.get("/statistics")


def test_staff_page_shows_every_box_with_the_figures(app, desk):
    _, response = page_of(app, "sam")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for title in ("Tickets", "Time to solve", "Solved and pending", "Reported and solved per "
                  "week", "Ratings"):  # fmt: skip
        assert f">{title}</h2>" in html
    assert "<dd>31 min</dd>" in html and "<dd>13 h</dd>" in html and "<dd>1 d 6 h</dd>" in html
    assert "65 d 12 h ago" in html


def test_weekly_chart_is_an_accessible_svg_with_its_figures_in_a_table(app, desk):
    html = page_of(app, "sam")[1].get_data(as_text=True)
    svg = re.search(r"<svg class=\"weekly-chart\".*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "aria-label=" in svg and "<title>" in svg
    assert len(re.findall(r'<rect class="bar-reported"', svg)) == 12
    assert len(re.findall(r'<rect class="bar-solved"', svg)) == 12
    assert "style=" not in html.split("<main", 1)[1] and "<script" not in svg
    row = re.search(r"<tr><th scope=\"row\">3 Mar 2025</th>(.*?)</tr>", html).group(1)
    assert row == "<td>2</td><td>2</td>"


def test_owner_page_shows_their_figures_without_ratings(app, desk):
    _, response = page_of(app, "alice")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ">Time to solve</h2>" in html and ">Ratings</h2>" not in html
    assert "My password expired" not in html  # bob's private ticket
    assert "Checkout is slow" in html


def test_counts_open_the_ticket_list_holding_those_tickets(app, desk):
    client, response = page_of(app, "sam")
    html = response.get_data(as_text=True)

    def listed(link_text: str, query_part: str) -> set[int]:
        href = re.search(rf'href="([^"]*{query_part}[^"]*)">{link_text}</a>', html).group(1)
        with clock_at(NOW):
            listing = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        return {int(n) for n in re.findall(r'<tr id="ticket-(\d+)"', listing)}

    assert listed("2", "assignee=none") == {desk["t3"].id, desk["t4"].id}
    assert listed("1", "deadline_before=2025-03-12") == {desk["t4"].id}
    assert listed("2", "state=closed") == {desk["t0"].id, desk["t2"].id}
    assert listed("1", "has_site=no") == {desk["t4"].id}
    assert listed("2", f"type={desk['bug'].id}") == {desk["t1"].id, desk["t5"].id}


def test_a_setting_switches_boxes_off(app, desk):
    app.config["STATISTICS_STAFF"] = ["times", "weekly"]
    html = page_of(app, "sam")[1].get_data(as_text=True)
    assert ">Time to solve</h2>" in html and 'class="weekly-chart"' in html
    for title in ("Tickets", "Solved and pending", "Ratings"):
        assert f">{title}</h2>" not in html


def test_an_empty_setting_hides_the_page_with_a_reason(app, desk):
    app.config["STATISTICS_OWNER"] = []
    _, response = page_of(app, "alice")
    assert response.status_code == 403
    assert "statistics are turned off for ticket owners" in response.get_data(as_text=True)
    assert page_of(app, "sam")[1].status_code == 200


def test_the_figures_are_kept_for_a_while_and_say_when_they_were_counted(app, desk):
    """Counting reads every ticket, so a worker shows what it counted for
    STATISTICS_KEEP_SECONDS: to every staff member alike, to each owner apart."""
    app.config["STATISTICS_KEEP_SECONDS"] = 60
    app.config["STATISTICS_OWNER"] = app.config["STATISTICS_STAFF"]  # the same boxes
    app.extensions.pop("tessera_statistics", None)
    staff, owner = app.test_client(), app.test_client()
    AuthActions(staff).login("sam")
    AuthActions(owner).login("carol")

    def unassigned(client, moment):
        with clock_at(moment):
            html = client.get("/statistics").get_data(as_text=True)
        count = re.search(r"<dt>Open, unassigned</dt><dd>(?:<a [^>]*>)?(\d+)", html)[1]
        return int(count), re.search(r"As of ([^<]*)\.", html)[1]

    before = unassigned(staff, NOW)
    assert before[1] == "12 Mar 2025, 12:00"
    with clock_at(NOW):
        make_ticket(desk["alice"], "The scanner smokes", site=desk["web"])
    assert unassigned(staff, NOW + timedelta(seconds=59)) == before
    assert unassigned(owner, NOW + timedelta(seconds=59)) == (0, "12 Mar 2025, 12:00")
    assert unassigned(staff, NOW + timedelta(seconds=60)) == (before[0] + 1, "12 Mar 2025, 12:01")
