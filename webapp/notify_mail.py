"""Notifications by e-mail: what a mail says, and the worker's two deliveries — each
notification on its own as soon as possible, and the daily digests. Mails are written in
the recipient's language and timezone, as plain text with an HTML alternative, and link to
the ticket at the change (``BASE_URL``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from sqlalchemy.orm import joinedload

from . import i18n, mailer, markup, notify, outbox, services
from .extensions import db
from .models import MAIL_WAITING, Change, MailState, Notification, User, utcnow

BATCH = 50
DIGEST_RECIPIENTS = 20


@dataclass
class MailItem:
    headline: str
    when: str
    lines: list
    comment: str
    comment_html: str
    url: str
    # For the author of a solved ticket: until when they can reopen it.
    closes: str


def deliver_pending() -> int:
    """Mail the notifications due on their own; returns how many were sent."""
    pending = sa.and_(MAIL_WAITING, Notification.mail == MailState.PENDING.value)
    ids = outbox.claim(Notification, pending, BATCH)
    return _deliver([[note] for note in _load(ids)])


def deliver_digests() -> int:
    """Mail each recipient whose digest is due one mail with all their waiting
    notifications; returns how many notifications went out."""
    due = sa.and_(
        MAIL_WAITING, Notification.mail == MailState.DIGEST.value, Notification.due <= utcnow()
    )
    recipients = db.session.scalars(
        sa.select(Notification.recipient_id)
        .where(due, sa.or_(Notification.lease.is_(None), Notification.lease < utcnow()))
        .group_by(Notification.recipient_id)
        .limit(DIGEST_RECIPIENTS)
    ).all()
    db.session.rollback()
    groups = []
    for recipient in recipients:
        claimed = outbox.claim(Notification, sa.and_(due, Notification.recipient_id == recipient))
        if claimed:
            groups.append(_load(claimed))
    return _deliver(groups)


def _deliver(groups: list[list[Notification]]) -> int:
    """Send one mail per group of notifications (all for one recipient) and settle them."""
    if not groups:
        return 0
    messages = [compose(group) for group in groups]
    results = mailer.send(messages)
    sent = 0
    for group, error in zip(groups, results, strict=True):
        for note in group:
            if outbox.settle(note, error):
                note.mail = MailState.SENT.value if error is None else MailState.FAILED.value
        sent += len(group) if error is None else 0
    db.session.commit()
    return sent


def _load(ids: list[int]) -> list[Notification]:
    if not ids:
        return []
    query = (
        sa.select(Notification)
        .where(Notification.id.in_(ids))
        .order_by(Notification.id)
        .options(
            joinedload(Notification.recipient),
            joinedload(Notification.ticket),
            joinedload(Notification.change).options(
                joinedload(Change.actor), joinedload(Change.comment)
            ),
        )
    )
    return list(db.session.scalars(query).unique())


def compose(notes: list[Notification]) -> EmailMessage:
    """One mail to one recipient about one notification, or a digest of several."""
    recipient = notes[0].recipient
    with force_locale(recipient.language):
        return _compose(recipient, notes)


def _compose(recipient: User, notes: list[Notification]) -> EmailMessage:
    wf = services.current_workflow()
    mail_items = [_item(item, recipient) for item in notify.items(notes, wf)]
    site = current_app.config["SITE_NAME"]
    if len(mail_items) == 1:
        subject = f"[{site}] {mail_items[0].headline}"
    else:
        subject = f"[{site}] " + ngettext(
            "%(num)d notification", "%(num)d notifications", len(mail_items)
        )
    context = {
        "recipient": recipient,
        "items": mail_items,
        "settings_url": external_url("auth.settings"),
        "site_name": site,
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((recipient.name, recipient.email))
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain=_mail_domain())
    message["Auto-Submitted"] = "auto-generated"
    message["X-Tessera-Notifications"] = ",".join(str(n.id) for n in notes)
    message.set_content(render_template("mail/notifications.txt", **context))
    message.add_alternative(render_template("mail/notifications.html", **context), subtype="html")
    return message


def _item(item: notify.Item, recipient: User) -> MailItem:
    note, change = item.notification, item.notification.change
    comment = change.comment.body if change.kind == "comment" and change.comment else ""
    lines = [line for line in item.entry.lines if change.kind != "created" or line.field == "state"]
    return MailItem(
        headline=item.headline,
        when=_local(change.created, recipient),
        lines=lines,
        comment=comment,
        comment_html=markup.render(comment) if comment else "",
        url=external_url("tickets.detail", ticket_id=note.ticket_id, _anchor=notify.anchor(change)),
        closes=_local(item.closes, recipient) if item.closes else "",
    )


def external_url(endpoint: str, _anchor: str | None = None, **values) -> str:
    """An absolute link for a mail, under BASE_URL (there is no request to build it from)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{_anchor}" if _anchor else url


def _local(moment: datetime, user: User) -> str:
    """A moment as the recipient reads it: their language, their timezone, named."""
    local = i18n.format_moment(moment, user.zone, user.language)
    return f"{local} {moment.astimezone(user.zone).tzname()}"


def _mail_domain() -> str:
    address = current_app.config["MAIL_FROM"]
    return address.rpartition("@")[2].strip("> ") or "localhost"
