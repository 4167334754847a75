"""Tickets through the API: the same rules, lists and history as the pages, in JSON."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import AuthActions
from tests.factories import make_site, make_ticket, make_user
from tests.test_views_lists import counting_queries
from webapp import api_tokens, services
from webapp.extensions import db


@pytest.fixture
def desk(app):
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    site = make_site("Webshop", alice)
    tickets = [make_ticket(alice, f"Printer {n} jams", site=site) for n in range(5)]
    return {"alice": alice, "sam": sam, "site": site, "tickets": tickets}


def as_user(app, user):
    client = app.test_client()
    secret = api_tokens.create(user=user, name="test")[1]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def test_the_list_takes_the_pages_tabs_filters_and_cursor(app, desk):
    api = as_user(app, desk["sam"])
    first = api.get("/api/v1/tickets?tab=all&limit=2").json
    assert [t["summary"] for t in first["items"]] == ["Printer 4 jams", "Printer 3 jams"]
    second = api.get(f"/api/v1/tickets?tab=all&limit=2&after={first['next_after']}").json
    assert [t["summary"] for t in second["items"]] == ["Printer 2 jams", "Printer 1 jams"]
    found = api.get("/api/v1/tickets?tab=all&q=printer 3").json["items"]
    assert [t["id"] for t in found] == [desk["tickets"][3].id]
    bad = api.get("/api/v1/tickets?tab=all&state=flying&limit=500")
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert set(bad.json["errors"]) == {"state"}


def test_reporting_a_ticket(app, desk):
    api = as_user(app, desk["alice"])
    body = {"summary": "Scanner is slow", "description": "Every scan takes a minute now.",
            "site_id": desk["site"].id, "priority": 30}  # fmt: skip
    response = api.post("/api/v1/tickets", json=body)
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/tickets/{response.json['id']}")
    assert response.json["author"] == "alice" and response.json["state"] == "new"
    invalid = api.post("/api/v1/tickets", json={"summary": "", "description": "x", "color": 1})
    assert invalid.status_code == 422
    assert set(invalid.json["errors"]) == {"color"}
    wrong_type = api.post("/api/v1/tickets", json={**body, "priority": "high"})
    assert wrong_type.json["errors"] == {"priority": "Wrong type."}
    assert api.post("/api/v1/tickets", data="not json").status_code == 400


def test_updates_are_optimistically_locked(app, desk):
    ticket = desk["tickets"][0]
    api = as_user(app, desk["alice"])
    seen = api.get(f"/api/v1/tickets/{ticket.id}").json["version"]
    services.edit(actor=desk["sam"], ticket=ticket, version=seen, summary="Printer 0 jams a lot")
    clash = api.patch(f"/api/v1/tickets/{ticket.id}", json={"summary": "Mine", "version": seen})
    assert clash.status_code == 409 and set(clash.json["errors"]) == {"summary"}
    other_field = api.patch(
        f"/api/v1/tickets/{ticket.id}", json={"priority": 40}, headers={"If-Match": f'"{seen}"'}
    )
    assert other_field.status_code == 200 and other_field.json["priority"] == 40
    assert other_field.json["summary"] == "Printer 0 jams a lot"  # nothing overwritten
    assert api.patch(f"/api/v1/tickets/{ticket.id}", json={"priority": 10}).status_code == 422


def test_a_version_beyond_any_integer_is_no_server_error(app, desk):
    """No change is newer than the ticket's own version, so none can clash with an edit
    that names a later one; a version past any integer column once answered 500."""
    ticket = desk["tickets"][0]
    api = as_user(app, desk["alice"])
    for version in (2**63, 2**70):
        body = {"priority": 40, "version": version}
        edited = api.patch(f"/api/v1/tickets/{ticket.id}", json=body)
        assert edited.status_code == 200 and edited.json["priority"] == 40


def test_take_assign_state_and_a_lost_race(app, desk):
    ticket = desk["tickets"][1]
    sam, ada = as_user(app, desk["sam"]), as_user(app, make_user("ada", role="admin"))
    taken = sam.post(f"/api/v1/tickets/{ticket.id}/take")
    assert taken.status_code == 200 and taken.json["assignee"] == "sam"
    assert taken.json["state"] == "opened"
    lost = ada.post(f"/api/v1/tickets/{ticket.id}/take")
    assert lost.status_code == 409 and "Sam has taken this ticket." in lost.json["detail"]
    moved = ada.post(f"/api/v1/tickets/{ticket.id}/state", json={"state": "working"})
    assert moved.json["state"] == "working"
    unassigned = ada.post(f"/api/v1/tickets/{ticket.id}/assign", json={"user_id": None})
    assert unassigned.json["assignee"] is None
    refused = as_user(app, desk["alice"]).post(
        f"/api/v1/tickets/{ticket.id}/assign", json={"user_id": desk["sam"].id}
    )
    assert refused.status_code == 403


def test_comments_and_the_change_monitor_match_the_pages(app, desk):
    ticket = desk["tickets"][2]
    api = as_user(app, desk["alice"])
    posted = api.post(f"/api/v1/tickets/{ticket.id}/comments", json={"body": "Still **jams**."})
    assert posted.status_code == 201 and posted.json["author"] == "alice"
    comments = api.get(f"/api/v1/tickets/{ticket.id}/comments").json["items"]
    assert [c["body"] for c in comments] == ["Still **jams**."]
    assert api.post(f"/api/v1/tickets/{ticket.id}/comments", json={"body": " "}).status_code == 422
    rows = api.get(f"/api/v1/tickets/{ticket.id}/changes").json["items"]
    page = app.test_client()
    AuthActions(page).login("alice")
    csv_rows = list(csv.DictReader(io.StringIO(page.get(f"/tickets/{ticket.id}/monitor.csv").text)))
    assert rows == csv_rows


def test_the_list_takes_the_same_statements_however_many_people_wrote_its_tickets(app, desk):
    """Each ticket names its author: read with the page, not one statement a ticket."""
    app.config["REQUIRE_SITE"] = False
    api = as_user(app, desk["sam"])
    counts = []
    for more in (0, 6):
        for i in range(more):
            make_ticket(make_user(f"writer{i}"), f"Scanner {i} is slow")
        api.get("/api/v1/tickets?tab=all")  # what a process reads once
        db.session.expunge_all()  # as in a server's request: nobody loaded yet
        with counting_queries() as statements:
            items = api.get("/api/v1/tickets?tab=all&limit=20").json["items"]
        assert len(items) == 5 + more
        assert {t["author"] for t in items} == {"alice"} | {f"writer{i}" for i in range(more)}
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
