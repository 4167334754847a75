"""Sending e-mail through the SMTP server of the settings (``MAIL_*``), with the standard
library only. One connection carries a batch; each message's outcome is reported."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

from . import current


def enabled() -> bool:
    return bool(current.config()["MAIL_SERVER"])


def send(messages: list[EmailMessage]) -> list[str | None]:
    """Send the messages over one connection; for each, None when the server accepted it,
    else what went wrong. A server that cannot be reached fails all of them."""
    results: list[str | None] = []
    failure = None
    cfg = current_app.config
    try:
        server = cfg["MAIL_SERVER"], cfg["MAIL_PORT"]
        with smtplib.SMTP(*server, timeout=cfg["MAIL_TIMEOUT"]) as smtp:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
            for message in messages:
                try:
                    smtp.send_message(message)
                except (
                    smtplib.SMTPRecipientsRefused,
                    smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError,
                ) as e:
                    results.append(_describe(e))
                else:
                    results.append(None)
    except (OSError, smtplib.SMTPException) as e:
        failure = _describe(e)
        current_app.logger.warning("mail server %s: %s", cfg["MAIL_SERVER"], failure)
    return results + [failure] * (len(messages) - len(results))


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
