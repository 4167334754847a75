"""Webhooks: admins register URLs that are told of ticket changes on a site (or on all
sites). Each change a webhook wants becomes a ``WebhookDelivery`` in the change's own
transaction, its JSON body written there and then; the worker posts it later through the
outbox, signed with HMAC-SHA256 of the body under the webhook's secret
(``X-Tessera-Signature: sha256=<hex>``), and retries until the receiver answers 2xx.
Private and deleted tickets are never sent out."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, joinedload

from . import monitor, notify, outbox, stamps
from .exceptions import Invalid
from .extensions import db
from .i18n import gettext as _
from .models import (
    Change,
    Site,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookState,
)
from .notify_mail import external_url

BATCH = 20
TIMEOUT = 10  # seconds a receiver has to answer
LOG_SIZE = 50
SIGNATURE_HEADER = "X-Tessera-Signature"


def event_of(change: Change) -> str:
    if change.kind == "created":
        return WebhookEvent.CREATED.value
    if change.kind == "comment":
        return WebhookEvent.COMMENTED.value
    return WebhookEvent.CHANGED.value


@event.listens_for(Session, "before_commit")
def _enqueue_recorded(session: Session) -> None:
    changes = monitor.take_recorded(session)
    if changes:
        session.flush()  # every id known: a new ticket's author, a new change's own
        enqueue(session, changes)


def enqueue(session: Session, changes: list[Change]) -> None:
    """Add a delivery for every active webhook that wants one of ``changes`` (just before
    their transaction commits, so they are written together or not at all)."""
    shared = [c for c in changes if c.ticket.deleted is None and not c.ticket.private]
    if not shared:
        return
    for change in shared:
        event = event_of(change)
        for hook in active():
            if hook.site_id not in (None, change.ticket.site_id) or event not in hook.events:
                continue
            session.add(
                WebhookDelivery(
                    webhook_id=hook.id, change=change, event=event,
                    payload=payload(change, event), due=change.created, created=change.created,
                )
            )  # fmt: skip


class _Hook(NamedTuple):
    id: int
    site_id: int | None
    events: tuple[str, ...]


def active() -> tuple[_Hook, ...]:
    """The active webhooks, as plain rows, kept by the process until setup changes
    (stamps.keep)."""
    return stamps.keep("webhooks", _read_active)


def _read_active() -> tuple[_Hook, ...]:
    rows = db.session.execute(
        sa.select(Webhook.id, Webhook.site_id, Webhook.events).where(Webhook.active)
    )
    return tuple(_Hook(i, site, tuple(Webhook.parse_events(events))) for i, site, events in rows)


def payload(change: Change, event: str) -> str:
    """The JSON body of a delivery: the ticket as the change left it, and the change."""
    ticket = change.ticket
    body = {
        "event": event,
        "ticket": {
            "id": ticket.id,
            "summary": ticket.summary,
            "state": ticket.state,
            "priority": ticket.priority,
            "site": {"id": ticket.site.id, "name": ticket.site.name} if ticket.site else None,
            "assignee": ticket.assignee.username if ticket.assignee else None,
            "url": external_url(
                "tickets.detail", ticket_id=ticket.id, _anchor=notify.anchor(change)
            ),
        },
        "change": {
            "id": change.id,
            "kind": change.kind,
            "actor": change.actor.username if change.actor else None,
            "time": change.created.isoformat(),
            "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in change.fields],
        },
    }
    if change.kind == "comment" and change.comment is not None:
        body["comment"] = {"id": change.comment.id, "body": change.comment.body}
    return json.dumps(body, ensure_ascii=False, sort_keys=True)


def sign(secret: str, body: bytes) -> str:
    """The X-Tessera-Signature header's value: a receiver computes the same and compares
    (in constant time) to know the body came from here, unchanged."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outgoing:
    """What one POST needs, copied out of the session so no transaction stays open."""

    id: int
    url: str
    secret: str
    event: str
    body: bytes


def deliver() -> int:
    """Post the due deliveries of active webhooks and settle each; returns how many the
    receivers accepted."""
    active = sa.select(Webhook.id).where(Webhook.active)
    ready = sa.and_(
        WebhookDelivery.status == WebhookState.PENDING.value,
        WebhookDelivery.webhook_id.in_(active),
    )
    ids = outbox.claim(WebhookDelivery, ready, BATCH)
    if not ids:
        return 0
    rows = db.session.scalars(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.id)  # in the order of the changes
        .options(joinedload(WebhookDelivery.webhook))
    ).all()
    outgoing = [Outgoing(r.id, r.webhook.url, r.webhook.secret, r.event, r.payload.encode())
                for r in rows]  # fmt: skip
    db.session.commit()  # nothing held while the receivers take their time
    results = {item.id: post(item) for item in outgoing}
    accepted = 0
    for row in db.session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))):
        code, error = results[row.id]
        row.response_code = code
        if outbox.settle(row, error):
            row.status = (WebhookState.DELIVERED if error is None else WebhookState.FAILED).value
        accepted += error is None
    db.session.commit()
    return accepted


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx: retried, never followed (a POST would
    silently become a GET)."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(item: Outgoing) -> tuple[int | None, str | None]:
    """POST one delivery; its HTTP status (None when there was no answer) and the error
    (None when the receiver accepted it with a 2xx)."""
    request = urllib.request.Request(
        item.url,
        data=item.body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Tessera-Webhooks",
            "X-Tessera-Event": item.event,
            "X-Tessera-Delivery": str(item.id),
            SIGNATURE_HEADER: sign(item.secret, item.body),
        },
    )
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            code = response.status
    except urllib.error.HTTPError as e:
        e.close()
        return e.code, f"HTTP {e.code}"
    except (OSError, ValueError) as e:  # refused, unreachable, timed out, bad address
        reason = e.reason if isinstance(e, urllib.error.URLError) else e
        return None, f"{type(reason).__name__}: {reason}"
    return (code, None) if 200 <= code < 300 else (code, f"HTTP {code}")


# -- What admins do (administration.py checks and records it) ----------------------------


def create(*, url: str, site: Site | None, events: list[str]) -> Webhook:
    """A new active webhook with a random secret. The caller commits."""
    url = url.strip()
    parts = urlsplit(url)
    fields = {}
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        fields["url"] = _("Give an http:// or https:// address.")
    known = [e.value for e in WebhookEvent]
    if not events or set(events) - set(known):
        fields["events"] = _("Choose at least one event.")
    if fields:
        raise Invalid(_("Please correct the marked fields."), fields=fields)
    webhook = Webhook(url=url, site=site, events=",".join(e for e in known if e in events))
    db.session.add(webhook)
    return webhook


def deliveries(webhook: Webhook, limit: int = LOG_SIZE) -> list[WebhookDelivery]:
    """The webhook's latest deliveries, newest first: its delivery log."""
    query = (
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
        .options(joinedload(WebhookDelivery.change))
    )
    return list(db.session.scalars(query))
