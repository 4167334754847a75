"""Sign-ins as server-side records (models.UserSession): signing out, a password change and
deactivation end them, also for a copied session or remember-me cookie; each request finds
the user, their groups and the sign-in in one query."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, make_ticket, make_user
from tests.test_views_lists import counting_queries
from webapp import accounts, administration, services, worker
from webapp.auth.views import load_user
from webapp.extensions import db
from webapp.models import User, UserSession, clock_at, user_groups, utcnow


def signed_in(app, username: str = "alice", **extra):
    client = app.test_client()
    assert AuthActions(client).login(username, **extra).status_code == 303
    return client


def copy_of(app, client, *names: str):
    """Another browser with the same cookies (as a thief who copied them would have)."""
    thief = app.test_client()
    for name in names:
        thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def is_signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def sessions_of(user) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(UserSession.user_id == user.id))


def test_signing_out_ends_a_copied_session_cookie(app):
    alice = make_user("alice")
    client = signed_in(app)
    thief = copy_of(app, client, "session")
    assert is_signed_in(thief)
    assert AuthActions(client).logout().status_code == 303
    assert not is_signed_in(client) and not is_signed_in(thief)
    assert sessions_of(alice) == 0


def test_signing_out_ends_a_copied_remember_me_cookie(app):
    make_user("alice")
    client = signed_in(app, remember="y")
    thief = copy_of(app, client, "remember_token")  # the browser was closed: no session
    assert is_signed_in(thief), "the remember-me cookie alone signs in"
    AuthActions(client).logout()
    assert not is_signed_in(thief)


def test_signing_out_ends_only_that_sign_in(app):
    alice = make_user("alice")
    laptop, phone = signed_in(app), signed_in(app)
    assert sessions_of(alice) == 2
    AuthActions(laptop).logout()
    assert is_signed_in(phone) and not is_signed_in(laptop)


def test_password_change_ends_every_other_sign_in_and_its_copies(app):
    alice = make_user("alice")
    client, phone = signed_in(app, remember="y"), signed_in(app)
    copies = [copy_of(app, client, "session"), copy_of(app, client, "remember_token")]
    token = csrf_token(client, "/account/password")
    new = "a-new-password"
    response = client.post("/account/password",
                           data={"current": PASSWORD, "new": new, "confirm": new,
                                 "csrf_token": token})  # fmt: skip
    assert response.status_code == 303
    assert is_signed_in(client)
    assert not is_signed_in(phone) and not any(is_signed_in(c) for c in copies)
    assert sessions_of(alice) == 1
    # This browser is still remembered: its new remember-me cookie works on its own.
    assert is_signed_in(copy_of(app, client, "remember_token"))


def test_an_admin_password_reset_and_deactivation_end_every_sign_in(app):
    ada = make_user("ada", role="admin")
    alice, bob = make_user("alice"), make_user("bob")
    alices, bobs = signed_in(app, "alice"), signed_in(app, "bob")
    accounts.set_password(user=alice, password="reset-by-admin")
    administration.set_active(actor=ada, user=bob, active=False)
    assert not is_signed_in(alices) and not is_signed_in(bobs)
    assert sessions_of(alice) == sessions_of(bob) == 0


def test_the_database_keeps_only_a_digest_of_the_cookies_secret(app):
    make_user("alice")
    client = signed_in(app)
    with app.test_request_context():
        secret = (
            app.session_interface.get_signing_serializer(app)
            .loads(client.get_cookie("session").value)["_user_id"]
            .partition(":")[2]
        )
    stored = db.session.scalar(sa.select(UserSession.id))
    assert len(secret) >= 40 and stored == UserSession.digest(secret) and secret not in stored


def started(user, at=None) -> str:
    """A sign-in of the user's (at some time), as signing in makes; returns the cookie's
    value."""
    if at is None:
        accounts.start_session(user)
    else:
        with clock_at(at):
            accounts.start_session(user)
    cookie = user.get_id()
    db.session.commit()  # the test's own transaction ends, as another process's would
    return cookie


def test_a_session_is_found_with_its_user_and_groups_in_one_query(app):
    cookie = started(make_user("alice", role="staff"))
    bad = cookie.rpartition(":")[0] + ":not-the-secret"
    with counting_queries() as statements, app.app_context(), app.test_request_context():
        found = load_user(cookie)
        assert found.username == "alice" and found.is_staff and found.get_id() == cookie
        assert load_user(bad) is None
    assert len(statements) == 2, statements  # one each


def test_last_seen_is_brought_up_to_date_at_most_once_an_hour(app):
    cookie = started(make_user("alice"), at=utcnow() - timedelta(hours=2))
    for expected in (2, 1, 1):  # the lookup and, at the end, the update; then the lookup
        with counting_queries() as statements, app.app_context(), app.test_request_context():
            assert load_user(cookie) is not None
        assert len(statements) == expected, statements
    seen = db.session.scalar(sa.select(UserSession.last_seen))
    assert utcnow() - seen < timedelta(minutes=1)


def test_a_post_by_a_long_idle_sign_in_works_on_sqlite_too(app):
    """The write lock a POST's own writes take (SQLite) does not keep the touch waiting."""
    alice = make_user("alice")
    client = signed_in(app)
    db.session.execute(sa.update(UserSession).values(last_seen=utcnow() - timedelta(hours=3)))
    db.session.commit()
    response = client.post(
        "/account/tokens", data={"name": "ci", "csrf_token": csrf_token(client, "/account")}
    )
    assert response.status_code == 201
    seen = db.session.scalar(
        sa.select(UserSession.last_seen).where(UserSession.user_id == alice.id)
    )
    assert utcnow() - seen < timedelta(minutes=1)


def test_a_sign_in_unused_for_the_lifetime_ends_and_the_worker_deletes_it(app):
    app.config["SESSION_LIFETIME_DAYS"] = 30
    alice = make_user("alice")
    old = started(alice, at=utcnow() - timedelta(days=31))
    recent = started(alice, at=utcnow() - timedelta(days=29))
    with app.test_request_context():
        assert load_user(old) is None
        assert load_user(recent) is not None
    assert worker.run_once()["expired sign-ins deleted"] == 1
    assert sessions_of(alice) == 1


def test_a_cookie_naming_another_users_sign_in_leads_nowhere(app):
    alices = started(make_user("alice"))
    bob = make_user("bob")
    with app.test_request_context():
        assert load_user(f"{bob.id}:{alices.partition(':')[2]}") is None
        assert load_user(alices.partition(":")[0] + ":") is None and load_user("x:y") is None
        assert load_user(alices + "x" * 10_000) is None


def test_signing_in_twice_makes_two_sign_ins_and_forgets_the_session_before(app):
    alice = make_user("alice")
    client = app.test_client()
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    AuthActions(client).login("alice")
    with client.session_transaction() as after:
        assert "planted" not in after
    signed_in(app)
    assert sessions_of(alice) == 2


def header_of(client) -> str:
    page = client.get("/account").get_data(as_text=True)
    return page.split('<span class="who">', 1)[1].split("</span></span>", 1)[0]


def test_a_change_to_a_signed_in_person_shows_on_their_next_request(app):
    """The worker keeps the signed-in person's object between requests
    (webapp/signed_in_users.py), but only while it holds what the database does: another
    server renames them and takes them out of the staff, and their next page shows both."""
    sam = make_user("sam", role="staff", display_name="Sam Staff")
    client = signed_in(app, "sam")
    assert header_of(client) == header_of(client) == 'Sam Staff <span class="role role-staff">staff'
    with db.engine.begin() as elsewhere:
        users = User.__table__
        elsewhere.execute(
            sa.update(users).where(users.c.id == sam.id).values(display_name="Sam S.")
        )
    assert header_of(client) == 'Sam S. <span class="role role-staff">staff'
    with db.engine.begin() as elsewhere:
        elsewhere.execute(sa.delete(user_groups).where(user_groups.c.user_id == sam.id))
    assert header_of(client) == 'Sam S. <span class="role role-owner">owner'


def test_what_a_request_did_to_the_signed_in_person_and_did_not_commit_is_gone_after(app):
    """A request that changed its user's object, wrote it and ended without committing
    leaves the kept object holding what the database does not: the next request makes it anew."""
    cookie = started(make_user("alice", display_name="Alice"))
    with app.app_context(), app.test_request_context():
        alice = load_user(cookie)
        alice.display_name, alice.language = "Mallory", "de"
        db.session.flush()
    with app.app_context(), app.test_request_context():
        again = load_user(cookie)
        assert (again.display_name, again.language) == ("Alice", "en")
        assert again in db.session


def test_a_sign_in_read_after_its_user_was_loaded_gives_the_object_loaded(app):
    """A request that loaded its user (or their groups) before the sign-in was read gets
    that object, not a second one of the same row."""
    cookie = started(make_user("alice", role="staff"))
    with app.app_context(), app.test_request_context():
        load_user(cookie)  # the worker keeps alice's object
    with app.app_context(), app.test_request_context():
        loaded = db.session.scalars(sa.select(User).where(User.username == "alice")).one()
        assert load_user(cookie) is loaded and loaded.is_staff


def test_acting_on_ones_own_ticket_the_sign_in_and_the_assignee_are_one_object(app, monkeypatch):
    """The sign-in's statement reads the ticket of an action on the ticket's page with its
    assignee: for one's own ticket, the same person. The session's object of that row
    becomes the signed-in user, with their groups, and is not merged with the kept one (a
    copy of every value). (A list row's action reads the ticket alone: rows.py.)"""
    sam = make_user("sam", role="staff")
    ticket = make_ticket(make_user("alice"))
    services.take(actor=sam, ticket=ticket)
    client = signed_in(app, "sam")
    token = csrf_token(client, f"/tickets/{ticket.id}")
    merged = []
    merge = sa.orm.Session.merge
    monkeypatch.setattr(
        sa.orm.Session, "merge", lambda self, *a, **kw: merged.append(a) or merge(self, *a, **kw)
    )
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    for state in ("working", "opened", "working"):
        moved = client.post(f"/tickets/{ticket.id}/state", data={"state": state},
                            headers=headers)  # fmt: skip
        assert moved.status_code == 200
        header = moved.get_data(as_text=True)
        assert 'aria-label="Assign to"' in header  # for staff: their groups came with them
    assert merged == []
    assert db.session.get(type(ticket), ticket.id).state == "working"


def test_two_threads_serving_one_person_at_once_each_keep_their_own_object(app):
    """A worker with threads serves one person's requests side by side: each thread keeps
    an object of its own, so what one request does to its user (here, a name changed and
    not saved) is never what the other request sees, and a thread's next request still
    gets the object that thread kept."""
    cookie = started(make_user("alice", display_name="Alice"))
    both = threading.Barrier(2, timeout=30)
    seen: dict[str, list[tuple[int, str]]] = {"renames": [], "reads": []}

    def serve(role: str) -> None:
        for _ in range(2):
            with app.app_context(), app.test_request_context():
                user = load_user(cookie)
                both.wait()  # both requests hold their user
                if role == "renames":
                    user.display_name = "Mallory"
                both.wait()
                seen[role].append((id(user), user.display_name))
                both.wait()
                db.session.remove()

    threads = [threading.Thread(target=serve, args=(role,)) for role in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen["reads"][0][1] == seen["reads"][1][1] == "Alice"
    assert seen["reads"][0][0] == seen["reads"][1][0]  # the reading thread's kept object
    assert {i for i, _ in seen["reads"]}.isdisjoint(i for i, _ in seen["renames"])
