"""Notifications by e-mail through a real SMTP server: at once, in digests, retried while
the server is down, and each exactly once, also with two workers at a time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_site, make_ticket, make_user
from tests.mailsink import MailSink, free_port, html_of, text_of
from tests.workers import deliver_side_by_side
from webapp import notify, notify_mail, outbox, services, worker
from webapp.extensions import db
from webapp.models import MailState, Notification, clock_at

MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


@pytest.fixture
def sink(app):
    sink = MailSink().start()
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, BASE_URL="https://help.example.com"
    )
    yield sink
    sink.stop()


@pytest.fixture
def people(app):
    alice = make_user("alice", display_name="Alice Adams")
    bob = make_user("bob")
    return {
        "alice": alice,
        "bob": bob,
        "sam": make_user("sam", role="staff", display_name="Sam Staff"),
        "site": make_site("Webshop", alice, bob),
    }


def notes(**where) -> list[Notification]:
    query = sa.select(Notification).filter_by(**where).order_by(Notification.id)
    return list(db.session.scalars(query))


def test_a_comment_is_mailed_at_once_as_text_and_html_with_a_link(sink, people):
    ticket = make_ticket(people["alice"], site=people["site"], summary="Checkout <b>slow</b>")
    change = services.comment(actor=people["sam"], ticket=ticket, body="Try **again** now.")
    assert notify_mail.deliver_pending() == 3  # bob: new ticket and comment; alice: comment
    (mail,) = [m for m in sink.to("alice@example.com")]
    assert mail["Subject"] == f"[Tessera] #{ticket.id} Checkout <b>slow</b>: Sam Staff commented"
    assert mail["To"] == "Alice Adams <alice@example.com>"
    link = f"https://help.example.com/tickets/{ticket.id}#comment-{change.comment_id}"
    text, html = text_of(mail), html_of(mail)
    assert "Hello Alice Adams," in text and "Try **again** now." in text and link in text
    assert f'href="{link}"' in html and "<strong>again</strong>" in html
    assert "Checkout &lt;b&gt;slow&lt;/b&gt;" in html  # the summary is text, never markup
    assert "https://help.example.com/account" in text  # where to change the mail mode
    # Exactly once: the next round has nothing to send.
    assert notify_mail.deliver_pending() == 0
    assert len(sink.messages) == 3
    assert {n.mail for n in notes()} == {MailState.SENT}


def test_nothing_is_mailed_to_those_who_want_no_mail(sink, people):
    people["bob"].mail_mode = "none"
    db.session.commit()
    make_ticket(people["alice"], site=people["site"])
    assert notify_mail.deliver_pending() == 0
    assert sink.messages == [] and notes() == []  # none written with the change
    notify.catch_up(people["bob"])  # his, when he looks, in the app only
    assert [n.mail for n in notes()] == [MailState.OFF]


def test_a_notification_read_in_the_app_first_is_not_mailed(sink, people):
    ticket = make_ticket(people["alice"], site=people["site"])
    from webapp import notify

    notify.mark_seen(people["bob"], notes(ticket_id=ticket.id)[0].id)
    assert notify_mail.deliver_pending() == 0 and sink.messages == []


def test_all_marked_read_are_not_mailed_but_one_a_worker_is_sending(sink, people):
    first = make_ticket(people["alice"], site=people["site"])
    second = make_ticket(people["alice"], site=people["site"])
    (sending,) = notes(ticket_id=second.id, recipient_id=people["bob"].id)
    sending.lease = MONDAY + timedelta(days=365)  # a worker holds it
    db.session.commit()
    notify.mark_all_seen(people["bob"])
    db.session.expire_all()
    (read,) = notes(ticket_id=first.id, recipient_id=people["bob"].id)
    assert (read.mail, sending.mail) == (MailState.OFF, MailState.PENDING)
    assert read.seen is not None and sending.seen is not None
    assert notify_mail.deliver_pending() == 0 and sink.messages == []


def test_delivery_is_retried_with_growing_pauses_while_the_server_is_down(app, people):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    with clock_at(MONDAY):
        make_ticket(people["alice"], site=people["site"])
        assert notify_mail.deliver_pending() == 0
    (note,) = notes()
    assert note.attempts == 1 and note.mail == MailState.PENDING
    assert "ConnectionRefusedError" in note.error
    assert note.due == MONDAY + timedelta(minutes=1)
    with clock_at(MONDAY + timedelta(seconds=30)):
        assert notify_mail.deliver_pending() == 0  # not due again yet
    with clock_at(MONDAY + timedelta(minutes=1)):
        notify_mail.deliver_pending()
    db.session.refresh(note)
    assert note.attempts == 2 and note.due == MONDAY + timedelta(minutes=3)
    sink = MailSink(port).start()
    try:
        with clock_at(MONDAY + timedelta(minutes=3)):
            assert notify_mail.deliver_pending() == 1
            assert notify_mail.deliver_pending() == 0
    finally:
        sink.stop()
    db.session.refresh(note)
    assert note.mail == MailState.SENT and note.error == "" and len(sink.messages) == 1


def test_delivery_gives_up_after_the_last_attempt(app, people, monkeypatch):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 2)
    with clock_at(MONDAY):
        make_ticket(people["alice"], site=people["site"])
        notify_mail.deliver_pending()
    with clock_at(MONDAY + timedelta(hours=1)):
        notify_mail.deliver_pending()
    (note,) = notes()
    assert note.mail == MailState.FAILED and note.attempts == 2
    with clock_at(MONDAY + timedelta(days=1)):
        assert notify_mail.deliver_pending() == 0
    db.session.refresh(note)
    assert note.attempts == 2


def test_a_lease_left_by_a_dead_worker_runs_out(sink, people):
    with clock_at(MONDAY):
        make_ticket(people["alice"], site=people["site"])
        (claimed,) = outbox.claim(Notification, Notification.mail == "pending")  # then "dies"
        assert notify_mail.deliver_pending() == 0  # leased: no other worker takes it
    with clock_at(MONDAY + outbox.LEASE + timedelta(seconds=1)):
        assert notify_mail.deliver_pending() == 1
    assert len(sink.messages) == 1


def test_the_daily_digest_gathers_a_days_notifications_in_one_mail(sink, people, app):
    bob = people["bob"]
    bob.mail_mode, bob.timezone = "daily", "Europe/Berlin"
    db.session.commit()
    with clock_at(MONDAY):  # 11:00 in Berlin
        ticket = make_ticket(people["alice"], site=people["site"], summary="Search is broken")
        services.comment(actor=people["alice"], ticket=ticket, body="Also on mobile.")
        other = make_ticket(people["alice"], site=people["site"], summary="Logo is blurry")
        assert notify_mail.deliver_digests() == 0
    # Due at 07:00 in Berlin the next morning, 06:00 UTC.
    assert {n.due for n in notes(recipient_id=bob.id)} == {datetime(2026, 11, 17, 6, tzinfo=UTC)}
    with clock_at(datetime(2026, 11, 17, 5, 59, tzinfo=UTC)):
        assert notify_mail.deliver_digests() == 0
    with clock_at(datetime(2026, 11, 17, 6, 0, tzinfo=UTC)):
        assert notify_mail.deliver_digests() == 3
        assert notify_mail.deliver_digests() == 0
    (mail,) = sink.to("bob@example.com")
    assert mail["Subject"] == "[Tessera] 3 notifications"
    text = text_of(mail)
    assert "you have 3 new notifications" in text
    assert f"#{ticket.id} Search is broken: Alice Adams commented" in text
    assert f"#{other.id} Logo is blurry: Alice Adams reported this ticket" in text
    assert "16 Nov 2026, 11:00 CET" in text  # in bob's timezone


def test_exactly_once_with_two_workers_at_a_time(sink, app, monkeypatch):
    """Two workers deliver side by side in small batches: every notification is mailed
    once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time)."""
    monkeypatch.setattr(notify_mail, "BATCH", 3)
    author = make_user("author")
    followers = [make_user(f"follower{i}") for i in range(15)]
    site = make_site("Busy", author, *followers)
    staff = make_user("staff1", role="staff")
    for n in range(4):
        ticket = make_ticket(author, site=site, summary=f"Problem {n}")
        services.comment(actor=staff, ticket=ticket, body="Looking.")
    expected = {n.id for n in notes(mail="pending")}
    assert len(expected) == 4 * 15 + 4 * 16
    db.session.commit()
    deliver_side_by_side(app, notify_mail.deliver_pending)
    mailed = sink.notification_ids()
    assert sorted(mailed) == sorted(expected)  # each one, once
    db.session.expire_all()
    assert {n.mail for n in notes()} == {MailState.SENT}


def test_a_worker_round_mails_and_closes(sink, people, app):
    with clock_at(MONDAY):
        ticket = make_ticket(people["alice"], site=people["site"])
        services.change_state(actor=people["sam"], ticket=ticket, state="ready")
    with clock_at(MONDAY + timedelta(hours=7)):
        done = worker.run_once()
    assert done == {
        "mailed": 3,
        "in digests": 0,
        "closed": 1,
        "old notifications deleted": 0,
        "webhooks": 0,
        "expired sign-ins deleted": 0,
    }
    with clock_at(MONDAY + timedelta(hours=7)):
        assert worker.run_once()["mailed"] == 2  # alice and bob hear of the closing
    texts = [text_of(m) for m in sink.to("alice@example.com")]
    ready, closed = texts
    assert "reopen it before 16 Nov 2026, 16:00 UTC" in ready
    assert "System closed this ticket automatically" in closed


def test_the_worker_runs_until_stopped_and_delivers_meanwhile(sink, people, app, database_url):
    """``flask --app webapp worker`` as a process: it mails what comes in while it runs
    and stops cleanly on SIGTERM."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TESSERA_SECRET_KEY": "worker-test",
        "TESSERA_MAIL_SERVER": "127.0.0.1",
        "TESSERA_MAIL_PORT": str(sink.port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "webapp", "worker", "--interval", "0.2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        make_ticket(people["alice"], site=people["site"])
        db.session.commit()
        deadline = time.monotonic() + 30
        while not sink.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(sink.messages) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "worker stopped" in output and "1 mailed" in output
