"""Rating the work through the web: the author's word on a solved ticket, changeable until
the ticket is closed, shown to staff in the lists and kept in the change monitor."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_site, make_ticket, make_user
from webapp import services
from webapp.extensions import db
from webapp.models import Rating, Ticket

HTMX = {"HX-Request": "true"}


def signed_in(app, username: str):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def rate(client, ticket: Ticket, value, **kwargs):
    data = {"csrf_token": csrf_token(client, "/"), "rating": str(value)}
    return client.post(f"/tickets/{ticket.id}/rating", data=data, **kwargs)


def solved(ticket: Ticket, by, state: str = "ready") -> Ticket:
    services.change_state(actor=by, ticket=ticket, state=state)
    return ticket


def stored_rating(ticket: Ticket) -> int | None:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id).rating


@pytest.fixture
def desk(app):
    app.config["REQUIRE_SITE"] = False
    alice, carol = make_user("alice"), make_user("carol")
    sam = make_user("sam", role="staff")
    make_user("bob")
    site = make_site("Webshop", alice, carol)
    ticket = make_ticket(alice, "The printer jams", site=site)
    return {"alice": alice, "carol": carol, "sam": sam, "site": site, "ticket": ticket}


def test_author_rates_a_ready_ticket_and_sees_it_on_the_page(app, desk):
    ticket = solved(desk["ticket"], desk["sam"])
    client = signed_in(app, "alice")
    page = client.get(f"/tickets/{ticket.id}").text
    assert "How was the work?" in page
    assert all(f'value="{int(r)}"' in page for r in Rating)

    response = rate(client, ticket, int(Rating.GOOD))

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/tickets/{ticket.id}")
    assert stored_rating(ticket) == Rating.GOOD
    page = client.get(f"/tickets/{ticket.id}").text
    assert re.search(r"<dt>Rating</dt><dd[^>]*>Good</dd>", page)
    assert re.search(r'value="20"[^>]*checked|checked[^>]*value="20"', page)
    assert "Change rating" in page


def test_rating_with_htmx_answers_the_header_and_the_timeline(app, desk):
    ticket = solved(desk["ticket"], desk["sam"])
    client = signed_in(app, "alice")

    response = rate(client, ticket, int(Rating.VERY_GOOD), headers=HTMX)

    assert response.status_code == 200
    html = response.text
    assert 'id="ticket-header"' in html and "Very good" in html
    appended = html[html.index('<ol hx-swap-oob="beforeend:#timeline">') :]
    assert "rated the work" in appended and appended.count('<li class="entry') == 1


def test_author_changes_the_rating_until_the_ticket_is_closed(app, desk):
    ticket = solved(desk["ticket"], desk["sam"])
    client = signed_in(app, "alice")
    assert rate(client, ticket, int(Rating.DEFICIENT)).status_code == 303
    assert rate(client, ticket, int(Rating.GOOD)).status_code == 303
    assert stored_rating(ticket) == Rating.GOOD

    services.change_state(actor=desk["sam"], ticket=ticket, state="closed")
    response = rate(client, ticket, int(Rating.VERY_GOOD))

    assert response.status_code == 403
    assert "its rating is final" in response.text
    assert stored_rating(ticket) == Rating.GOOD
    assert "How was the work?" not in client.get(f"/tickets/{ticket.id}").text


def test_a_closed_unrated_ticket_can_be_rated_once(app, desk):
    ticket = solved(desk["ticket"], desk["sam"], state="closed")
    client = signed_in(app, "alice")
    page = client.get(f"/tickets/{ticket.id}").text
    assert "How was the work?" in page and "then the rating is final" in page

    assert rate(client, ticket, int(Rating.SATISFYING)).status_code == 303
    assert rate(client, ticket, int(Rating.GOOD)).status_code == 403
    assert stored_rating(ticket) == Rating.SATISFYING


@pytest.mark.parametrize(("who", "status"), [("sam", 403), ("carol", 403), ("bob", 404)])
def test_only_the_author_may_rate(app, desk, who, status):
    """Staff and a subscriber see the ticket but may not rate it; bob may not even see it."""
    ticket = solved(desk["ticket"], desk["sam"])
    client = signed_in(app, who)

    response = rate(client, ticket, int(Rating.GOOD))

    assert response.status_code == status
    if status == 403:
        assert "author can rate the work." in response.text
        assert "How was the work?" not in client.get(f"/tickets/{ticket.id}").text
    assert stored_rating(ticket) is None


def test_an_unsolved_ticket_cannot_be_rated_yet(app, desk):
    client = signed_in(app, "alice")
    assert "How was the work?" not in client.get(f"/tickets/{desk['ticket'].id}").text

    response = rate(client, desk["ticket"], int(Rating.GOOD))

    assert response.status_code == 403
    assert "The work can be rated once the ticket is solved." in response.text
    assert stored_rating(desk["ticket"]) is None


@pytest.mark.parametrize("value", ["abc", "11", "", "-10", "1e3"])
def test_a_value_that_is_not_a_rating_gets_a_clear_422(app, desk, value):
    ticket = solved(desk["ticket"], desk["sam"])
    client = signed_in(app, "alice")

    for headers in ({}, HTMX):
        response = rate(client, ticket, value, headers=headers)
        assert response.status_code == 422
        assert "Choose one of the ratings" in response.text
    assert response.headers["HX-Retarget"] == "#alerts"
    assert stored_rating(ticket) is None


def test_rating_without_the_form_token_is_refused(app, desk):
    ticket = solved(desk["ticket"], desk["sam"])
    client = signed_in(app, "alice")
    response = client.post(f"/tickets/{ticket.id}/rating", data={"rating": "20"})
    assert response.status_code == 400
    assert stored_rating(ticket) is None


def test_the_rating_is_in_the_change_monitor_and_the_timeline(app, desk):
    ticket = solved(desk["ticket"], desk["sam"])
    client = signed_in(app, "alice")
    rate(client, ticket, int(Rating.DEFICIENT))
    rate(client, ticket, int(Rating.GOOD))

    table = list(csv.reader(io.StringIO(client.get(f"/tickets/{ticket.id}/monitor.csv").text)))
    rows = [r[1:] for r in table[1:] if r[2] == "rating"]
    assert rows == [
        ["alice", "rating", "rating", "", "40"],
        ["alice", "rating", "rating", "40", "20"],
    ]
    page = client.get(f"/tickets/{ticket.id}").text
    assert page.count("rated the work") == 2
    assert "Deficient" in page


def test_staff_see_the_rating_in_the_list_row_owners_do_not(app, desk):
    ticket = solved(desk["ticket"], desk["sam"])
    rate(signed_in(app, "alice"), ticket, int(Rating.INSUFFICIENT))

    staff_row = _row(signed_in(app, "sam").get("/tickets/?tab=all").text, ticket.id)
    owner_row = _row(signed_in(app, "alice").get("/tickets/?tab=all").text, ticket.id)

    assert "rated: Insufficient" in staff_row
    assert "Insufficient" not in owner_row


def test_the_rating_filter_narrows_the_list_and_the_export(app, desk):
    rated = solved(desk["ticket"], desk["sam"])
    rate(signed_in(app, "alice"), rated, int(Rating.GOOD))
    other = solved(make_ticket(desk["alice"], "The scanner is slow"), desk["sam"])
    rate(signed_in(app, "alice"), other, int(Rating.UNRATABLE))
    unrated = make_ticket(desk["alice"], "The mouse squeaks")
    client = signed_in(app, "sam")

    assert _ids(client.get("/tickets/?tab=all&rating=20").text) == [rated.id]
    assert _ids(client.get("/tickets/?tab=all&rating=none").text) == [unrated.id]
    page = client.get("/tickets/?tab=all").text
    assert 'id="filter-rating"' in page and ">Unratable</option>" in page
    export = list(csv.reader(io.StringIO(client.get("/tickets.csv?tab=all&rating=90").text)))
    assert export[0][-1] == "rating"
    assert [(int(r[0]), r[-1]) for r in export[1:]] == [(other.id, "Unratable")]


@pytest.mark.parametrize("value", ["good", "11", "-20", "None"])
def test_a_bad_rating_filter_is_a_422_that_says_why(app, desk, value):
    client = signed_in(app, "sam")
    response = client.get(f"/tickets/?tab=all&rating={value}")
    assert response.status_code == 422
    assert "Unknown rating" in response.text
    assert client.get(f"/tickets.csv?tab=all&rating={value}").status_code == 422


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="ticket-(\d+)"', html)]


def _row(html: str, ticket_id: int) -> str:
    match = re.search(rf'<tr id="ticket-{ticket_id}".*?</tr>', html, re.S)
    assert match, f"no row for #{ticket_id}"
    return match.group(0)
