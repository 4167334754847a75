"""Rate limits are worked out only for the views that have one (webapp/rate_limits.py): a
request to any other view skips the limiter's hooks, while sign-in, the API and a view
given a limit after the app was made are limited as before."""

from __future__ import annotations

import pytest
from flask import request
from flask_limiter import Limiter

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_ticket, make_user
from webapp import api_tokens
from webapp.extensions import limiter


@pytest.fixture
def worked_out(monkeypatch) -> list[str]:
    """The endpoints of the requests the limiter checked: it asks every checked request's
    exemptions, and works out the limits of those it does not filter out."""
    endpoints = []
    manager = limiter.limit_manager
    for name in ("resolve_limits", "exemption_scope"):
        asked = getattr(manager, name)

        def noted(app, endpoint, *args, asked=asked, **kwargs):
            endpoints.append(endpoint)
            return asked(app, endpoint, *args, **kwargs)

        monkeypatch.setattr(manager, name, noted)
    return endpoints


def test_only_the_views_with_a_limit_have_their_limits_worked_out(app, worked_out):
    alice = make_user("alice")
    make_user("sam", role="staff")
    ticket = make_ticket(alice)
    client = app.test_client()
    AuthActions(client).login("sam")
    assert set(worked_out) == {"auth.login"}  # the sign-in itself
    worked_out.clear()
    token = csrf_token(client, f"/tickets/{ticket.id}")
    taken = client.post(f"/tickets/{ticket.id}/take", data={"csrf_token": token})
    assert taken.status_code == 303
    assert client.get("/tickets/").status_code == 200
    assert worked_out == []
    _, secret = api_tokens.create(user=alice, name="script")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json
    assert set(worked_out) == {"api.me"}


def test_a_view_given_a_limit_after_the_app_was_made_is_limited(fresh_app):
    @fresh_app.get("/late")
    @limiter.limit("2 per minute")
    def late():
        return "late"

    client = fresh_app.test_client()
    assert [client.get("/late").status_code for _ in range(3)] == [200, 200, 429]


def test_a_view_without_a_limit_never_touches_the_limiters_state(app, monkeypatch):
    """Not before the request, nor after it (the headers), nor at its end."""
    touched = []
    state = Limiter.context

    def noted(self):
        touched.append(request.endpoint)
        return state.fget(self)

    monkeypatch.setattr(Limiter, "context", property(noted))
    make_user("sam", role="staff")
    ticket = make_ticket(make_user("alice"))
    client = app.test_client()
    AuthActions(client).login("sam")
    assert "auth.login" in touched
    touched.clear()
    token = csrf_token(client, f"/tickets/{ticket.id}")
    assert client.post(f"/tickets/{ticket.id}/take", data={"csrf_token": token}).status_code == 303
    assert client.get("/tickets/").status_code == 200
    assert touched == []
