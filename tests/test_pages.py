from __future__ import annotations

import re
from collections import Counter

import sqlalchemy as sa

from tests.factories import make_site, make_ticket, make_user
from webapp import create_app, dashboard, listing
from webapp.exceptions import Conflict
from webapp.extensions import db
from webapp.models import Group


def test_owner_home_lists_only_their_own_tickets(client, auth):
    alice, bob = make_user("alice"), make_user("bob")
    make_ticket(alice, "Alice's printer is on fire")
    make_ticket(bob, "Bob cannot log in")
    auth.login("alice")
    page = client.get("/").get_data(as_text=True)
    assert "Alice&#39;s printer is on fire" in page
    assert "Bob cannot log in" not in page
    assert "To triage" not in page
    assert "role-owner" in page


def test_ticket_rows_follow_the_row_contract(client, auth):
    alice = make_user("alice")
    ticket = make_ticket(alice)
    auth.login("alice")
    assert f'<tr id="ticket-{ticket.id}" class="ticket-row"' in client.get("/").get_data(
        as_text=True
    )


def test_staff_home_shows_triage_and_their_work(client, auth):
    alice = make_user("alice")
    make_user("sam", role="staff")
    make_ticket(alice, "Bob cannot log in")
    auth.login("sam")
    page = client.get("/").get_data(as_text=True)
    assert 'id="triage"' in page and "Bob cannot log in" in page
    assert "Assigned to you" in page
    assert 'href="/#team"' not in page


def test_home_panels_count_up_to_the_lists_cap(client, auth, monkeypatch):
    """A panel counts as far as a list's tab does: "3+" past the cap, exact below it."""
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    monkeypatch.setattr(dashboard, "PANEL_ROWS", 2)
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    for n in range(5):
        make_ticket(alice, f"Printer {n}")
    for n in range(2):
        make_ticket(sam, f"Sam's own {n}")
    auth.login("sam")
    page = client.get("/").get_data(as_text=True)

    def panel(key):
        start = page.index(f'id="{key}"')
        return page[start : page.index("</section>", start)]

    assert '<span class="count">3+</span>' in panel("triage")  # 7 new tickets
    assert "Showing 2 of 3+." in panel("triage")
    assert '<span class="count">2</span>' in panel("mine")
    assert "Showing" not in panel("mine")


def test_admin_home_shows_the_team(client, auth):
    make_user("ada", role="admin", display_name="Ada Admin")
    make_user("sam", role="staff", display_name="Sam Staff")
    make_user("alice")
    auth.login("ada")
    page = client.get("/").get_data(as_text=True)
    team = page[page.index('id="team"') :]
    assert "Ada Admin" in team and "Sam Staff" in team and "Alice" not in team


def test_error_page_is_a_whole_page_for_browsers_and_a_fragment_for_htmx(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "<html" in page.get_data(as_text=True)
    fragment = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert fragment.status_code == 404
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'role="alert"' in fragment.get_data(as_text=True)
    assert fragment.headers["HX-Retarget"] == "#alerts"
    assert "HX-Request" in fragment.headers["Vary"]


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_does_not(tmp_path):
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3", "SECRET_KEY": "x"}
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_every_page_loads_htmx_from_our_own_static_folder(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<script src="/static/vendor/htmx-2.0.11.min.js"' in page
    for asset in ("/static/vendor/htmx-2.0.11.min.js", "/static/app.css"):
        with client.get(asset) as response:
            assert response.status_code == 200


def test_unexpected_errors_get_a_calm_500_page(fresh_app):
    def broken():
        raise RuntimeError("boom")

    fresh_app.add_url_rule("/broken", view_func=broken)
    fresh_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = fresh_app.test_client().get("/broken")
    assert response.status_code == 500
    assert "Nothing you saved is lost" in response.get_data(as_text=True)


def test_a_write_the_database_refuses_as_a_duplicate_is_a_409(fresh_app):
    """Two people saved the same thing at once and the database let one in: the other
    gets a 409 that says to reload, not a 500; nothing of theirs is half saved."""

    def duplicate():
        db.session.add_all([Group(name="twins"), Group(name="twins")])
        db.session.commit()

    fresh_app.add_url_rule("/duplicate", view_func=duplicate)
    fresh_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = fresh_app.test_client().get("/duplicate")
    assert response.status_code == 409
    assert "Someone else saved the same at the same moment" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).where(Group.name == "twins")) == 0


def test_domain_errors_become_their_status_with_the_message(fresh_app):
    def stale():
        raise Conflict("Sam changed this ticket a minute ago.")

    fresh_app.add_url_rule("/stale", view_func=stale)
    response = fresh_app.test_client().get("/stale")
    assert response.status_code == 409
    assert "Sam changed this ticket a minute ago." in response.get_data(as_text=True)


def test_pages_with_several_forms_name_each_element_id_once(client, auth):
    """The admin's site and user pages hold two forms each, and the ticket page several:
    each id is written once (it used to be "csrf_token" twice)."""
    make_user("ada", role="admin")
    bob = make_user("bob")
    ticket = make_ticket(bob)
    site = make_site("Harbour", bob)
    auth.login("ada")
    for path in (f"/admin/sites/{site.id}", f"/admin/users/{bob.id}", f"/tickets/{ticket.id}"):
        page = client.get(path).get_data(as_text=True)
        assert 'name="csrf_token"' in page
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert [i for i, n in Counter(ids).items() if n > 1] == [], path
