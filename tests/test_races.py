"""Races, with real threads on a real database (SQLite and PostgreSQL): 16 staff press
Take on the same ticket at once, 100 times; two people save the same ticket at once,
400 times; 16 people comment on one ticket at once, through the services and from one
page. Nothing is taken twice, nothing is silently overwritten, no comment is refused,
and no page is told of a comment twice.

Each racer is a thread with its own app context, so its own database session and
connection: the races happen where they would in production, between a request's read
of the ticket and its write. The many rounds go through the services, the one door every
write passes (a view, the API and the CLI only call them), with the ticket loaded first
as a view loads it; a few rounds go through the whole HTTP stack too (session, CSRF,
view, template), to show what the losers see. The server processes themselves race in
tests/test_load.py."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions, Client, csrf_token
from tests.factories import make_ticket, make_user
from webapp import api_tokens, create_app, services
from webapp.exceptions import DomainError
from webapp.extensions import db
from webapp.models import Change, Comment, Ticket, User

RACERS = 16
# The text fields two editors race on; each save gives them values never seen before.
EDITED = ("summary", "waiting_for", "ref", "end_user_name", "upgrade_notes")

Answer = tuple[int, Any]  # an HTTP status, and what came with it


@pytest.fixture
def race_app(database_url, tmp_path):
    """The app with a connection for each racer, and an API limit the editors never reach."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "ATTACHMENTS_DIR": str(tmp_path / "attachments"),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACERS + 2},
            "API_RATE_LIMIT": "1000000 per minute",
        }
    )
    app.test_client_class = Client
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def at_once(pool: ThreadPoolExecutor, calls: list[Callable[[], Answer]]) -> list[Answer]:
    """Run the calls in the pool's threads, released together by a barrier."""
    start = threading.Barrier(len(calls), timeout=60)

    def run(call: Callable[[], Answer]) -> Answer:
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


def through_services(app, user_id: int, ticket_id: int, action: Callable[..., Any]) -> Answer:
    """Run a service as a request would: in an app context (a session) of its own, on the
    ticket loaded first; a refusal answers with the status its view would give."""
    with app.app_context():
        try:
            action(db.session.get(User, user_id), db.session.get(Ticket, ticket_id))
        except DomainError as e:
            return e.status, e
        finally:
            db.session.remove()
        return 200, None


@pytest.mark.parametrize(
    "door, rounds", [pytest.param("services", 100, marks=pytest.mark.slow), ("pages", 8)]
)
def test_sixteen_staff_take_the_same_ticket_and_one_wins_every_time(race_app, door, rounds):
    author = make_user("alice")
    ticket_ids = [make_ticket(author).id for _ in range(rounds)]
    staff = [make_user(f"staff{i}", role="staff", display_name=f"Staff {i}") for i in range(RACERS)]
    names, user_ids = [u.name for u in staff], [u.id for u in staff]

    def take(user_id: int) -> Answer:  # on the round's ticket_id (the loop below)
        return through_services(
            race_app, user_id, ticket_id, lambda u, t: services.take(actor=u, ticket=t)
        )

    presses = [lambda uid=uid: take(uid) for uid in user_ids]
    if door == "pages":
        presses = [press_take_button(race_app, u.username, lambda: ticket_id) for u in staff]
    db.session.commit()  # the test's transaction would hold SQLite's write lock

    with ThreadPoolExecutor(RACERS) as pool:
        for ticket_id in ticket_ids:
            answers = at_once(pool, presses)
            statuses = [status for status, _ in answers]
            assert sorted(statuses) == [200] + [409] * (RACERS - 1), ticket_id
            winner = names[statuses.index(200)]
            assert ticket_now(ticket_id, lambda t: t.assignee.name) == winner
            for status, said in answers:
                if status == 409:
                    assert f"{winner} has taken this ticket." in str(said)

    takes = db.session.execute(
        sa.select(Change.ticket_id, sa.func.count())
        .where(Change.kind == "take")
        .group_by(Change.ticket_id)
    ).all()
    assert dict(takes) == dict.fromkeys(ticket_ids, 1)


def test_sixteen_people_commenting_on_one_ticket_at_once_all_land(race_app):
    """Every comment changes the ticket too (its version, last commenter, search entry),
    so the sixteen writes race for one row, 20 times over; none is refused."""
    ticket_id = make_ticket(make_user("alice")).id
    user_ids = [make_user(f"staff{i}", role="staff").id for i in range(RACERS)]
    db.session.commit()

    def post(user_id: int, body: str) -> Answer:
        return through_services(
            race_app,
            user_id,
            ticket_id,
            lambda u, t: services.comment(actor=u, ticket=t, body=body),
        )

    posted: list[str] = []
    with ThreadPoolExecutor(RACERS) as pool:
        for round_ in range(20):
            bodies = [f"Round {round_}, comment {n}" for n in range(RACERS)]
            calls = [lambda u=u, b=b: post(u, b) for u, b in zip(user_ids, bodies, strict=True)]
            answers = at_once(pool, calls)
            assert [status for status, _ in answers] == [200] * RACERS, answers
            posted += bodies

    stored = db.session.scalars(sa.select(Comment.body).where(Comment.ticket_id == ticket_id))
    assert sorted(stored) == sorted(posted)
    comments = sa.select(sa.func.count()).select_from(Change).where(Change.kind == "comment")
    assert db.session.scalar(comments) == len(posted)


def test_everyone_commenting_at_once_from_one_page_sees_each_comment_before_their_own(
    race_app,
):
    """Sixteen people post a comment by htmx from the ticket's page, all drawn at the same
    version, at once, 3 times over: each answer brings every comment that landed before
    its own, whether it landed before the answer read the ticket or while it wrote (the
    write then runs again), and none that landed after."""
    ticket_id = make_ticket(make_user("alice")).id
    names = [make_user(f"staff{i}", role="staff").username for i in range(RACERS)]
    db.session.commit()
    clients = []
    for name in names:
        client = race_app.test_client()
        AuthActions(client).login(name)
        clients.append((client, csrf_token(client, "/")))

    def post(client, token: str, body: str, shown: int) -> Answer:
        response = client.post(
            f"/tickets/{ticket_id}/comments",
            data={"body": body, "shown": shown, "csrf_token": token},
            headers={"HX-Request": "true"},
        )
        return response.status_code, response.get_data(as_text=True)

    with ThreadPoolExecutor(RACERS) as pool:
        for round_ in range(3):
            shown = ticket_now(ticket_id, lambda t: t.version)
            bodies = [f"Round-{round_}-comment-{n}-here" for n in range(RACERS)]
            answers = at_once(pool, [lambda c=c, b=b, v=shown: post(*c, b, v)
                                     for c, b in zip(clients, bodies, strict=True)])  # fmt: skip
            landed = dict(db.session.execute(
                sa.select(Comment.body, Change.version).join(Change.comment)
                .where(Change.ticket_id == ticket_id, Change.version > shown)
            ).all())  # fmt: skip
            db.session.rollback()
            for body, (status, page) in zip(bodies, answers, strict=True):
                assert status == 200, page
                seen = {other for other in bodies if other in page}
                assert seen == {other for other in bodies if landed[other] <= landed[body]}


def press_take_button(app, username: str, ticket_id: Callable[[], int]):
    """A signed-in staff member's Take button in a list row (htmx), for the round's ticket."""
    client = app.test_client()
    AuthActions(client).login(username)
    token = csrf_token(client, "/")

    def press() -> Answer:
        response = client.post(
            f"/tickets/{ticket_id()}/take?as=row",
            data={"csrf_token": token},
            headers={"HX-Request": "true"},
        )
        return response.status_code, response.get_data(as_text=True)

    return press


@pytest.mark.parametrize(
    "door, tries", [pytest.param("services", 400, marks=pytest.mark.slow), ("api", 50)]
)
def test_two_people_editing_the_same_ticket_never_overwrite_each_other(race_app, door, tries):
    """Each editor saves some fields at the version both read: an edit lands, or it is a
    409 naming exactly the fields the other changed first; the ticket always holds, field
    by field, the value of the last save that landed."""
    ticket_id = make_ticket(make_user("alice")).id
    editors = [make_user(name, role="staff") for name in ("ann", "ben")]
    save = [edit_through_services(race_app, e.id, ticket_id) for e in editors]
    if door == "api":
        save = [edit_through_api(race_app, e, ticket_id) for e in editors]
    expected = ticket_now(ticket_id, lambda t: {name: getattr(t, name) for name in EDITED})
    choose = random.Random(10)
    landed = 0

    with ThreadPoolExecutor(2) as pool:
        for attempt in range(tries):
            version = ticket_now(ticket_id, lambda t: t.version)
            wanted = [
                {f: f"{f} {attempt} by {who}" for f in choose.sample(EDITED, choose.randint(1, 3))}
                for who in ("ann", "ben")
            ]
            calls = [lambda s=s, w=w, v=version: s(v, w) for s, w in zip(save, wanted, strict=True)]
            answers = at_once(pool, calls)
            clash = set(wanted[0]) & set(wanted[1])
            statuses = sorted(status for status, _ in answers)
            assert statuses == ([200, 409] if clash else [200, 200]), (attempt, answers)
            for (status, named), values in zip(answers, wanted, strict=True):
                if status == 200:
                    expected.update(values)
                    landed += 1
                else:
                    assert set(named) == clash, (attempt, named)
            now = ticket_now(ticket_id, lambda t: {name: getattr(t, name) for name in EDITED})
            assert now == expected, attempt

    edits = db.session.scalar(
        sa.select(sa.func.count()).select_from(Change).where(Change.kind == "edited")
    )
    assert edits == landed


def edit_through_services(app, user_id: int, ticket_id: int):
    """Save values at a version; answers the status and the fields named in a refusal."""

    def save(version: int, values: dict[str, str]) -> Answer:
        status, refusal = through_services(
            app,
            user_id,
            ticket_id,
            lambda u, t: services.edit(actor=u, ticket=t, version=version, **values),
        )
        return status, refusal.fields if refusal else {}

    return save


def edit_through_api(app, user: User, ticket_id: int):
    """The same through PATCH /api/v1/tickets/<id>, with the user's own token."""
    _, secret = api_tokens.create(user=user, name="race")
    client = app.test_client()

    def save(version: int, values: dict[str, str]) -> Answer:
        response = client.patch(
            f"/api/v1/tickets/{ticket_id}",
            data=json.dumps({"version": version, **values}),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        )
        return response.status_code, json.loads(response.get_data()).get("errors", {})

    return save
