"""No state change on GET: every GET route of the URL map, with the real ids of a scene (as
in the permissions table), as a page and as an htmx request, by every kind of visitor,
leaves every row of every table as it was (but for the viewer's notifications written
when they look, see the walk)."""

from __future__ import annotations

import pytest

from tests.dbstate import changed, snapshot
from tests.permissions_table import VISITORS
from tests.test_permissions import api_call, scene, url_for_row, visitor_client

HTMX = {"HX-Request": "true"}
# What a route needs in its query string to do its work, not just answer 400.
QUERIES = {
    "tickets.poll": "?since=0",
    "tickets.index": "?tab=all&q=printer",
    "tickets.export": "?tab=all",
    "tickets.suggest": "?summary=printer+jams",
    "tickets.detail": "?as=row",
    "admin.users": "?q=a",
    "notifications.index": "?before=999",
    "sites.mine": "?all=1",
}


def get_routes(app) -> list[str]:
    rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"]
    return sorted(r.endpoint for r in rules)


@pytest.mark.parametrize("visitor", VISITORS)
def test_no_get_changes_anything(app, visitor):
    ids = scene(app)
    client = visitor_client(app, visitor, ids)
    client.get("/")  # signed in (and, for the deactivated, found out)
    # The one write a GET may make: the viewer's own notifications from the sites they
    # follow, for the changes since they last looked (notify.catch_up). Once here; the
    # walk makes no change, so it writes none.
    client.get("/notifications/bell")
    walked = []
    before = snapshot()
    for endpoint in get_routes(app):
        url = url_for_row(app, endpoint, ids)
        for query in ("", QUERIES.get(endpoint, "")):
            if endpoint.startswith("api."):
                response = api_call("GET", url + query, visitor, None, ids)
            else:
                response = client.get(url + query, headers=HTMX if query else {})
            response.close()
            assert response.status_code < 500, f"GET {url}{query}"
            after = snapshot()
            differ = changed(before, after)
            if endpoint.startswith("api."):  # the call made a token for the visitor
                differ = [d for d in differ if not d.startswith("api_tokens:")]
            assert not differ, f"GET {url}{query} as {visitor}: " + "; ".join(differ)
            walked.append(endpoint)
            before = after
    assert len(set(walked)) == len(get_routes(app)) >= 40


def test_the_walk_would_notice_a_get_that_writes(app, client):
    """The comparison sees a change anywhere, the search index's tables included."""
    from tests.factories import make_ticket, make_user

    alice = make_user("alice")
    before = snapshot()
    make_ticket(alice, "A write the snapshot must see")
    after = snapshot()
    assert {line.split(":")[0] for line in changed(before, after)} >= {"tickets", "changes"}
