"""The worker: ``flask --app webapp worker`` runs until stopped (SIGTERM or Ctrl-C) and,
every WORKER_INTERVAL seconds, mails due notifications and digests, closes solved tickets
whose time is up, deletes notifications read long ago and sign-ins unused for long, and
posts due webhooks. Any number may run against PostgreSQL; on SQLite one is enough."""

from __future__ import annotations

import signal
import threading

from flask import current_app

from . import accounts, notify, notify_mail, services, webhooks
from .extensions import db


def run_once() -> dict[str, int]:
    """One round; returns what it did."""
    return {
        "mailed": notify_mail.deliver_pending(),
        "in digests": notify_mail.deliver_digests(),
        "closed": len(services.autoclose()),
        "old notifications deleted": notify.forget_old(),
        "webhooks": webhooks.deliver(),
        "expired sign-ins deleted": accounts.forget_expired_sessions(),
    }


def run(interval: float | None = None) -> None:
    """Rounds until SIGTERM or SIGINT; a round that found work is followed at once by the
    next, and a failing round (database down) is logged and tried again later."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    pause = interval if interval is not None else current_app.config["WORKER_INTERVAL"]
    log = current_app.logger
    log.info("worker started, a round every %s s", pause)
    while not stop.is_set():
        try:
            done = run_once()
        except Exception:
            log.exception("worker round failed; trying again in %s s", pause)
            done = {}
        finally:
            db.session.remove()  # each round starts from a fresh session
        if any(done.values()):
            log.info("worker: %s", ", ".join(f"{v} {k}" for k, v in done.items() if v))
        else:
            stop.wait(pause)
    log.info("worker stopped")
