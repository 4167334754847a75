"""The list pages over HTTP: fragments, live updates, bulk actions, export, suggestions,
the SQL budget, and a walk over every route that must not leak a ticket."""

from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_site, make_ticket, make_user
from webapp import accounts, administration, listing, services
from webapp.extensions import db
from webapp.models import Attachment, Notification, Ticket, TicketType

HTMX = {"HX-Request": "true"}


def signed_in(app, username: str):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


@contextmanager
def counting_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's transaction start, not a query
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def desk(app):
    app.config["REQUIRE_SITE"] = False
    alice = make_user("alice", display_name="Alice Meyer")
    sam = make_user("sam", role="staff", display_name="Sam Staff")
    make_user("tia", role="staff", display_name="Tia Staff")
    site = make_site("Webshop", alice)
    db.session.add(TicketType(name="Error"))
    db.session.commit()
    tickets = [make_ticket(alice, f"Printer {i} jams", site=site) for i in range(6)]
    return {"alice": alice, "sam": sam, "site": site, "tickets": tickets}


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="ticket-(\d+)"', html)]


def tab_counts(html: str) -> dict[str, str]:
    """Each tab's count as the page shows it, by the tab's name."""
    tab = r'(?: aria-current="page")?>([^<]+) <span class="count">([^<]+)</span>'
    return dict(re.findall(tab, html))


def test_a_search_past_the_cap_shows_its_tab_counts_as_at_least(app, desk, monkeypatch):
    """Every count stops at the cap (1,000 in use): a search with more matches shows each
    tab's count among those it counted, as "at least"; one with fewer shows them exact."""
    monkeypatch.setattr(listing, "COUNT_CAP", 4)
    client = signed_in(app, "sam")
    services.take(actor=desk["sam"], ticket=desk["tickets"][0])
    counts = tab_counts(client.get("/tickets/?tab=all&q=printer").get_data(as_text=True))
    assert counts["All"] == "4+"  # six match
    assert counts["My work"] in ("0+", "1+") and counts["To triage"] in ("3+", "4+")
    make_ticket(desk["alice"], "Scanner is slow", site=desk["site"])
    counts = tab_counts(client.get("/tickets/?tab=all&q=scanner").get_data(as_text=True))
    assert (counts["All"], counts["To triage"], counts["My work"]) == ("1", "1", "0")


@pytest.mark.parametrize(
    "query",
    ["", "tab=all", "tab=unassigned&priority=20", "tab=all&q=printer", "tab=work&sort=-modified",
     "tab=feedback", "tab=all&assignee=me&private=no&created_from=2020-01-01"],
)  # fmt: skip
def test_every_list_needs_at_most_six_queries_whatever_the_size(app, desk, query):
    client = signed_in(app, "sam")
    client.get(f"/tickets/?{query}")  # reads the staff, kept until people change
    budgets = []
    for more in (1, 30):  # the page is drawn anew: new tickets moved the stamps
        for i in range(more):
            make_ticket(desk["alice"], f"Scanner {i} is slow", site=desk["site"])
        with counting_queries() as statements:
            response = client.get(f"/tickets/?{query}")
        assert response.status_code == 200
        budgets.append(len(statements))
    assert budgets[0] == budgets[1] <= 6, budgets


def test_htmx_filter_answers_only_the_results(app, desk):
    client = signed_in(app, "sam")
    response = client.get("/tickets/?tab=all&q=printer", headers=HTMX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="results"') and "<html" not in html
    assert len(row_ids(html)) == 6
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_bad_filter_is_a_422_with_a_message_on_the_page(app, desk):
    response = signed_in(app, "sam").get("/tickets/?tab=all&priority=banana")
    assert response.status_code == 422
    assert "Unknown priority." in response.get_data(as_text=True)


def test_show_more_follows_the_cursor(app, desk, monkeypatch):
    from webapp import listing

    monkeypatch.setattr(listing, "PAGE_SIZE", 4)
    client = signed_in(app, "sam")
    first = client.get("/tickets/?tab=all").get_data(as_text=True)
    more = re.search(r'hx-get="([^"]*part=rows)"', first)[1].replace("&amp;", "&")
    rest = client.get(more, headers=HTMX).get_data(as_text=True)
    assert row_ids(first) + row_ids(rest) == sorted((t.id for t in desk["tickets"]), reverse=True)
    assert "more-rows" not in rest


def test_poll_costs_one_query_when_nothing_changed(app, desk):
    client = signed_in(app, "sam")
    page = client.get("/tickets/?tab=all").get_data(as_text=True)
    poll = re.search(r'id="live" hx-get="([^"]+)"', page)[1].replace("&amp;", "&")
    with counting_queries() as statements:
        response = client.get(poll, headers=HTMX)
    assert response.status_code == 204 and response.get_data() == b""
    assert len(statements) == 1


def test_poll_brings_changed_rows_and_announces_new_tickets(app, desk):
    client = signed_in(app, "sam")
    page = client.get("/tickets/?tab=all").get_data(as_text=True)
    poll = re.search(r'id="live" hx-get="([^"]+)"', page)[1].replace("&amp;", "&")
    taken = desk["tickets"][0]
    services.take(actor=desk["sam"], ticket=taken)
    make_ticket(desk["alice"], "A brand new problem")
    html = client.get(poll, headers=HTMX).get_data(as_text=True)
    assert (
        f'<tr id="ticket-{taken.id}" class="ticket-row" tabindex="-1" hx-swap-oob="true">' in html
    )
    assert "Sam Staff" in html
    assert "1 new ticket matches this list." in html


def test_poll_takes_the_same_statements_however_many_rows_changed(app, desk):
    """The changed rows come back with their assignees, sites and types loaded in the
    same statement: before, each row asked for its own (25 statements for 200 rows)."""
    client = signed_in(app, "sam")
    page = client.get("/tickets/?tab=all").get_data(as_text=True)
    since = re.search(r'id="live" hx-get="([^"]+)"', page)[1].replace("&amp;", "&")
    staff = [desk["sam"], *(make_user(f"st{i}", role="staff") for i in range(4))]
    budgets = []
    for count in (1, 5):
        for i in range(count):
            site = make_site(f"Branch {count}-{i}", desk["alice"])
            ticket = make_ticket(desk["alice"], f"Router {i} is down", site=site)
            services.take(actor=staff[i], ticket=ticket)
        with counting_queries() as statements:
            html = client.get(since, headers=HTMX).get_data(as_text=True)
        since = re.search(r'id="live" hx-get="([^"]+)"', html)[1].replace("&amp;", "&")
        assert html.count('hx-swap-oob="true"') == count
        budgets.append(len(statements))
    assert budgets[0] == budgets[1] <= 6


@pytest.mark.parametrize("path", ["/tickets/?tab=all", "/sites/{site}", "/", "poll"])
def test_rows_name_people_who_left_the_staff_without_a_statement_each(app, desk, path):
    """A row names its assignee from the staff the worker keeps; those who have left the
    staff since are read for the whole page in one statement, not one per row."""
    app.config["PAGE_CACHE_BYTES"] = 0
    ada = make_user("ada", role="admin")
    client = signed_in(app, "alice")  # the author: her home page shows her open tickets
    page = client.get("/tickets/?tab=all").get_data(as_text=True)
    since = re.search(r'id="live" hx-get="([^"]+)"', page)[1].replace("&amp;", "&")
    url = since if path == "poll" else path.format(site=desk["site"].id)
    staff = accounts.role_group("staff")
    budgets = []
    for name, count in (("uli", 1), ("vera", 4)):
        leaver = make_user(name, role="staff", display_name=f"{name.title()} Left")
        for ticket in desk["tickets"][len(budgets) : len(budgets) + count]:
            services.assign(actor=desk["sam"], ticket=ticket, assignee=leaver)
        administration.remove_member(actor=ada, user=leaver, group=staff)
        headers = HTMX if path == "poll" else {}
        client.get(url, headers=headers)  # the worker reads the staff anew, once
        with counting_queries() as statements:
            html = client.get(url, headers=headers).get_data(as_text=True)
        assert html.count(f"{name.title()} Left") == count
        budgets.append(len(statements))
    assert budgets[0] == budgets[1] <= 6


def test_poll_without_a_session_is_refused(app):
    assert app.test_client().get("/tickets/poll?since=0").status_code == 401


def test_bulk_changes_each_ticket_and_lists_those_it_could_not(app, desk):
    first, second, third = desk["tickets"][:3]
    tia = db.session.scalar(sa.select(type(desk["sam"])).filter_by(username="tia"))
    services.take(actor=tia, ticket=second)
    client = signed_in(app, "sam")
    response = client.post(
        "/tickets/bulk",
        data={"csrf_token": csrf_token(client, "/tickets/"), "action": "take",
              "ids": [first.id, second.id, third.id]},
        headers=HTMX,
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert "2 tickets changed." in html
    assert f"#{second.id}</a>: Tia Staff has taken this ticket." in html
    assert html.count('hx-swap-oob="true"') == 3
    db.session.expire_all()
    assert [db.session.get(Ticket, t.id).assignee.username for t in (first, second, third)] == [
        "sam",
        "tia",
        "sam",
    ]


def test_bulk_all_matching_the_view_moves_them_to_sleeping(app, desk):
    client = signed_in(app, "sam")
    response = client.post(
        "/tickets/bulk",
        data={"csrf_token": csrf_token(client, "/tickets/"), "action": "state",
              "state": "sleeping", "all": "yes", "view": "tab=all&q=printer"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "6 tickets changed." in response.get_data(as_text=True)
    states = db.session.scalars(sa.select(Ticket.state)).all()
    assert set(states) == {"sleeping"}


def test_bulk_without_a_selection_is_a_422(app, desk):
    client = signed_in(app, "sam")
    response = client.post(
        "/tickets/bulk", data={"csrf_token": csrf_token(client, "/tickets/"), "action": "take"}
    )
    assert response.status_code == 422
    assert "Select at least one ticket." in response.get_data(as_text=True)


def test_csv_export_is_exactly_the_view(app, desk, monkeypatch):
    from webapp import listing

    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    services.take(actor=desk["sam"], ticket=desk["tickets"][1])
    client = signed_in(app, "sam")
    query = "tab=unassigned&q=printer"
    shown, url = [], f"/tickets/?{query}"
    for _ in range(10):
        if not url:
            break
        html = client.get(url).get_data(as_text=True)
        shown += row_ids(html)
        link = re.search(r'class="button" href="([^"]+)"[^>]*>Show more', html)
        url = link[1].replace("&amp;", "&") if link else None
    response = client.get(f"/tickets.csv?{query}")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0][:3] == ["number", "summary", "state"]
    assert [int(r[0]) for r in table[1:]] == shown and len(shown) == 5


def test_the_csv_export_neutralises_what_people_type_and_nothing_else(app, desk):
    """Every cell people type that a spreadsheet would run as a formula starts with a
    quote: summary, site, type, author, assignee, end user and reference; the numbers,
    times, states and labels beside them come as they are."""
    sam = desk["sam"]
    author = make_user("-dash")
    site = make_site("+Branch", author)
    kind = TicketType(name="@Request")
    db.session.add(kind)
    db.session.commit()
    ticket = make_ticket(author, '=HYPERLINK("http://evil.example")', site=site,
                         ticket_type=kind)  # fmt: skip
    services.edit(actor=sam, ticket=ticket, version=ticket.version, end_user_name="-Bob Builder",
                  ref="+42", deadline=date(2030, 1, 2))  # fmt: skip
    sam.username = "=sam"
    db.session.commit()
    services.take(actor=sam, ticket=ticket)
    table = list(csv.reader(io.StringIO(signed_in(app, "=sam").get(
        "/tickets.csv?tab=all").get_data(as_text=True), newline="")))  # fmt: skip
    row = dict(zip(table[0], next(r for r in table if r[0] == str(ticket.id)), strict=True))
    assert row == {
        "number": str(ticket.id), "summary": '\'=HYPERLINK("http://evil.example")',
        "state": ticket.state, "priority": "Normal", "site": "'+Branch", "type": "'@Request",
        "author": "'-dash", "assignee": "'=sam", "end_user": "'-Bob Builder",
        "created": row["created"], "modified": row["modified"], "deadline": "2030-01-02",
        "private": "no", "reference": "'+42", "rating": "",
    }  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["created"])
    cells = [cell for r in table for cell in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_the_csv_export_is_what_csv_writer_writes_on_either_database(app, desk):
    """On PostgreSQL the database writes the list's CSV (COPY), elsewhere Python's
    csv.writer: the same bytes either way, for the cells that need quoting (a comma, a
    quote, a line break), empty ones, labels, days and text beyond ASCII."""
    sam = desk["sam"]
    ticket = make_ticket(sam, 'Café ☕, "again"', private=True)
    services.edit(actor=sam, ticket=ticket, version=ticket.version, end_user_name="",
                  ref="two\nlines\r\nand more", deadline=date(2031, 12, 30),
                  priority=30)  # fmt: skip
    plain = make_ticket(sam, "No deadline, no rating")
    response = signed_in(app, "sam").get("/tickets.csv?tab=all")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows(table)
    assert response.get_data(as_text=True) == expected.getvalue()
    by_number = {row[0]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    first, second = by_number[str(ticket.id)], by_number[str(plain.id)]
    assert (first["summary"], first["end_user"], first["reference"]) == (
        'Café ☕, "again"',
        "",
        "two\nlines\r\nand more",
    )
    assert (first["private"], first["deadline"], first["priority"]) == ("yes", "2031-12-30", "High")
    assert (second["summary"], second["deadline"], second["rating"]) == (
        "No deadline, no rating",
        "",
        "",
    )


def test_suggestions_show_similar_tickets_the_owner_may_see(app, desk):
    other = make_user("bob")
    make_ticket(other, "Printer on floor 9 jams")  # bob's: alice may not see it
    sleeping = desk["tickets"][2]
    services.change_state(actor=desk["sam"], ticket=sleeping, state="sleeping")
    client = signed_in(app, "alice")
    html = client.get("/tickets/suggest?summary=printer+jams+again", headers=HTMX).text
    found = [int(i) for i in re.findall(r'href="/tickets/(\d+)"', html)]
    assert len(found) == 5 and "Is it one of these?" in html
    assert all(db.session.get(Ticket, i).author_id == desk["alice"].id for i in found)
    assert client.get("/tickets/suggest?summary=zzz", headers=HTMX).text.strip() == ""


def test_no_route_shows_a_ticket_to_someone_who_may_not_see_it(app, desk):
    """Walks every GET route of the app as an owner, with a private ticket of someone
    else's id in every URL parameter: the ticket's text must never come back."""
    bob = make_user("bob")
    secret = make_ticket(bob, "SECRET-MARKER payroll", private=True)
    note = services.comment(actor=bob, ticket=secret, body="SECRET-MARKER in a comment").comment
    file = FileStorage(io.BytesIO(b"SECRET-MARKER in a file"), filename="SECRET-MARKER.txt")
    services.attach(actor=bob, ticket=secret, files=[file])
    carl = make_user("carl", role="staff")  # staff hear of it: one notification id to try
    services.assign(actor=carl, ticket=secret, assignee=carl)
    services.comment(actor=bob, ticket=secret, body="SECRET-MARKER for staff")
    attached = db.session.scalar(sa.select(Attachment.id).where(Attachment.ticket_id == secret.id))
    told = db.session.scalar(sa.select(Notification.id).where(Notification.recipient == carl))
    client = signed_in(app, "alice")
    values = {
        "ticket_id": secret.id,
        "comment_id": note.id,
        "attachment_id": attached,
        "notification_id": told,
        "webhook_id": 1,
        "site_id": 1,
        "user_id": 1,
        "group_id": 1,
        "type_id": 1,
    }
    walked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = rule.build(values)[1]
        for query in ("", "?tab=all&q=SECRET", "?summary=SECRET-MARKER payroll"):
            response = client.get(url + query, headers=HTMX if query else {})
            body = response.get_data(as_text=True)
            assert "SECRET-MARKER" not in body, f"{rule.rule} shows a ticket it must not"
            walked += 1
    assert walked >= 30


def test_poll_counts_new_tickets_only_when_they_match_the_search(app, desk):
    client = signed_in(app, "sam")
    page = client.get("/tickets/?tab=all&q=scanner").get_data(as_text=True)
    poll = re.search(r'id="live" hx-get="([^"]+)"', page)[1].replace("&amp;", "&")
    make_ticket(desk["alice"], "Printer 9 jams too")
    assert "new ticket" not in client.get(poll, headers=HTMX).get_data(as_text=True)
    page = client.get("/tickets/?tab=all&q=scanner").get_data(as_text=True)
    poll = re.search(r'id="live" hx-get="([^"]+)"', page)[1].replace("&amp;", "&")
    make_ticket(desk["alice"], "Scanner jams")
    assert "1 new ticket matches" in client.get(poll, headers=HTMX).get_data(as_text=True)
