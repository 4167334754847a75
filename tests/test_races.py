"""Races, with real threads on a real database (SQLite and PostgreSQL): 16 staff press
Take on the same ticket at once, 200 times, and two people edit the same ticket at once,
1,000 times. Nothing is taken twice and nothing is silently overwritten.

The requests go through the whole app in this process (session, CSRF, view, service,
template), each thread with its own database connection, so the races happen where they
would in production: between a request's read of the ticket and its write. The server
processes themselves are raced by the load test (tests/test_load.py)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions, Client, csrf_token
from tests.factories import make_ticket, make_user
from webapp import api_tokens, create_app
from webapp.extensions import db
from webapp.models import Change, Ticket

RACERS = 16
TAKE_ROUNDS = 200
EDIT_TRIES = 1_000
# The text fields two editors race on; each write gives a value never seen before.
EDITED = ("summary", "waiting_for", "ref", "end_user_name", "upgrade_notes")


@pytest.fixture
def race_app(database_url, tmp_path):
    """The app with a connection for each racer, and an API limit the editors never reach."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "ATTACHMENTS_DIR": str(tmp_path / "attachments"),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACERS + 2, "pool_pre_ping": True},
            "API_RATE_LIMIT": "1000000 per minute",
        }
    )
    app.test_client_class = Client
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def at_once(pool: ThreadPoolExecutor, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in the pool's threads, released together by a barrier."""
    start = threading.Barrier(len(calls), timeout=60)

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    return list(pool.map(run, calls, timeout=120))


def ticket_now(ticket_id: int, read: Callable[[Ticket], Any]) -> Any:
    """Read the ticket as it is now, then end the test's transaction: on SQLite it would
    otherwise hold the write lock the racers wait for."""
    db.session.expire_all()
    value = read(db.session.get(Ticket, ticket_id))
    db.session.rollback()
    return value


def test_sixteen_staff_take_the_same_ticket_and_one_wins_every_time(race_app):
    author = make_user("alice")
    ticket_ids = [make_ticket(author).id for _ in range(TAKE_ROUNDS)]
    racers = []
    for i in range(RACERS):
        make_user(f"staff{i}", role="staff", display_name=f"Staff {i}")
        client = race_app.test_client()
        AuthActions(client).login(f"staff{i}")
        racers.append((f"Staff {i}", client, csrf_token(client, "/")))

    def press_take(client, token: str, ticket_id: int) -> Callable[[], tuple[int, str]]:
        def press() -> tuple[int, str]:
            response = client.post(
                f"/tickets/{ticket_id}/take?as=row",
                data={"csrf_token": token},
                headers={"HX-Request": "true"},
            )
            return response.status_code, response.get_data(as_text=True)

        return press

    with ThreadPoolExecutor(RACERS) as pool:
        for ticket_id in ticket_ids:
            answers = at_once(pool, [press_take(c, t, ticket_id) for _, c, t in racers])
            statuses = [status for status, _ in answers]
            assert sorted(statuses) == [200] + [409] * (RACERS - 1), ticket_id
            winner = racers[statuses.index(200)][0]
            for status, html in answers:
                if status == 409:
                    assert f"{winner} has taken this ticket." in html
            assert ticket_now(ticket_id, lambda t: t.assignee.name) == winner

    takes = db.session.execute(
        sa.select(Change.ticket_id, sa.func.count())
        .where(Change.kind == "take")
        .group_by(Change.ticket_id)
    ).all()
    assert dict(takes) == dict.fromkeys(ticket_ids, 1)


def test_two_people_editing_the_same_ticket_never_overwrite_each_other(race_app):
    """Each editor saves some of the fields at the version both read: an edit lands, or
    it is a 409 naming exactly the fields the other changed first; the ticket always
    holds, field by field, the last value that was saved."""
    ticket = make_ticket(make_user("alice"))
    ticket_id = ticket.id
    editors = []
    for name in ("ann", "ben"):
        _, secret = api_tokens.create(user=make_user(name, role="staff"), name="race")
        editors.append({"Authorization": f"Bearer {secret}"})
    clients = [race_app.test_client() for _ in editors]
    expected = {name: getattr(ticket, name) for name in EDITED}
    choose = random.Random(10)
    saved = 0

    def save(client, headers, values: dict[str, Any]) -> Callable[[], tuple[int, Any]]:
        def send() -> tuple[int, Any]:
            response = client.patch(f"/api/v1/tickets/{ticket_id}", json=values, headers=headers)
            return response.status_code, response.json

        return send

    with ThreadPoolExecutor(2) as pool:
        for attempt in range(EDIT_TRIES):
            version = ticket_now(ticket_id, lambda t: t.version)
            wanted = [
                {f: f"{f} {attempt} by {who}" for f in choose.sample(EDITED, choose.randint(1, 3))}
                for who in ("ann", "ben")
            ]
            answers = at_once(
                pool,
                [
                    save(client, headers, {"version": version, **values})
                    for client, headers, values in zip(clients, editors, wanted, strict=True)
                ],
            )
            clash = set(wanted[0]) & set(wanted[1])
            statuses = sorted(status for status, _ in answers)
            assert statuses == ([200, 409] if clash else [200, 200]), (attempt, answers)
            for (status, body), values in zip(answers, wanted, strict=True):
                if status == 200:
                    expected.update(values)
                    saved += 1
                else:
                    assert set(body["errors"]) == clash, (attempt, body)
            now = ticket_now(ticket_id, lambda t: {name: getattr(t, name) for name in EDITED})
            assert now == expected, attempt

    edits = db.session.scalar(
        sa.select(sa.func.count()).select_from(Change).where(Change.kind == "edited")
    )
    assert edits == saved
