"""The admin area: each admin action, its effect, and its line in the admin record."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, make_site, make_ticket, make_user
from webapp import accounts
from webapp.extensions import db
from webapp.models import AdminAction, Change, Site, Subscription, Ticket, TicketType, User

HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin(app):
    make_user("ada", role="admin", display_name="Ada Admin")
    client = app.test_client()
    AuthActions(client).login("ada")
    return client


def post(client, url: str, data: dict | None = None, headers=None):
    return client.post(url, data={"csrf_token": csrf_token(client, "/"), **(data or {})},
                       headers=headers or {})  # fmt: skip


def record() -> list[tuple[str, str]]:
    return [(a.action, a.target) for a in db.session.scalars(sa.select(AdminAction))]


def user(username: str) -> User:
    db.session.expire_all()
    return accounts.find_user(username)


def test_only_admins_enter(app):
    make_user("sam", role="staff")
    client = app.test_client()
    assert client.get("/admin/").status_code == 302
    AuthActions(client).login("sam")
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/users").status_code == 403


def test_create_a_person_who_can_sign_in(app, admin):
    response = post(admin, "/admin/users", {"username": "carol", "email": "carol@example.com",
                                            "display_name": "Carol", "language": "de",
                                            "password": "long-enough"})  # fmt: skip
    assert response.status_code == 303
    assert user("carol").language == "de"
    assert AuthActions(app.test_client()).login("carol", "long-enough").status_code == 303
    assert ("create user", f"user:{user('carol').id}") in record()


def test_find_and_edit_a_person(admin):
    bob = make_user("bob", display_name="Bob")
    assert "bob@example.com" in admin.get("/admin/users?q=bo").get_data(as_text=True)
    response = post(
        admin,
        f"/admin/users/{bob.id}",
        {"display_name": "Bob Jansen", "email": "bob@jansen.example", "language": "en"},
    )
    assert response.status_code == 303
    assert (user("bob").display_name, user("bob").email) == ("Bob Jansen", "bob@jansen.example")
    clash = post(
        admin,
        f"/admin/users/{bob.id}",
        {"display_name": "Bob", "email": "ada@example.com", "language": "en"},
    )
    assert clash.status_code == 422


def test_deactivated_person_cannot_sign_in_and_keeps_tickets(app, admin):
    bob = make_user("bob")
    ticket = make_ticket(bob)
    bobs_client = app.test_client()
    AuthActions(bobs_client).login("bob")
    assert post(admin, f"/admin/users/{bob.id}/active", {"active": "no"}).status_code == 303
    assert bobs_client.get("/").status_code == 302  # the open session has ended
    assert AuthActions(app.test_client()).login("bob").status_code == 401
    assert db.session.get(Ticket, ticket.id).author_id == bob.id
    post(admin, f"/admin/users/{bob.id}/active", {"active": "yes"})
    assert AuthActions(app.test_client()).login("bob").status_code == 303
    assert [a for a, _ in record()] == ["deactivate user", "reactivate user"]


def test_admins_cannot_deactivate_themselves(admin):
    ada = user("ada")
    assert post(admin, f"/admin/users/{ada.id}/active", {"active": "no"}).status_code == 409
    assert user("ada").active


def test_reset_a_password(app, admin):
    bob = make_user("bob")
    assert (
        post(admin, f"/admin/users/{bob.id}/password", {"password": "brand-new-pw"}).status_code
        == 303
    )
    assert AuthActions(app.test_client()).login("bob", "brand-new-pw").status_code == 303
    assert AuthActions(app.test_client()).login("bob", PASSWORD).status_code == 401
    assert post(admin, f"/admin/users/{bob.id}/password", {"password": "short"}).status_code == 422


def test_make_someone_staff_and_back_in_place(admin, app):
    bob = make_user("bob")
    staff = accounts.role_group(app.config["STAFF_GROUP"])
    response = post(admin, f"/admin/groups/{staff.id}/members", {"user": "bob"}, HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith(f'<div id="members-{staff.id}"')
    assert "@bob" in html and user("bob").is_staff
    response = post(admin, f"/admin/groups/{staff.id}/members/{bob.id}/remove", headers=HTMX)
    assert "@bob" not in response.get_data(as_text=True) and not user("bob").is_staff
    unknown = post(admin, f"/admin/groups/{staff.id}/members", {"user": "nobody"}, HTMX)
    assert unknown.status_code == 422 and "There is no user" in unknown.get_data(as_text=True)


def test_the_last_admin_cannot_remove_themselves(admin, app):
    ada = user("ada")
    admins = accounts.role_group(app.config["ADMIN_GROUP"])
    response = post(admin, f"/admin/groups/{admins.id}/members/{ada.id}/remove", headers=HTMX)
    assert response.status_code == 409
    assert "last admin" in response.get_data(as_text=True)
    assert user("ada").is_admin


def test_create_and_edit_a_site_and_its_subscribers(admin):
    alice = make_user("alice")
    assert post(admin, "/admin/sites", {"name": "Webshop", "state": "active",
                                        "description": "The shop"}).status_code == 303  # fmt: skip
    site = db.session.scalar(sa.select(Site))
    post(admin, f"/admin/sites/{site.id}/subscribers", {"user": "alice"})
    assert db.session.query(Subscription).filter_by(user_id=alice.id).count() == 1
    post(admin, f"/admin/sites/{site.id}", {"name": "Web shop", "state": "sleeping",
                                            "description": ""})  # fmt: skip
    db.session.expire_all()
    assert (site.name, site.state) == ("Web shop", "sleeping")
    post(admin, f"/admin/sites/{site.id}/subscribers/{alice.id}/remove")
    assert db.session.query(Subscription).filter_by(user_id=alice.id).count() == 0
    assert post(admin, "/admin/sites", {"name": "Web shop", "state": "active"}).status_code == 422
    assert [a for a, _ in record()] == ["create site", "subscribe", "edit site", "unsubscribe"]


def test_manage_ticket_types(admin):
    post(admin, "/admin/types", {"name": "Error", "reporting_type": "regular", "active": "y"})
    kind = db.session.scalar(sa.select(TicketType))
    assert "Error" in admin.get("/tickets/new").get_data(as_text=True)  # the form's choices kept
    post(admin, f"/admin/types/{kind.id}", {"name": "Bug", "reporting_type": "free"})
    db.session.expire_all()
    assert (kind.name, kind.reporting_type, kind.active) == ("Bug", "free", False)
    assert "Bug" not in admin.get("/tickets/new").get_data(as_text=True)  # inactive: not offered


def test_states_table_shows_the_workflow(admin):
    page = admin.get("/admin/states").get_data(as_text=True)
    assert "Refused" in page and "<code>cancelled</code>" in page


def test_delete_a_ticket_after_confirmation(app, admin):
    alice = make_user("alice")
    site = make_site("Webshop", alice)
    ticket = make_ticket(alice, "Delete me please", site=site)
    assert "Delete the ticket" in admin.get(f"/tickets/{ticket.id}/delete").get_data(as_text=True)
    assert post(admin, f"/tickets/{ticket.id}/delete").status_code == 303
    owner = app.test_client()
    AuthActions(owner).login("alice")
    assert owner.get(f"/tickets/{ticket.id}").status_code == 404
    assert admin.get(f"/tickets/{ticket.id}").status_code == 404
    assert "Delete me please" not in admin.get("/tickets/?tab=all").get_data(as_text=True)
    last = db.session.scalars(sa.select(Change).order_by(Change.id.desc())).first()
    assert (last.kind, last.actor.username) == ("deleted", "ada")
    assert ("delete ticket", f"ticket:{ticket.id}") in record()
    staff = app.test_client()
    make_user("sam", role="staff")
    AuthActions(staff).login("sam")
    other = make_ticket(alice, "Keep me", site=site)
    assert staff.get(f"/tickets/{other.id}/delete").status_code == 403


def test_the_admin_record_lists_what_was_done(admin):
    make_user("bob")
    post(admin, "/admin/sites", {"name": "Webshop", "state": "active"})
    page = admin.get("/admin/log").get_data(as_text=True)
    assert "create site" in page and "Ada Admin" in page


def test_an_admin_action_and_its_record_are_saved_together(app, monkeypatch):
    """When the record cannot be written, the action is not saved either."""
    from webapp import administration

    ada, bob = make_user("ada", role="admin"), make_user("bob")
    staff = accounts.role_group(app.config["STAFF_GROUP"])

    def unwritable(**fields):  # a record the database refuses: it names no target
        return AdminAction(**{**fields, "target": None})

    monkeypatch.setattr(administration, "AdminAction", unwritable)
    with pytest.raises(sa.exc.IntegrityError):
        administration.add_member(actor=ada, user=bob, group=staff)
    db.session.rollback()
    assert not user("bob").is_staff
    with pytest.raises(sa.exc.IntegrityError):
        administration.create_user(actor=ada, username="cleo", email="cleo@example.com",
                                   password=PASSWORD)  # fmt: skip
    db.session.rollback()
    assert user("cleo") is None
