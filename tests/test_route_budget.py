"""No page reads more as the data grows (issue 9): every GET route of the URL map, with the
real ids of the permissions' scene, drawn anew (nothing kept) as an admin, who sees
everything, takes at most six SQL statements, and as many before and after more of
everything: people, their sign-ins and tokens, tickets by many authors with comments,
subscribers and their notifications. A statement a row would show here as a count that
grows."""

from __future__ import annotations

from tests.factories import make_ticket, make_user
from tests.test_get_is_safe import QUERIES, get_routes
from tests.test_permissions import USERNAMES, scene, url_for_row, visitor_client
from tests.test_views_lists import counting_queries
from webapp import accounts, api_tokens, notify, services
from webapp.extensions import db
from webapp.models import Site, Subscription

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
    api = app.test_client()
    token = api_tokens.create(user=accounts.find_user(USERNAMES["admin"]), name="walk")[1]
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
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
