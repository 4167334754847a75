from __future__ import annotations

import pytest

from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, make_user
from webapp import accounts
from webapp.extensions import db


def test_sign_in_with_username_lands_on_home(client, auth):
    make_user("alice", display_name="Alice Meyer")
    response = auth.login("alice")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "Hello, Alice Meyer" in client.get("/").get_data(as_text=True)


def test_sign_in_with_email_in_any_case(client, auth):
    make_user("alice", email="alice@example.com")
    assert auth.login("Alice@Example.COM").status_code == 303
    assert client.get("/").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_401(auth):
    make_user("alice")
    wrong = auth.login("alice", "not-the-password")
    unknown = auth.login("nobody", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong username or password." in response.get_data(as_text=True)


def test_missing_csrf_token_is_a_clear_400(client):
    make_user("alice")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "missing its security token" in response.get_data(as_text=True)


def test_ten_thousand_character_username_is_refused_with_a_message(auth):
    response = auth.login("a" * 10_000)
    assert response.status_code == 422
    assert "Field cannot be longer than 254 characters." in response.get_data(as_text=True)


def test_nul_byte_in_a_field_is_refused_with_a_message(auth):
    response = auth.login("ali\x00ce")
    assert response.status_code == 422
    assert "contains a NUL character" in response.get_data(as_text=True)


def test_empty_form_names_the_missing_fields(client):
    response = client.post("/login", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("This field is required.") == 2


def test_inactive_user_cannot_sign_in(auth):
    make_user("gone", active=False)
    assert auth.login("gone").status_code == 401


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/account/password", "/account/password"),
        ("https://evil.example/steal", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_only_local_next_is_followed(client, next_url, expected):
    make_user("alice")
    response = client.post(
        "/login",
        query_string={"next": next_url},
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.headers["Location"] == expected


def test_pages_need_sign_in_and_come_back_after(client, auth):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_is_a_post_and_ends_the_session(client, auth):
    make_user("alice")
    auth.login("alice")
    assert client.get("/logout").status_code == 405
    assert auth.logout().status_code == 303
    assert client.get("/").status_code == 302


def register(client, **fields):
    data = {
        "username": "Carol",
        "email": "carol@example.com",
        "display_name": "Carol King",
        "password": "long-enough",
        "confirm": "long-enough",
        **fields,
    }
    return client.post("/register", data={**data, "csrf_token": csrf_token(client, "/register")})


def test_register_creates_an_owner_and_signs_in(client):
    assert register(client).status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Carol King" in page
    assert "role-owner" in page


def test_register_refuses_a_bad_email(client):
    response = register(client, email="not-an-address")
    assert response.status_code == 422
    assert "Invalid email address." in response.get_data(as_text=True)


def test_register_refuses_a_taken_username_in_any_case(client):
    make_user("carol")
    response = register(client, username="CAROL", email="other@example.com")
    assert response.status_code == 422
    assert "This username is taken." in response.get_data(as_text=True)


def test_register_refuses_different_passwords(client):
    response = register(client, confirm="something-else")
    assert response.status_code == 422
    assert "The passwords differ." in response.get_data(as_text=True)


def test_registration_can_be_turned_off(app, client):
    app.config["REGISTRATION_ENABLED"] = False
    response = client.get("/register")
    assert response.status_code == 403
    assert "Registration is turned off" in response.get_data(as_text=True)
    assert 'href="/register"' not in client.get("/login").get_data(as_text=True)


def change_password(client, current: str = PASSWORD, new: str = "a-new-password"):
    token = csrf_token(client, "/account/password")
    data = {"current": current, "new": new, "confirm": new, "csrf_token": token}
    return client.post("/account/password", data=data)


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, auth):
    user = make_user("alice")
    other = app.test_client()
    AuthActions(other).login("alice")
    auth.login("alice")
    response = change_password(client)
    assert response.status_code == 303
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    db.session.refresh(user)
    assert user.check_password("a-new-password")


def test_password_change_needs_the_current_password(client, auth):
    make_user("alice")
    auth.login("alice")
    response = change_password(client, current="wrong")
    assert response.status_code == 422
    assert "Not correct." in response.get_data(as_text=True)


def test_copied_cookie_stops_working_after_password_change(app, client, auth):
    make_user("alice")
    auth.login("alice")
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    assert thief.get("/").status_code == 200
    change_password(client)
    assert thief.get("/").status_code == 302


def test_two_registrations_of_one_name_at_once_give_one_account_and_a_form_message(app, client):
    """The second registration's check ran before the first one's account was saved (a
    race the database decides): the form says the name is taken, as the check would."""
    import sqlalchemy as sa

    from webapp.models import User

    raced = []

    def first_one_lands_meanwhile(conn, cursor, statement, parameters, context, many):
        if statement.startswith("SELECT users.id") and "carol" in str(parameters) and not raced:
            raced.append(True)
            with app.app_context():  # another request: its own session and transaction
                accounts.create_user(
                    username="carol", email="first@example.com", password="long-enough-pass"
                )

    sa.event.listen(db.engine, "after_cursor_execute", first_one_lands_meanwhile)
    try:
        response = register(client)
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", first_one_lands_meanwhile)
    assert raced
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This username is taken." in page
    assert 'value="Carol King"' in page  # what was typed is still there
    assert db.session.scalars(sa.select(User.email).where(User.username == "carol")).all() == [
        "first@example.com"
    ]
