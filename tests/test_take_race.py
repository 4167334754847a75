"""Several staff press Take at the same moment: exactly one wins, the others get a 409
that names the winner. Real threads, real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_ticket, make_user
from webapp.extensions import db
from webapp.models import Change, Ticket

RACERS = 6


def test_simultaneous_takes_have_one_winner(app):
    ticket_id = make_ticket(make_user("alice")).id
    names = [f"staff{i}" for i in range(RACERS)]
    clients = []
    for name in names:
        make_user(name, role="staff", display_name=name.capitalize())
        client = app.test_client()
        AuthActions(client).login(name)
        clients.append((client, csrf_token(client, "/")))
    db.session.commit()

    start = threading.Barrier(RACERS)
    answers: list[tuple[int, str]] = [None] * RACERS  # type: ignore[list-item]

    def press_take(i: int) -> None:
        client, token = clients[i]
        start.wait()
        response = client.post(
            f"/tickets/{ticket_id}/take?as=row",
            data={"csrf_token": token},
            headers={"HX-Request": "true"},
        )
        answers[i] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=press_take, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * (RACERS - 1)
    db.session.expire_all()
    winner = db.session.get(Ticket, ticket_id).assignee
    for status, html in answers:
        if status == 409:
            assert f"{winner.name} has taken this ticket." in html
    takes = db.session.scalar(
        sa.select(sa.func.count()).select_from(Change).where(Change.kind == "take")
    )
    assert takes == 1
