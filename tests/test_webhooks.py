"""Webhooks through a real HTTP receiver: who is told of what, signed bodies, retries while
the receiver fails or is down, each delivery exactly once (also with two workers at a
time), and the admin pages with their delivery log."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_site, make_ticket, make_user
from tests.mailsink import free_port
from tests.workers import deliver_side_by_side
from webapp import outbox, services, webhooks
from webapp.extensions import db
from webapp.models import AdminAction, Ticket, User, Webhook, WebhookDelivery, clock_at

MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST (headers and body) and answers
    the statuses in ``answers`` first, then 204."""

    def __init__(self, port: int | None = None, answers: tuple[int, ...] = ()) -> None:
        self.requests: list[tuple[int, dict[str, str], bytes]] = []
        self.answers = list(answers)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else 204
                    receiver.requests.append((status, dict(self.headers), body))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def accepted(self) -> list[tuple[dict[str, str], bytes]]:
        return [(headers, body) for status, headers, body in self.requests if status < 300]


@pytest.fixture
def receiver(app):
    app.config.update(BASE_URL="https://help.example.com")
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def people(app):
    alice = make_user("alice", display_name="Alice Adams")
    return {
        "alice": alice,
        "sam": make_user("sam", role="staff"),
        "ada": make_user("ada", role="admin"),
        "site": make_site("Webshop", alice),
        "other_site": make_site("Intranet", alice),
    }


def hook(url: str, site=None, events: str = "created,changed,commented", **fields) -> Webhook:
    webhook = Webhook(url=url, site=site, events=events, **fields)
    db.session.add(webhook)
    db.session.commit()
    return webhook


def deliveries(**where) -> list[WebhookDelivery]:
    query = sa.select(WebhookDelivery).filter_by(**where).order_by(WebhookDelivery.id)
    return list(db.session.scalars(query))


def test_each_webhook_gets_the_events_it_wants_on_its_sites(people):
    site, other_site = people["site"], people["other_site"]
    everywhere = hook("https://all.example.com/")
    on_site = hook("https://shop.example.com/", site=site)
    elsewhere = hook("https://intranet.example.com/", site=other_site)
    comments_only = hook("https://comments.example.com/", events="commented")
    hook("https://off.example.com/", active=False)
    ticket = make_ticket(people["alice"], site=site)
    services.take(actor=people["sam"], ticket=ticket)
    services.comment(actor=people["sam"], ticket=ticket, body="On it.")
    sent = {(d.webhook_id, d.event) for d in deliveries()}
    assert sent == {
        (everywhere.id, "created"), (everywhere.id, "changed"), (everywhere.id, "commented"),
        (on_site.id, "created"), (on_site.id, "changed"), (on_site.id, "commented"),
        (comments_only.id, "commented"),
    }  # fmt: skip
    assert deliveries(webhook_id=elsewhere.id) == []
    assert {d.status for d in deliveries()} == {"pending"}


def test_private_and_deleted_tickets_are_never_sent(people):
    hook("https://all.example.com/")
    secret = make_ticket(people["alice"], site=people["site"], private=True)
    services.comment(actor=people["alice"], ticket=secret, body="Only for staff.")
    assert deliveries() == []
    ticket = make_ticket(people["alice"], site=people["site"])
    services.delete_ticket(actor=people["ada"], ticket=ticket)
    assert [d.event for d in deliveries()] == ["created"]  # not the deletion


def test_a_delivery_is_written_in_its_changes_transaction(people, monkeypatch):
    hook("https://all.example.com/")

    def broken(change, event):
        raise RuntimeError("no payload")

    monkeypatch.setattr(webhooks, "payload", broken)
    with pytest.raises(RuntimeError):
        make_ticket(people["alice"], site=people["site"], summary="Never reported")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
    monkeypatch.undo()
    ticket = make_ticket(people["alice"], site=people["site"])
    (delivery,) = deliveries()
    assert delivery.change.ticket_id == ticket.id and delivery.change.kind == "created"


def test_a_delivery_is_signed_json_the_receiver_can_verify(receiver, people):
    webhook = hook(receiver.url, site=people["site"])
    ticket = make_ticket(people["alice"], site=people["site"], summary="Checkout is slow")
    services.assign(actor=people["sam"], ticket=ticket, assignee=people["sam"])
    change = services.comment(actor=people["sam"], ticket=ticket, body="Try again now.")
    assert webhooks.deliver() == 3
    assert webhooks.deliver() == 0  # each one once
    assert len(receiver.requests) == 3
    for headers, body in receiver.accepted:
        expected = "sha256=" + hmac.new(webhook.secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Tessera-Signature"], expected)
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Tessera-Event"] == json.loads(body)["event"]
    forged = b'{"event": "created"}'
    wrong = "sha256=" + hmac.new(webhook.secret.encode(), forged, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(receiver.accepted[0][0]["X-Tessera-Signature"], wrong)
    headers, body = receiver.accepted[2]
    payload = json.loads(body)
    assert headers["X-Tessera-Delivery"] == str(deliveries()[2].id)
    assert payload["event"] == "commented"
    assert payload["ticket"] == {
        "id": ticket.id, "summary": "Checkout is slow", "state": ticket.state,
        "priority": 20, "site": {"id": people["site"].id, "name": "Webshop"},
        "assignee": "sam",
        "url": f"https://help.example.com/tickets/{ticket.id}#comment-{change.comment_id}",
    }  # fmt: skip
    assert payload["change"]["kind"] == "comment" and payload["change"]["actor"] == "sam"
    assert payload["comment"]["body"] == "Try again now."
    fields = json.loads(receiver.accepted[1][1])["change"]["fields"]
    assert {"field": "assignee", "old": None, "new": str(people["sam"].id)} in fields
    assert {(d.status, d.response_code) for d in deliveries()} == {("delivered", 204)}


def test_a_failing_receiver_is_retried_with_growing_pauses(receiver, people):
    receiver.answers = [500, 302]
    hook(receiver.url)
    with clock_at(MONDAY):
        make_ticket(people["alice"], site=people["site"])
        assert webhooks.deliver() == 0
    (delivery,) = deliveries()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert delivery.error == "HTTP 500" and delivery.due == MONDAY + timedelta(minutes=1)
    with clock_at(MONDAY + timedelta(seconds=30)):
        assert webhooks.deliver() == 0  # not due again yet
    assert len(receiver.requests) == 1
    with clock_at(MONDAY + timedelta(minutes=1)):
        assert webhooks.deliver() == 0  # a redirect is not followed: tried again later
    db.session.refresh(delivery)
    assert delivery.response_code == 302 and delivery.due == MONDAY + timedelta(minutes=3)
    with clock_at(MONDAY + timedelta(minutes=3)):
        assert webhooks.deliver() == 1
        assert webhooks.deliver() == 0
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.error) == ("delivered", 3, "")
    bodies = {body for _, _, body in receiver.requests}
    assert len(bodies) == 1  # the same body each time, written when the change was


def test_a_receiver_that_is_down_is_retried_then_given_up(app, people, monkeypatch):
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 3)
    port = free_port()
    hook(f"http://127.0.0.1:{port}/hook")
    with clock_at(MONDAY):
        make_ticket(people["alice"], site=people["site"])
        assert webhooks.deliver() == 0
    (delivery,) = deliveries()
    assert delivery.status == "pending" and delivery.response_code is None
    assert "ConnectionRefusedError" in delivery.error
    receiver = Receiver(port, answers=(503,))
    try:
        with clock_at(MONDAY + timedelta(minutes=1)):
            assert webhooks.deliver() == 0
        receiver.stop()
        with clock_at(MONDAY + timedelta(minutes=3)):
            assert webhooks.deliver() == 0
        with clock_at(MONDAY + timedelta(days=1)):
            assert webhooks.deliver() == 0  # given up: not tried again
    finally:
        receiver.stop()
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert [status for status, _, _ in receiver.requests] == [503]


def test_exactly_once_with_two_workers_at_a_time(receiver, app, monkeypatch):
    """Two workers deliver side by side in small batches: every delivery reaches the
    receiver once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time)."""
    monkeypatch.setattr(webhooks, "BATCH", 3)
    author, staff = make_user("author"), make_user("staff1", role="staff")
    site = make_site("Busy", author)
    hook(receiver.url)
    hook(receiver.url + "?site", site=site)
    for n in range(6):
        ticket = make_ticket(author, site=site, summary=f"Problem {n}")
        services.comment(actor=staff, ticket=ticket, body="Looking.")
    expected = {d.id for d in deliveries()}
    assert len(expected) == 6 * 2 * 2
    db.session.commit()
    deliver_side_by_side(app, webhooks.deliver)
    sent = [int(headers["X-Tessera-Delivery"]) for headers, _ in receiver.accepted]
    assert sorted(sent) == sorted(expected)  # each one, once
    db.session.expire_all()
    assert {d.status for d in deliveries()} == {"delivered"}


def admin_client(app, username: str = "ada"):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def test_admins_register_a_webhook_and_see_its_secret_and_delivery_log(
    app, receiver, people, monkeypatch
):
    client = admin_client(app)
    token = csrf_token(client, "/admin/webhooks")
    empty_form = client.get("/admin/webhooks").text
    assert empty_form.count('type="checkbox"') == 3 and empty_form.count("checked") == 3
    refused = client.post("/admin/webhooks", data={"csrf_token": token, "url": "ftp://x.example",
                                                   "events": ["created"]})  # fmt: skip
    assert refused.status_code == 422 and "Give an http:// or https:// address." in refused.text
    form = {"csrf_token": token, "url": receiver.url, "site": str(people["site"].id),
            "events": ["created", "commented"]}  # fmt: skip
    response = client.post("/admin/webhooks", data=form)
    assert response.status_code == 303
    webhook = db.session.scalar(sa.select(Webhook))
    assert (webhook.site_id, webhook.events) == (people["site"].id, "created,commented")
    assert len(webhook.secret) == 64
    ticket = make_ticket(people["alice"], site=people["site"])
    receiver.answers = [500]
    services.comment(actor=people["alice"], ticket=ticket, body="Hello?")
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 1)
    webhooks.deliver()
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.text
    assert webhook.secret in html and receiver.url in html and "Webshop" in html
    assert html.count('class="delivery-delivered"') == 1
    assert html.count('class="delivery-failed"') == 1 and "HTTP 500" in html
    assert f"#{ticket.id}" in html
    listing = client.get("/admin/webhooks").text
    assert receiver.url in listing and "Ticket created, Ticket commented" in listing
    actions = db.session.scalars(sa.select(AdminAction.action)).all()
    assert actions == ["create webhook"]


def test_a_deactivated_webhook_is_told_nothing_more(app, receiver, people):
    webhook = hook(receiver.url)
    make_ticket(people["alice"], site=people["site"])
    client = admin_client(app)
    url = f"/admin/webhooks/{webhook.id}/deactivate"
    response = client.post(url, data={"csrf_token": csrf_token(client, "/admin/webhooks")})
    assert response.status_code == 303
    make_ticket(people["alice"], site=people["site"])
    assert webhooks.deliver() == 0 and receiver.requests == []
    assert len(deliveries()) == 1  # from before; never sent
    assert db.session.scalars(sa.select(AdminAction.action)).all() == ["deactivate webhook"]


@pytest.mark.parametrize("username", ["alice", "sam"])
def test_only_admins_see_or_change_webhooks(app, people, username):
    webhook = hook("https://all.example.com/")
    client = admin_client(app, username)
    token = csrf_token(client, "/")
    assert client.get("/admin/webhooks").status_code == 403
    assert client.get(f"/admin/webhooks/{webhook.id}").status_code == 403
    form = {"csrf_token": token, "url": "https://evil.example.com/", "events": ["created"]}
    assert client.post("/admin/webhooks", data=form).status_code == 403
    deactivate = client.post(f"/admin/webhooks/{webhook.id}/deactivate", data={"csrf_token": token})
    assert deactivate.status_code == 403
    db.session.refresh(webhook)
    assert webhook.active and db.session.scalar(sa.select(sa.func.count(Webhook.id))) == 1


def test_a_webhook_added_while_a_worker_runs_hears_of_the_next_change(app, people):
    """A worker lives in one app context and starts each round with a fresh session; the
    webhooks kept between setup changes are read again once an admin added one."""
    sam, ticket = people["sam"].id, make_ticket(people["alice"], site=people["site"]).id
    first = hook("https://first.example.com/").id
    db.session.remove()  # a round starts
    services.take(actor=db.session.get(User, sam), ticket=db.session.get(Ticket, ticket))
    db.session.remove()  # the round ends
    second = hook("https://second.example.com/").id  # as an admin would, elsewhere
    db.session.remove()
    services.change_state(
        actor=db.session.get(User, sam), ticket=db.session.get(Ticket, ticket), state="working"
    )
    states = [d for d in deliveries(event="changed") if '"working"' in d.payload]
    assert {d.webhook_id for d in states} == {first, second}
