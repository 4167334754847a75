"""Load: 16 signed-in browsers post 1,000 comments at once through gunicorn with 4 workers
(SQLite and PostgreSQL): every comment the server acknowledged is there, once, with the id
it was answered with, and each has its row in the change monitor. Each browser goes round
eight tickets, so the workers keep meeting on the same ticket: a comment changes its
ticket too (version, last commenter, search entry), and the writes contend for its row.
(Sixteen comments on one ticket at the very same moment: tests/test_races.py.)"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.factories import make_ticket, make_user
from tests.servers import AppServer, Browser, settings
from webapp.extensions import db
from webapp.models import Change, Comment

CLIENTS = 16
COMMENTS = 1_000
TICKETS = 8


@pytest.mark.slow
def test_a_thousand_comments_from_sixteen_clients_all_land_once(app, database_url, tmp_path):
    alice = make_user("alice")
    ticket_ids = [make_ticket(alice).id for _ in range(TICKETS)]
    for i in range(CLIENTS):
        make_user(f"writer{i}", role="staff")
    db.session.commit()  # the test holds no transaction (on SQLite: no lock) while they write
    server = AppServer(settings(database_url, tmp_path), tmp_path / "gunicorn.log", workers=4)
    try:
        server.start()
        browsers = [Browser(server.url).sign_in(f"writer{i}") for i in range(CLIENTS)]

        def post_share(i: int) -> dict[str, int]:
            """Post every CLIENTS-th comment; returns each body with the id it was given."""
            acknowledged = {}
            for n in range(i, COMMENTS, CLIENTS):
                body = f"Comment {n} from writer {i}"
                path = f"/tickets/{ticket_ids[n % TICKETS]}/comments"
                answer = browsers[i].submit(path, data={"body": body})
                assert answer.status_code == 303, (answer.status_code, answer.text[:300])
                acknowledged[body] = int(answer.headers["Location"].rsplit("#comment-", 1)[1])
            return acknowledged

        acknowledged: dict[str, int] = {}
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            for share in pool.map(post_share, range(CLIENTS)):
                acknowledged.update(share)
        took = time.monotonic() - started
    finally:
        server.stop()

    assert len(acknowledged) == COMMENTS
    stored = db.session.execute(sa.select(Comment.body, Comment.id)).all()
    assert len(stored) == COMMENTS
    assert dict(stored) == acknowledged
    monitored = db.session.scalars(
        sa.select(Change.comment_id).where(Change.kind == "comment")
    ).all()
    assert sorted(monitored) == sorted(acknowledged.values())
    print(f"{COMMENTS} comments from {CLIENTS} clients in {took:.0f} s: all there, once, 0 lost")
