"""The JSON API's door: personal tokens (made, shown once, stored hashed, revoked), bearer
authentication only, and problem documents for every error."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_user
from webapp import accounts, administration, api_tokens
from webapp.extensions import db
from webapp.models import ApiToken


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_token_acts_as_its_user(app, client):
    alice = make_user("alice", display_name="Alice")
    _, secret = api_tokens.create(user=alice, name="backup script")
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    assert response.json == {"id": alice.id, "username": "alice", "name": "Alice",
                             "email": "alice@example.com", "role": "owner",
                             "language": "en", "timezone": "UTC"}  # fmt: skip
    staff = make_user("sam", role="staff")
    _, secret = api_tokens.create(user=staff, name="triage bot")
    assert client.get("/api/v1/me", headers=bearer(secret)).json["role"] == "staff"


def test_only_the_tokens_digest_is_stored(app):
    alice = make_user("alice")
    token, secret = api_tokens.create(user=alice, name="ci")
    assert secret.startswith("tsr_") and len(secret) > 40
    stored = db.session.execute(sa.select(ApiToken.__table__)).one()._mapping
    assert secret not in {str(v) for v in stored.values()}
    assert stored["digest"] == api_tokens.digest(secret) and stored["prefix"] == secret[:10]


def test_missing_wrong_revoked_and_deactivated_tokens_get_a_401_problem(app, client):
    alice = make_user("alice")
    token, secret = api_tokens.create(user=alice, name="ci")
    for headers in (
        {},
        bearer("tsr_wrong"),
        {"Authorization": secret},
        {"Authorization": "Basic x"},
    ):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == 401 and "Bearer" in response.json["detail"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    api_tokens.revoke(user=alice, token_id=token.id)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    _, secret = api_tokens.create(user=alice, name="again")
    ada = make_user("ada", role="admin")
    administration.set_active(actor=ada, user=alice, active=False)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_a_session_cookie_does_not_authenticate_the_api(app, client):
    make_user("alice")
    AuthActions(client).login("alice")
    assert client.get("/").status_code == 200  # signed in for the pages
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_unknown_api_addresses_answer_with_problems(app, client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["title"] == "Not found"


def test_people_make_and_revoke_their_tokens_in_their_settings(app):
    make_user("alice")
    client = app.test_client()
    AuthActions(client).login("alice")
    token = csrf_token(client, "/account/tokens")
    response = client.post("/account/tokens", data={"name": "Home Assistant", "csrf_token": token})
    assert response.status_code == 201
    secret = re.search(r'<code id="new-token">([^<]+)</code>', response.text)[1]
    assert client.get("/api/v1/me", headers=bearer(secret)).json["username"] == "alice"
    listed = client.get("/account/tokens").text
    assert "Home Assistant" in listed and secret not in listed  # shown once only
    (made,) = api_tokens.tokens_of(accounts.find_user("alice"))
    response = client.post(f"/account/tokens/{made.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert "You have no API tokens." in client.get("/account/tokens").text
    bad = client.post("/account/tokens", data={"name": "", "csrf_token": token})
    assert bad.status_code == 422


def test_one_cannot_revoke_someone_elses_token(app):
    make_user("alice")
    bob = make_user("bob")
    token, secret = api_tokens.create(user=bob, name="bob's")
    client = app.test_client()
    AuthActions(client).login("alice")
    response = client.post(
        f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, "/")}
    )
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_the_cli_prints_a_new_token(app, runner):
    make_user("alice")
    result = runner.invoke(args=["create-token", "alice", "deploy script"])
    assert result.exit_code == 0
    secret = result.output.strip()
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).json["username"] == "alice"
    assert runner.invoke(args=["create-token", "nobody", "x"]).exit_code != 0
    assert "name" in runner.invoke(args=["create-token", "alice", " "]).output


def test_each_token_has_its_own_rate_limit(app, client):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    alice = make_user("alice")
    _, first = api_tokens.create(user=alice, name="busy script")
    _, second = api_tokens.create(user=alice, name="quiet script")
    answers = [client.get("/api/v1/me", headers=bearer(first)) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert "Retry-After" not in answers[0].headers
    response = client.get("/api/v1/me", headers=bearer(first))
    assert response.status_code == 429 and response.mimetype == "application/problem+json"
    assert response.json["title"] == "Too many requests"
    assert response.json["detail"].startswith("Too many requests in a short time.")
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
