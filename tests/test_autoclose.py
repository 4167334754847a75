"""Auto-close: a solved ticket nobody reopens is closed by the system after
AUTOCLOSE_AFTER, with its record in the change monitor, and its author told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions
from tests.factories import make_ticket, make_user
from webapp import services
from webapp.extensions import db
from webapp.models import Change, Notification, clock_at

SOLVED_AT = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def scene(app):
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    with clock_at(SOLVED_AT - timedelta(days=1)):
        ticket = make_ticket(alice)
        services.take(actor=sam, ticket=ticket)
    with clock_at(SOLVED_AT):
        services.change_state(actor=sam, ticket=ticket, state="ready")
    return alice, sam, ticket


def test_a_ready_ticket_closes_after_the_delay_as_the_system(scene):
    alice, sam, ticket = scene
    assert services.closes_at(ticket) == SOLVED_AT + timedelta(hours=6)
    with clock_at(SOLVED_AT + timedelta(hours=5, minutes=59)):
        assert services.autoclose() == []
    with clock_at(SOLVED_AT + timedelta(hours=6)):
        assert services.autoclose() == [ticket.id]
        assert services.autoclose() == []  # once
    db.session.refresh(ticket)
    assert ticket.state == "closed" and ticket.resolved == SOLVED_AT
    change = db.session.scalar(sa.select(Change).order_by(Change.id.desc()))
    assert (change.kind, change.actor, change.created) == (
        "autoclose",
        None,
        SOLVED_AT + timedelta(hours=6),
    )
    assert [(f.field, f.old, f.new) for f in change.fields] == [("state", "ready", "closed")]
    told = db.session.scalars(sa.select(Notification).where(Notification.change_id == change.id))
    assert {n.recipient.username: n.reason for n in told} == {"alice": "changed", "sam": "changed"}


def test_a_ticket_reopened_in_time_stays_open(scene):
    alice, sam, ticket = scene
    with clock_at(SOLVED_AT + timedelta(hours=2)):
        services.change_state(actor=alice, ticket=ticket, state="opened")
        assert ticket.resolved is None
    with clock_at(SOLVED_AT + timedelta(hours=7)):
        assert services.autoclose() == []
        # Solved again: the delay starts afresh.
        services.change_state(actor=sam, ticket=ticket, state="ready")
    with clock_at(SOLVED_AT + timedelta(hours=12)):
        assert services.autoclose() == []
    with clock_at(SOLVED_AT + timedelta(hours=13)):
        assert services.autoclose() == [ticket.id]


def test_the_delay_is_a_setting_and_zero_turns_it_off(scene, app):
    *_, ticket = scene
    app.config["AUTOCLOSE_AFTER"] = 0
    with clock_at(SOLVED_AT + timedelta(days=30)):
        assert services.autoclose() == [] and services.closes_at(ticket) is None
    app.config["AUTOCLOSE_AFTER"] = 0.5
    with clock_at(SOLVED_AT + timedelta(minutes=30)):
        assert services.autoclose() == [ticket.id]


def test_simpletickets_closes_solved_tickets(app):
    app.config["WORKFLOW"] = "simpletickets"
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    with clock_at(SOLVED_AT):
        ticket = make_ticket(alice)
        services.change_state(actor=sam, ticket=ticket, state="solved")
    with clock_at(SOLVED_AT + timedelta(hours=6)):
        assert services.autoclose() == [ticket.id]
    assert ticket.state == "closed"


def test_spire_has_no_ready_state_and_nothing_closes_by_itself(app):
    app.config["WORKFLOW"] = "spire"
    alice = make_user("alice")
    with clock_at(SOLVED_AT):
        ticket = make_ticket(alice)
    with clock_at(SOLVED_AT + timedelta(days=30)):
        assert services.autoclose() == [] and services.closes_at(ticket) is None


def test_a_deleted_ticket_is_left_alone(scene):
    alice, sam, ticket = scene
    ada = make_user("ada", role="admin")
    services.delete_ticket(actor=ada, ticket=ticket)
    with clock_at(SOLVED_AT + timedelta(days=1)):
        assert services.autoclose() == []


def test_the_autoclose_command_for_cron(scene, runner, app):
    *_, ticket = scene
    with clock_at(SOLVED_AT + timedelta(hours=1)):
        assert runner.invoke(args=["autoclose"]).output == "Closed 0 ticket(s).\n"
    with clock_at(SOLVED_AT + timedelta(hours=6)):
        assert runner.invoke(args=["autoclose"]).output == f"Closed 1 ticket(s): #{ticket.id}.\n"
    app.config["AUTOCLOSE_AFTER"] = 0
    assert "Auto-close is off" in runner.invoke(args=["autoclose"]).output


def test_the_worker_command_does_one_round_on_request(scene, runner):
    with clock_at(SOLVED_AT + timedelta(hours=6)):
        result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0
    assert result.output == (
        "0 mailed, 0 in digests, 1 closed, 0 old notifications deleted, 0 webhooks, "
        "0 expired sign-ins deleted\n"
    )


def test_the_author_is_told_until_when_to_reopen(scene, app):
    alice, sam, ticket = scene
    client = app.test_client()
    AuthActions(client).login("alice")
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count("reopen the ticket before 16 Nov 2026, 15:00") == 1
    client = app.test_client()
    AuthActions(client).login("sam")
    assert "reopen the ticket before" not in client.get("/notifications").get_data(as_text=True)
