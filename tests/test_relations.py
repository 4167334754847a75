"""Duplicates and child tickets: rules, the change monitor, and the ticket page."""

from __future__ import annotations

import pytest

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_ticket, make_user
from webapp import services
from webapp.exceptions import Forbidden, Invalid, NotFound
from webapp.extensions import db
from webapp.models import Ticket


@pytest.fixture
def people(app):
    return {"alice": make_user("alice"), "bob": make_user("bob"),
            "sam": make_user("sam", role="staff")}  # fmt: skip


def rows(change):
    return [(f.field, f.old, f.new) for f in change.fields]


def test_a_later_ticket_is_marked_as_duplicate_of_an_earlier_one(people):
    first, second = make_ticket(people["alice"]), make_ticket(people["bob"])
    change = services.mark_duplicate(actor=people["sam"], ticket=second, original=first)
    assert (change.kind, rows(change)) == ("duplicate", [("duplicate_of", None, str(first.id))])
    assert second.state == "new" and first.state == "new"  # each keeps its own state
    cleared = services.mark_duplicate(actor=people["sam"], ticket=second, original=None)
    assert rows(cleared) == [("duplicate_of", str(first.id), None)]


def test_duplicates_point_back_never_to_themselves_and_never_in_a_circle(people):
    first, second, third = (make_ticket(people["alice"]) for _ in range(3))
    sam = people["sam"]
    with pytest.raises(Invalid, match="itself"):
        services.mark_duplicate(actor=sam, ticket=first, original=first)
    with pytest.raises(Invalid, match="newer"):
        services.mark_duplicate(actor=sam, ticket=first, original=second)
    services.mark_duplicate(actor=sam, ticket=third, original=second)
    services.mark_duplicate(actor=sam, ticket=second, original=first)
    assert [third.duplicate_of, third.duplicate_of.duplicate_of] == [second, first]


def test_only_staff_mark_duplicates(people):
    first, second = make_ticket(people["alice"]), make_ticket(people["alice"])
    with pytest.raises(Forbidden):
        services.mark_duplicate(actor=people["alice"], ticket=second, original=first)


def test_spawned_child_copies_the_site_and_both_tickets_record_it(app, people):
    app.config["REQUIRE_SITE"] = False
    parent = make_ticket(people["alice"], "Shop is slow")
    child = services.spawn_child(
        actor=people["sam"], parent=parent, summary="Images are too large",
        description="The product images are 5 MB each.",
    )  # fmt: skip
    assert (child.parent, child.site, child.author) == (parent, parent.site, people["sam"])
    assert ("parent", None, str(parent.id)) in rows(child.changes[0])
    assert rows(parent.changes[-1]) == [("child", None, str(child.id))]
    with pytest.raises(NotFound):  # bob may not even see it
        services.spawn_child(actor=people["bob"], parent=parent, summary="x", description="a b c")


def test_ticket_page_shows_chain_duplicates_parent_and_children(app, people):
    sam = people["sam"]
    root, middle, last = (make_ticket(people["alice"], f"Printer {i} jams") for i in range(3))
    services.mark_duplicate(actor=sam, ticket=middle, original=root)
    services.mark_duplicate(actor=sam, ticket=last, original=middle)
    child = services.spawn_child(actor=people["alice"], parent=root, summary="Order toner",
                                 description="We are out of toner again.")  # fmt: skip
    client = app.test_client()
    AuthActions(client).login("alice")
    last_page = client.get(f"/tickets/{last.id}").get_data(as_text=True)
    assert f"#{middle.id} Printer 1 jams" in last_page
    assert "Root of the problem" in last_page and f"#{root.id} Printer 0 jams" in last_page
    root_page = client.get(f"/tickets/{root.id}").get_data(as_text=True)
    assert f"#{middle.id} Printer 1 jams" in root_page and f"#{child.id} Order toner" in root_page


def test_a_refused_comment_s_page_still_shows_the_linked_tickets_its_viewer_may_see(app, people):
    """The page drawn again with a form's errors reads the linked tickets itself (the
    ticket's own page reads them with the ticket): the same ones, as far as the viewer
    may see them."""
    sam = people["sam"]
    root = make_ticket(people["alice"], "Printer jams")
    seen = make_ticket(people["alice"], "Printer jams again")
    hidden = make_ticket(people["bob"], "Bob's printer jams")  # alice may not see it
    for duplicate in (seen, hidden):
        services.mark_duplicate(actor=sam, ticket=duplicate, original=root)
    child = services.spawn_child(actor=people["alice"], parent=root, summary="Order toner",
                                 description="We are out of toner again.")  # fmt: skip
    client = app.test_client()
    AuthActions(client).login("alice")
    token = csrf_token(client, f"/tickets/{root.id}")
    response = client.post(f"/tickets/{root.id}/comments", data={"csrf_token": token, "body": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"#{seen.id} Printer jams again" in page and f"#{child.id} Order toner" in page
    assert "Bob&#39;s printer" not in page and f"#{hidden.id} " not in page


def test_mark_duplicate_and_spawn_over_http(app, people):
    first, second = make_ticket(people["alice"]), make_ticket(people["alice"])
    client = app.test_client()
    AuthActions(client).login("sam")
    token = csrf_token(client, "/")
    response = client.post(f"/tickets/{second.id}/duplicate",
                           data={"csrf_token": token, "original": f"#{first.id}"})  # fmt: skip
    assert response.status_code == 303
    assert (
        client.post(
            f"/tickets/{second.id}/duplicate", data={"csrf_token": token, "original": "nine"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/tickets/{first.id}/duplicate", data={"csrf_token": token, "original": "999"}
        ).status_code
        == 422
    )
    response = client.post(
        f"/tickets/{first.id}/children",
        data={
            "csrf_token": token,
            "summary": "Follow-up",
            "description": "Check the other printers too.",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Ticket, second.id).duplicate_of_id == first.id
    assert db.session.get(Ticket, 3).parent_id == first.id
