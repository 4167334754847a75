"""Several app servers behind a load balancer work because the app keeps no state of its
own: two gunicorn servers and one worker against one PostgreSQL database, sharing only
their settings (the secret key, the database, the attachments folder). A person signs in
on one and carries on on the other with the same cookie; what one server writes, the
other shows; the worker mails each notification once. PostgreSQL only: SQLite is one file
on one machine."""

from __future__ import annotations

import os
import re
import time

import pytest
import sqlalchemy as sa

from tests.factories import make_user
from tests.mailsink import MailSink, text_of
from tests.servers import AppServer, Browser, Worker, settings
from webapp.extensions import db
from webapp.models import Notification

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
)


@pytest.fixture
def mail():
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_app_servers_and_a_worker_share_one_database(app, database_url, tmp_path, mail):
    make_user("alice", display_name="Alice Owner")
    make_user("sam", role="staff", display_name="Sam Staff")
    db.session.commit()
    env = settings(
        database_url,
        tmp_path,
        TESSERA_MAIL_SERVER="127.0.0.1",
        TESSERA_MAIL_PORT=str(mail.port),
        TESSERA_BASE_URL="http://tessera.example",
    )
    one = AppServer(env, tmp_path / "one.log", workers=1)
    two = AppServer(env, tmp_path / "two.log", workers=1)
    worker = Worker(env, tmp_path / "worker.log")
    try:
        for process in (one, two, worker):
            process.start()

        # Signed in on one, the same cookie (and CSRF token) works on the other.
        alice = Browser(one.url).sign_in("alice")
        alice.base = two.url
        assert "Alice Owner" in alice.get(f"{two.url}/", timeout=30).text
        report = {
            "summary": "The VPN drops every hour",
            "description": "Since the update the VPN drops every hour on the hour.",
            "priority": "20",
        }
        answer = alice.submit("/tickets/new", data=report)
        assert answer.status_code == 303, answer.text[:300]
        ticket_path = re.search(r"/tickets/\d+$", answer.headers["Location"]).group(0)

        # What two wrote, one shows; a file stored through one is served by two.
        sam = Browser(one.url).sign_in("sam")
        assert "The VPN drops every hour" in sam.get(f"{one.url}{ticket_path}", timeout=30).text
        log = b"12:00:01 tunnel down\n"
        answer = sam.submit(
            f"{ticket_path}/comments",
            data={"body": "Please send the client log."},
            files={"file": ("vpn.log", log, "text/plain")},
        )
        assert answer.status_code == 303, answer.text[:300]
        page = alice.get(f"{two.url}{ticket_path}", timeout=30).text
        assert "Please send the client log." in page
        download = re.search(r'href="(/attachments/\d+)"', page).group(1)
        assert alice.get(f"{two.url}{download}", timeout=30).content == log

        # The worker mails alice about sam's comment: once.
        deadline = time.monotonic() + 60
        while not mail.to("alice@example.com") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # a few more rounds: nothing is mailed again
    finally:
        for process in (one, two, worker):
            process.stop()

    (message,) = mail.to("alice@example.com")
    assert "Please send the client log." in text_of(message)
    mailed = mail.notification_ids()
    assert len(mailed) == len(set(mailed))
    notified = db.session.scalars(
        sa.select(Notification.id).where(Notification.recipient.has(username="alice"))
    ).all()
    assert sorted(mailed) == sorted(notified)
