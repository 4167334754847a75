"""Crashes: gunicorn (master and workers) is killed with ``kill -9`` while four browsers
post comments, 10 times over, on SQLite and on PostgreSQL. Every comment that was answered
200 is there afterwards, none is there twice, none is there without its row in the change
monitor (a write is all or nothing), and the SQLite file passes ``PRAGMA integrity_check``
after each crash. What was in flight when the server died may or may not have landed: its
writer never heard, and will see on the page whether it did."""

from __future__ import annotations

import itertools
import random
import re
import sqlite3
import threading

import pytest
import requests
import sqlalchemy as sa

from tests.factories import make_ticket, make_user
from tests.servers import AppServer, Browser, settings
from webapp.extensions import db
from webapp.models import Change, Comment

CRASHES = 10
WRITERS = 4
POSTED = re.compile(r'id="comment-(\d+)"')


@pytest.mark.slow
def test_comments_answered_before_a_kill_9_are_never_lost(app, database_url, tmp_path):
    author = make_user("alice")
    ticket_ids = [make_ticket(author).id for _ in range(WRITERS)]
    for i in range(WRITERS):
        make_user(f"writer{i}", role="staff")
    db.session.commit()  # the test holds no transaction (on SQLite: no lock) while they write
    env = settings(database_url, tmp_path)
    chance = random.Random(20)
    browsers: list[Browser] = []
    answered: dict[str, int] = {}  # body: the comment id it was answered with
    refused: list[tuple[int, str]] = []

    def write(i: int, crash: int, lock: threading.Lock) -> None:
        """Post comments until the server is gone."""
        for n in itertools.count():
            body = f"Crash {crash}: comment {n} from writer {i}"
            try:
                answer = browsers[i].submit(
                    f"/tickets/{ticket_ids[i]}/comments",
                    data={"body": body},
                    headers={"HX-Request": "true"},
                )
            except requests.RequestException:
                return  # killed while we waited: this comment was never acknowledged
            with lock:
                if answer.status_code == 200:
                    answered[body] = int(POSTED.findall(answer.text)[-1])  # the timeline's last
                else:
                    refused.append((answer.status_code, answer.text[:300]))

    for crash in range(CRASHES):
        server = AppServer(env, tmp_path / "gunicorn.log", workers=2, preload=True)
        writers: list[threading.Thread] = []
        try:
            server.start()
            if not browsers:  # the session cookies outlive the servers: one sign-in each
                browsers = [Browser(server.url).sign_in(f"writer{i}") for i in range(WRITERS)]
            for browser in browsers:
                browser.base = server.url
            lock = threading.Lock()
            before = len(answered)
            writers += [
                threading.Thread(target=write, args=(i, crash, lock)) for i in range(WRITERS)
            ]
            for w in writers:
                w.start()
            wanted = before + chance.randint(4, 24)  # let some land, then kill mid-stream
            while len(answered) < wanted and all(w.is_alive() for w in writers):
                threading.Event().wait(0.01)
        finally:
            server.kill()
        for w in writers:
            w.join(timeout=60)
        assert not refused, refused
        assert len(answered) >= wanted, f"the writers stopped early:\n{server.output()}"
        if database_url.startswith("sqlite"):
            path = sa.make_url(database_url).database
            with sqlite3.connect(path) as check:
                assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)], crash
        assert_all_there(answered, crash)
    unanswered = db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) - len(answered)
    print(f"{CRASHES} kill -9: {len(answered)} comments answered, all there, 0 lost; "
          f"{unanswered} more landed that were in flight")  # fmt: skip


def assert_all_there(answered: dict[str, int], crash: int) -> None:
    """Every answered comment is stored, with the id it was answered with; none twice;
    each with exactly one monitor row."""
    db.session.expire_all()
    stored = db.session.execute(sa.select(Comment.body, Comment.id)).all()
    assert len({body for body, _ in stored}) == len(stored), f"a comment twice after {crash}"
    missing = set(answered.items()) - set(stored)
    assert not missing, f"lost after crash {crash}: {sorted(missing)[:5]}"
    monitored = db.session.execute(
        sa.select(Change.comment_id, sa.func.count())
        .where(Change.kind == "comment")
        .group_by(Change.comment_id)
    ).all()
    assert dict(monitored) == dict.fromkeys((id_ for _, id_ in stored), 1), crash
    db.session.rollback()
