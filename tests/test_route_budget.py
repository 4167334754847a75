"""The statements of every route (issue 9). Every GET route of the URL map, with the real
ids of the permissions' scene, drawn anew (nothing kept) as an admin, who sees everything,
takes at most six SQL statements, and as many before and after more of everything:
people, their sign-ins and tokens, tickets by many authors with comments, subscribers and
their notifications (a statement a row would show here as a count that grows). Every
write takes at most six too, however it is posted."""

from __future__ import annotations

import io
import re

import pytest
from werkzeug.datastructures import FileStorage

from tests.conftest import csrf_token
from tests.factories import make_ticket, make_user
from tests.permissions_table import TABLE
from tests.test_api_tickets import as_user
from tests.test_get_is_safe import QUERIES, get_routes
from tests.test_permissions import USERNAMES, scene, url_for_row, visitor_client
from tests.test_views_lists import counting_queries
from webapp import accounts, api_tokens, notify, services, webhooks
from webapp.extensions import db
from webapp.models import Site, Subscription, Ticket

HTMX = {"HX-Request": "true"}
BUDGET = 6  # statements, for any page (issue 9)


def walk(app, client, api, ids) -> dict[str, tuple[int, int]]:
    """Each route's answer and statements: (status, count), by URL."""
    counts = {}
    for endpoint in get_routes(app):
        url = url_for_row(app, endpoint, ids)
        for query in dict.fromkeys(("", QUERIES.get(endpoint, ""))):
            htmx = HTMX if query and not endpoint.startswith("api.") else {}
            with counting_queries() as statements:
                response = (api if endpoint.startswith("api.") else client).get(
                    url + query, headers=htmx
                )
            response.close()
            counts[url + query] = (response.status_code, len(statements))
    return counts


def grow(ids, n: int) -> None:
    """n more people (half of them staff) who follow the site, each with a sign-in, a token
    and a ticket of their own that the others comment on; everyone looks."""
    site = db.session.get(Site, ids["site"])
    people = [make_user(role="staff" if i % 2 else "owner") for i in range(n)]
    db.session.add_all(Subscription(user=user, site=site) for user in people)
    db.session.commit()
    for i, author in enumerate(people):
        accounts.start_session(author)
        api_tokens.create(user=author, name="theirs")
        ticket = make_ticket(author, f"Scanner {i} is slow", site=site)
        for other in people[:3]:
            services.comment(actor=other, ticket=ticket, body=f"Seen on floor {i} too.")
    for user in people:
        notify.catch_up(user)


def test_no_page_reads_more_as_the_data_grows(app):
    app.config["PAGE_CACHE_BYTES"] = 0  # every page drawn anew
    ids = scene(app)
    client = visitor_client(app, "admin", ids)
    api = as_user(app, accounts.find_user(USERNAMES["admin"]))
    client.get("/notifications/bell")  # caught up
    walk(app, client, api, ids)  # what a process reads once, and after setup changes
    before = walk(app, client, api, ids)
    grow(ids, 8)
    client.get("/notifications/bell")
    walk(app, client, api, ids)
    after = walk(app, client, api, ids)
    grew = {url: (before[url][1], after[url][1]) for url in before if before[url] != after[url]}
    assert not grew, grew
    over = {url: count for url, (_status, count) in after.items() if count > BUDGET}
    assert not over, over
    assert len(before) >= 40


ACTIONS = [(method, endpoint) for method, endpoint, cells, _ in TABLE
           if method != "GET" and cells["admin"] < 400]  # fmt: skip
# How a write is posted: as a plain form; by htmx from the page it is on, which shows
# what is there; by htmx from that page drawn before a colleague commented on the ticket
# with a file and changed what its header shows: a ticket's page then gets what it lacks,
# the notifications page catches up with the news first.
PAGES = ["form", "htmx", "behind"]


def colleague_changes(ticket_id: int) -> None:
    """Sam comments on the ticket with a file and says what it is waiting for."""
    sam, ticket = accounts.find_user(USERNAMES["staff"]), db.session.get(Ticket, ticket_id)
    file = FileStorage(io.BytesIO(b"log"), filename="printer.log")
    services.comment(actor=sam, ticket=ticket, body="Same here.", files=[file])
    services.edit(actor=sam, ticket=ticket, version=ticket.version, waiting_for="A new drum")
    db.session.remove()


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("method", "endpoint"), ACTIONS)
def test_no_action_takes_more_statements_than_it_did(app, method, endpoint, page):
    """Each write of the URL map, as the admin, on the permissions' scene, by a process
    that has served the person before, posted as each of PAGES says (the API's once): at
    most six statements."""
    if page != "form" and endpoint.startswith("api."):
        pytest.skip("the API has no htmx")
    if page == "behind" and not endpoint.startswith(("tickets.", "notifications.")):
        pytest.skip("not posted from a page the colleague's changes show on")
    ids = scene(app)
    with app.app_context():  # as a process that has served a change since setup changed
        webhooks.active()
    _, _, cells, data = next(row for row in TABLE if row[:2] == (method, endpoint))
    url = url_for_row(app, endpoint, ids)
    values = {k: v.format(**ids) for k, v in (data or {}).items()}
    htmx = page != "form"
    if endpoint.startswith("api."):
        client = as_user(app, accounts.find_user(USERNAMES["admin"]))
        client.get("/api/v1/tickets")  # the token's first use is recorded
        body = {k: int(v) if v.isdigit() else v for k, v in values.items()}
        with counting_queries() as statements:
            response = client.open(url, method=method, json=body if data else None)
    else:
        client = visitor_client(app, "admin", ids)
        values |= {k: (io.BytesIO(b"x"), v[1:]) for k, v in values.items() if v[:1] == "@"}
        values["csrf_token"] = csrf_token(client, "/tickets/")
        shown = client.get(f"/tickets/{ids['ticket']}").get_data(as_text=True)
        client.get("/tickets/new")  # the form's choices, kept until setup changes
        client.get("/notifications")  # where "mark all read" is: caught up
        if htmx:
            values["shown"] = re.search(r'name="shown" value="(\d+)"', shown).group(1)
        if page == "behind":
            with app.app_context():
                colleague_changes(ids["ticket"])
        with counting_queries() as statements:
            response = client.open(url, method=method, data=values, headers=HTMX if htmx else {})
    response.close()
    if htmx:
        assert response.status_code < 400, f"{method} {url}"
    else:
        assert response.status_code == cells["admin"], f"{method} {url}"
    assert len(statements) <= BUDGET, statements
