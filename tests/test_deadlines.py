"""Deadlines and auto-close in the web UI: overdue tickets stand out in every list (by the
viewer's calendar), "deadline first" pages through every ticket once, and a ready ticket
says when it closes by itself."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_ticket, make_user
from webapp import listing, services
from webapp.models import Ticket

HTMX = {"HX-Request": "true"}


def signed_in(app, username: str):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def today(zone: str = "UTC") -> date:
    return datetime.now(ZoneInfo(zone)).date()


def with_deadline(ticket: Ticket, by, deadline: date | None) -> Ticket:
    services.edit(actor=by, ticket=ticket, version=ticket.version, deadline=deadline)
    return ticket


def shown(day: date) -> str:
    """As the pages show a day in English: 4 Dec 2026 (no leading zero)."""
    return f"{day.day} {day:%b %Y}"


def row(html: str, ticket_id: int) -> str:
    match = re.search(rf'<tr id="ticket-{ticket_id}".*?</tr>', html, re.S)
    assert match, f"no row for #{ticket_id}"
    return match.group(0)


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="ticket-(\d+)"', html)]


@pytest.fixture
def desk(app):
    app.config["REQUIRE_SITE"] = False
    alice = make_user("alice")
    sam = make_user("sam", role="staff")
    return {"alice": alice, "sam": sam}


def test_an_overdue_ticket_stands_out_in_lists_home_and_header(app, desk):
    yesterday = today() - timedelta(days=1)
    ticket = with_deadline(make_ticket(desk["alice"], "Invoice run"), desk["sam"], yesterday)
    client = signed_in(app, "sam")

    for url in ("/tickets/?tab=all", "/tickets/?tab=triage", "/"):
        html = row(client.get(url).text, ticket.id)
        assert 'class="ticket-row overdue"' in html, url
        assert f"overdue: due {shown(yesterday)}" in html, url
    header = client.get(f"/tickets/{ticket.id}").text
    assert re.search(
        rf"<dt>Deadline</dt><dd[^>]*>{shown(yesterday)} <span[^>]*>overdue</span>", header
    )
    assert "overdue" in row(signed_in(app, "alice").get("/").text, ticket.id)


@pytest.mark.parametrize(
    ("state", "days"), [("new", 0), ("new", 1), ("working", 30), ("closed", -3), ("cancelled", -1)]
)
def test_not_overdue_when_due_today_or_later_or_no_longer_active(app, desk, state, days):
    deadline = today() + timedelta(days=days)
    ticket = with_deadline(make_ticket(desk["alice"]), desk["sam"], deadline)
    if state != "new":
        services.change_state(actor=desk["sam"], ticket=ticket, state=state)
    client = signed_in(app, "sam")

    html = row(client.get("/tickets/?tab=all").text, ticket.id)

    assert 'class="ticket-row"' in html and "overdue" not in html
    assert f'<span class="due">due {shown(deadline)}</span>' in html
    assert "overdue" not in client.get(f"/tickets/{ticket.id}").text


def test_a_row_without_deadline_says_nothing_about_it(app, desk):
    ticket = make_ticket(desk["alice"])
    html = row(signed_in(app, "sam").get("/tickets/?tab=all").text, ticket.id)
    assert "due " not in html and "overdue" not in html


def test_the_viewers_calendar_decides_whether_it_is_overdue(app, desk):
    """Kiritimati (UTC+14) is always a day or two ahead of Pago Pago (UTC-11): on the day
    that is today in Pago Pago, the deadline has passed in Kiritimati."""
    make_user("kiri", role="staff", timezone="Pacific/Kiritimati")
    make_user("pago", role="staff", timezone="Pacific/Pago_Pago")
    deadline = today("Pacific/Pago_Pago")
    ticket = with_deadline(make_ticket(desk["alice"]), desk["sam"], deadline)

    ahead = row(signed_in(app, "kiri").get("/tickets/?tab=all").text, ticket.id)
    behind = row(signed_in(app, "pago").get("/tickets/?tab=all").text, ticket.id)

    assert 'class="ticket-row overdue"' in ahead
    assert 'class="ticket-row"' in behind and f"due {shown(deadline)}" in behind


def test_sort_by_deadline_is_offered_and_suggested_to_triagers(app, desk):
    client = signed_in(app, "sam")
    page = client.get("/tickets/?tab=triage").text
    assert '<option value="deadline">deadline first</option>' in page
    assert "sort by deadline, earliest first" in page
    page = client.get("/tickets/?tab=triage&sort=deadline").text
    assert '<option value="deadline" selected>deadline first</option>' in page
    assert "sort by deadline, earliest first" not in page


@pytest.mark.parametrize("sort", ["deadline", "-deadline"])
def test_deadline_first_pages_through_every_ticket_once(app, desk, monkeypatch, sort):
    """Tickets with a deadline come first (earliest first, or latest first descending),
    ties by newest, then those without, also across pages through the cursor."""
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    base = today()
    days = [5, None, -2, 5, None, 0, 12, None, -2]
    tickets = []
    for i, d in enumerate(days):
        ticket = make_ticket(desk["alice"], f"Job {i}")
        if d is not None:
            with_deadline(ticket, desk["sam"], base + timedelta(days=d))
        tickets.append((d, ticket.id))
    dated = sorted(((d, t) for d, t in tickets if d is not None), key=lambda p: -p[1])
    dated.sort(key=lambda p: p[0], reverse=sort.startswith("-"))
    undated = sorted((t for d, t in tickets if d is None), reverse=True)
    expected = [t for _, t in dated] + undated
    client = signed_in(app, "sam")

    seen, url, pages = [], f"/tickets/?tab=all&sort={sort}", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += row_ids(response.text)
        link = re.search(r'class="button" href="([^"]+)"[^>]*>Show more', response.text)
        url = link[1].replace("&amp;", "&") if link else None
        pages += 1
        assert pages < 10, "endless pages"

    assert seen == expected
    assert pages == 5


def test_a_tampered_deadline_cursor_shows_the_first_page(app, desk):
    ticket = with_deadline(make_ticket(desk["alice"]), desk["sam"], today())
    cursor = base64.urlsafe_b64encode(json.dumps(["not a day", 3]).encode()).decode()
    response = signed_in(app, "sam").get(f"/tickets/?tab=all&sort=deadline&after={cursor}")
    assert response.status_code == 422
    assert "That page link is broken" in response.text
    assert row_ids(response.text) == [ticket.id]


def test_a_ready_ticket_says_when_it_closes_and_how_to_reopen_it(app, desk):
    ticket = make_ticket(desk["alice"], "Printer jams")
    services.change_state(actor=desk["sam"], ticket=ticket, state="ready")
    closes = services.closes_at(ticket)
    assert closes is not None
    moment = closes.astimezone(UTC)
    when = f"{shown(moment.date())}, {moment:%H:%M}"
    notice = "If nobody reopens it, this ticket closes automatically on"

    author_page = signed_in(app, "alice").get(f"/tickets/{ticket.id}").text
    staff_page = signed_in(app, "sam").get(f"/tickets/{ticket.id}").text

    for page in (author_page, staff_page):
        assert re.search(rf"{notice} <time datetime=\"[^\"]+\">{when}</time>", page)
    assert "Press “Open” below to reopen it." in author_page
    assert "to reopen it" not in staff_page


def test_the_notice_appears_when_staff_move_the_ticket_to_ready_with_htmx(app, desk):
    ticket = make_ticket(desk["alice"], "Printer jams")
    client = signed_in(app, "sam")
    data = {"csrf_token": csrf_token(client, "/"), "state": "ready"}
    html = client.post(f"/tickets/{ticket.id}/state", data=data, headers=HTMX).text
    assert "closes automatically on" in html


@pytest.mark.parametrize("state", ["new", "closed"])
def test_no_notice_unless_the_ticket_is_ready(app, desk, state):
    ticket = make_ticket(desk["alice"])
    if state != "new":
        services.change_state(actor=desk["sam"], ticket=ticket, state=state)
    page = signed_in(app, "alice").get(f"/tickets/{ticket.id}").text
    assert "closes automatically" not in page


def test_no_notice_when_auto_close_is_off(app, desk):
    app.config["AUTOCLOSE_AFTER"] = 0
    ticket = make_ticket(desk["alice"])
    services.change_state(actor=desk["sam"], ticket=ticket, state="ready")
    page = signed_in(app, "alice").get(f"/tickets/{ticket.id}").text
    assert "closes automatically" not in page
