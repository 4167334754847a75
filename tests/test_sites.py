"""Sites and subscriptions: where owners may report, and what subscribers see."""

from __future__ import annotations

import pytest

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_site, make_ticket, make_user
from webapp import listing, services
from webapp.exceptions import Forbidden, Invalid
from webapp.extensions import db
from webapp.models import Subscription
from webapp.visibility import can_see
from webapp.workflow import LINO

HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(app):
    return {
        "alice": make_user("alice"),
        "bob": make_user("bob"),
        "carol": make_user("carol"),
        "sam": make_user("sam", role="staff"),
    }


def signed_in(app, username: str):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def test_owners_report_only_on_sites_they_follow(people):
    web = make_site("Webshop", people["alice"])
    other = make_site("Accounting")
    assert make_ticket(people["alice"], site=web).site == web
    with pytest.raises(Invalid, match="not subscribed to Accounting"):
        make_ticket(people["alice"], site=other)
    with pytest.raises(Invalid, match="Choose a site"):
        make_ticket(people["alice"])


def test_staff_report_anywhere_and_without_a_site(people):
    make_site("Webshop")
    assert make_ticket(people["sam"]).site is None


def test_without_require_site_owners_may_report_without_one(app, people):
    make_site("Webshop")
    app.config["REQUIRE_SITE"] = False
    assert make_ticket(people["alice"]).site is None


def test_before_any_site_exists_no_site_is_needed(people):
    assert make_ticket(people["alice"]).site is None


def test_subscribers_see_and_comment_on_public_tickets_of_their_site(people):
    web = make_site("Webshop", people["alice"], people["bob"])
    public = make_ticket(people["alice"], "Cart is empty", site=web)
    private = make_ticket(people["alice"], "My invoice", site=web, private=True)
    bob, carol = people["bob"], people["carol"]
    assert can_see(bob, public) and not can_see(bob, private) and not can_see(carol, public)
    view = listing.View.from_args({"tab": "all"}, bob, LINO)
    assert [t.id for t in listing.page(bob, LINO, view).tickets] == [public.id]
    assert services.comment(actor=bob, ticket=public, body="Same for me since Monday.")
    with pytest.raises(Forbidden):
        services.change_state(actor=bob, ticket=public, state="cancelled")


def test_the_report_form_offers_owners_only_their_sites(app, people):
    make_site("Webshop", people["alice"])
    make_site("Accounting")
    page = signed_in(app, "alice").get("/tickets/new").get_data(as_text=True)
    assert "Webshop" in page and "Accounting" not in page
    staff_page = signed_in(app, "sam").get("/tickets/new").get_data(as_text=True)
    assert "Webshop" in staff_page and "Accounting" in staff_page


def test_my_sites_hides_sleeping_and_closed_unless_asked(app, people):
    make_site("Webshop", people["alice"])
    make_site("Old shop", people["alice"], state="closed")
    client = signed_in(app, "alice")
    assert "Old shop" not in client.get("/sites/").get_data(as_text=True)
    assert "Old shop" in client.get("/sites/?all=1").get_data(as_text=True)
    assert client.get("/sites/all").status_code == 403
    assert "Old shop" in signed_in(app, "sam").get("/sites/all").get_data(as_text=True)


def test_subscribe_and_unsubscribe_by_htmx(app, people):
    web = make_site("Webshop")
    client = signed_in(app, "carol")
    token = csrf_token(client, "/")
    page = client.get(f"/sites/{web.id}").get_data(as_text=True)
    assert ">Subscribe</button>" in page
    response = client.post(f"/sites/{web.id}/subscribe", data={"csrf_token": token}, headers=HTMX)
    assert response.status_code == 200 and "Following" in response.get_data(as_text=True)
    assert db.session.query(Subscription).filter_by(user_id=people["carol"].id).count() == 1
    response = client.post(f"/sites/{web.id}/unsubscribe", data={"csrf_token": token})
    assert response.status_code == 303
    assert db.session.query(Subscription).filter_by(user_id=people["carol"].id).count() == 0


def test_site_page_lists_its_active_tickets_and_subscribers(app, people):
    web = make_site("Webshop", people["alice"], people["bob"])
    make_ticket(people["alice"], "Cart is empty", site=web)
    page = signed_in(app, "bob").get(f"/sites/{web.id}").get_data(as_text=True)
    assert "Cart is empty" in page and "@alice" in page and "@bob" in page


def test_site_page_shows_the_most_urgent_first_and_counts_as_the_lists(app, people, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    web = make_site("Webshop", people["alice"])
    for n in range(4):
        make_ticket(people["alice"], f"Routine task {n}", site=web)
    make_ticket(people["alice"], "Checkout is down", site=web, priority=40)
    page = signed_in(app, "sam").get(f"/sites/{web.id}").get_data(as_text=True)
    assert '<span class="count">3+</span>' in page  # 5 active tickets, counted to 4
    assert page.index("Checkout is down") < page.index("Routine task 3")
    assert page.index("Routine task 3") < page.index("Routine task 0")  # then newest first
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    page = signed_in(app, "sam").get(f"/sites/{web.id}").get_data(as_text=True)
    assert "Checkout is down" in page and "Routine task 3" in page
    assert "Routine task 2" not in page
    assert "Showing 2 of 3+." in page


def test_closed_sites_take_no_new_subscribers_and_stay_hidden(app, people):
    old = make_site("Old shop", state="closed")
    client = signed_in(app, "carol")
    assert client.get(f"/sites/{old.id}").status_code == 404
    token = csrf_token(client, "/")
    assert client.post(f"/sites/{old.id}/subscribe", data={"csrf_token": token}).status_code == 404
