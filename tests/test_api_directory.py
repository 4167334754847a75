"""Sites, ticket types and notifications through the API: the same rules as their pages."""

from __future__ import annotations

import pytest

from tests.factories import make_site, make_ticket, make_user
from tests.test_api_tickets import as_user
from webapp import notify, services
from webapp.extensions import db
from webapp.models import TicketType


@pytest.fixture
def sites(app):
    alice, bob = make_user("alice"), make_user("bob")
    return {
        "alice": alice,
        "bob": bob,
        "shop": make_site("Webshop", alice),
        "wiki": make_site("Wiki"),
        "old": make_site("Old intranet", alice, state="sleeping"),
        "gone": make_site("Archive", state="closed"),
    }


def names(client, query: str = "") -> list[str]:
    return [s["name"] for s in client.get(f"/api/v1/sites{query}").json["items"]]


def test_people_list_the_sites_they_may_open(app, sites):
    alice, bob = as_user(app, sites["alice"]), as_user(app, sites["bob"])
    assert names(alice) == ["Old intranet", "Webshop", "Wiki"]  # a sleeping site she follows
    assert names(alice, "?following=1") == ["Old intranet", "Webshop"]
    assert names(bob) == ["Webshop", "Wiki"]
    assert names(as_user(app, make_user("sam", role="staff"))) == [
        "Archive", "Old intranet", "Webshop", "Wiki"
    ]  # fmt: skip
    assert bob.get(f"/api/v1/sites/{sites['gone'].id}").status_code == 404
    shop = alice.get(f"/api/v1/sites/{sites['shop'].id}").json
    assert shop == {"id": sites["shop"].id, "name": "Webshop", "description": "",
                    "state": "active", "following": True}  # fmt: skip


def test_following_a_site_shows_its_tickets(app, sites):
    ticket = make_ticket(sites["alice"], "Checkout fails", site=sites["shop"])
    bob = as_user(app, sites["bob"])
    assert bob.get(f"/api/v1/tickets/{ticket.id}").status_code == 404
    followed = bob.post(f"/api/v1/sites/{sites['shop'].id}/subscribe")
    assert followed.status_code == 200 and followed.json["following"] is True
    assert bob.get(f"/api/v1/tickets/{ticket.id}").json["summary"] == "Checkout fails"
    assert bob.post(f"/api/v1/sites/{sites['shop'].id}/subscribe").status_code == 200  # again
    left = bob.post(f"/api/v1/sites/{sites['shop'].id}/unsubscribe")
    assert left.json["following"] is False
    assert bob.get(f"/api/v1/tickets/{ticket.id}").status_code == 404


def test_a_sleeping_site_takes_no_new_followers(app, sites):
    carol = as_user(app, make_user("carol"))
    assert carol.post(f"/api/v1/sites/{sites['old'].id}/subscribe").status_code == 404
    refused = as_user(app, sites["alice"]).post(f"/api/v1/sites/{sites['gone'].id}/subscribe")
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"


def test_owners_see_the_types_they_may_report_with(app):
    db.session.add_all([TicketType(name="Bug"), TicketType(name="Retired", active=False)])
    db.session.commit()
    owner = as_user(app, make_user("alice")).get("/api/v1/types").json["items"]
    assert [(t["name"], t["active"]) for t in owner] == [("Bug", True)]
    staff = as_user(app, make_user("sam", role="staff")).get("/api/v1/types").json["items"]
    assert [(t["name"], t["active"]) for t in staff] == [("Bug", True), ("Retired", False)]


def test_notifications_are_listed_and_marked_read(app, sites):
    alice, sam = sites["alice"], make_user("sam", role="staff")
    ticket = make_ticket(alice, "Checkout fails", site=sites["shop"])
    for n in range(3):
        services.comment(actor=sam, ticket=ticket, body=f"Looking, step {n}.")
    api = as_user(app, alice)
    listed = api.get("/api/v1/notifications").json
    assert [n["headline"] for n in listed["items"]] == [
        f"#{ticket.id} Checkout fails: Sam commented" for _ in range(3)
    ]
    assert listed["next_before"] is None and all(n["seen"] is None for n in listed["items"])
    first = listed["items"][0]
    assert first["url"].endswith(f"/tickets/{ticket.id}#comment-{ticket.comments[-1].id}")
    read = api.post(f"/api/v1/notifications/{first['id']}/read")
    assert read.status_code == 200 and read.json["seen"] is not None
    assert notify.unread_count(alice) == 2
    bob = as_user(app, sites["bob"])
    assert bob.post(f"/api/v1/notifications/{first['id']}/read").status_code == 404
    assert api.post("/api/v1/notifications/read-all").status_code == 204
    assert notify.unread_count(alice) == 0
    assert api.get("/api/v1/notifications?before=x").status_code == 400
