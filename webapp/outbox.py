"""The outbox: rows that the worker delivers after the transaction that wrote them, never
inside a request. A worker claims due rows by taking a lease on them (PostgreSQL skips rows
another worker is claiming at that moment: ``FOR UPDATE SKIP LOCKED``), delivers them with
no transaction open, then settles each: delivered, or due again later with a growing pause,
or given up. Two workers never hold the same row; a worker that dies leaves its lease to
run out, and the rows become due again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from .extensions import db
from .models import Outbox, utcnow

LEASE = timedelta(minutes=5)
# A pause of 1, 2, 4 … minutes, at most an hour, between tries: about 7 hours in all.
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(hours=1)
MAX_ATTEMPTS = 12


def claim(model: type[Outbox], ready: Any, limit: int | None = None) -> list[int]:
    """Lease the due rows of ``model`` that match ``ready`` (at most ``limit``) to this
    worker and commit; returns their ids. Each claim counts as an attempt."""
    now = utcnow()
    free = sa.or_(model.lease.is_(None), model.lease < now)
    chosen = (
        sa.select(model.id)
        .where(ready, model.due <= now, free)
        .order_by(model.due, model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = db.session.scalars(
        sa.update(model)
        .where(model.id.in_(chosen.scalar_subquery()))
        .values(lease=now + LEASE, attempts=model.attempts + 1)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def settle(row: Outbox, error: str | None) -> bool:
    """Record how delivering ``row`` went; True when it is done with (delivered, or
    tried MAX_ATTEMPTS times). The caller commits."""
    now = utcnow()
    row.lease = None
    if error is None:
        row.delivered, row.error = now, ""
        return True
    row.error = error[:500]
    if row.attempts >= MAX_ATTEMPTS:
        return True
    row.due = now + pause_after(row.attempts)
    return False


def pause_after(attempts: int) -> timedelta:
    return min(FIRST_PAUSE * 2 ** max(attempts - 1, 0), LONGEST_PAUSE)
