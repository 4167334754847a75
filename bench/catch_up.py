"""Benchmark of what a subscriber's look costs: their bell's refresh when changes were
made since their notifications were last written (``notify.catch_up``).

    .venv/bin/python bench/catch_up.py [--tickets 10000] [--backend sqlite|postgresql|both]

Builds a fresh database per backend (bench/dataset.py), signs in as a staff member who
follows some of the sites (``gen-staff-0``), and for each backlog (changes made by
someone else across all the tickets since the bell last refreshed) requests the bell
in-process through the Flask test client, putting the backlog back between rounds. It
reports the median server time, the notifications written and the SQL statements. With
``--write`` the table replaces its section of docs/performance.md.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import build, command_line, machine  # noqa: E402
from bench.lists import signed_in  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Change, Notification, NotificationCursor, Ticket, User  # noqa: E402

BACKLOGS = (0, 10, 100, 1_000, 10_000)
MARKER = "<!-- bench/catch_up.py -->"


def made_by_someone_else(changes: int, actor: int) -> None:
    """``changes`` state moves on tickets drawn at random, written in bulk, made now."""
    tickets = db.session.scalars(sa.select(Ticket.id).where(Ticket.deleted.is_(None))).all()
    first = (db.session.scalar(sa.select(sa.func.max(Change.id))) or 0) + 1
    now = datetime.now(UTC)
    rng = random.Random(changes)
    rows = [{"id": first + n, "ticket_id": rng.choice(tickets), "actor_id": actor,
             "kind": "state", "comment_id": None, "created": now, "version": 1,
             "fields": [("state", "opened", "working")]} for n in range(changes)]  # fmt: skip
    for start in range(0, changes, 5000):
        db.session.execute(sa.insert(Change.__table__), rows[start : start + 5000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence('changes', 'id'), (SELECT max(id) FROM changes))"
        ))  # fmt: skip
        db.session.commit()


def behind_by(me: int, changes: int) -> None:
    """The subscriber's notifications as they were before the newest ``changes``."""
    newest = db.session.scalar(sa.select(sa.func.max(Change.id)))
    db.session.execute(
        sa.delete(Notification).where(
            Notification.recipient_id == me, Notification.change_id > newest - changes
        )
    )
    db.session.execute(
        sa.update(NotificationCursor)
        .where(NotificationCursor.user_id == me)
        .values(through=newest - changes, caught_up=datetime.now(UTC))
    )
    db.session.commit()


def run(backend: str, tickets: int, rounds: int, workdir: Path) -> list[tuple]:
    url = build(backend, tickets, workdir)
    app, client = signed_in(url)
    statements = []
    with app.app_context():  # each request below has an app context (and session) of its own
        me = db.session.scalar(sa.select(User.id).where(User.username == "gen-staff-0"))
        other = db.session.scalar(sa.select(User.id).where(User.username == "gen-staff-1"))
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
    client.get("/notifications/bell")  # the cursor where the data left it
    mine = sa.select(sa.func.count()).where(Notification.recipient_id == me)
    results = []
    for backlog in BACKLOGS:
        with app.app_context():
            made_by_someone_else(backlog, other)
        times, written = [], 0
        for _ in range(rounds):
            with app.app_context():
                behind_by(me, backlog)
                before = db.session.scalar(mine)
            statements.clear()
            started = time.perf_counter()
            response = client.get("/notifications/bell")
            times.append((time.perf_counter() - started) * 1000)
            count = len(statements)
            assert response.status_code == 200, response.status_code
            with app.app_context():
                written = db.session.scalar(mine) - before
        results.append((backend, backlog, written, statistics.median(times), max(times), count))
        print(f"{backend:10} behind by {backlog:>6,} changes: {written:>5,} written, "
              f"median {statistics.median(times):7.1f} ms, max {max(times):7.1f} ms, "
              f"{count} SQL")  # fmt: skip
    with app.app_context():
        db.engine.dispose()
    return results


def table(results: list[tuple], tickets: int, command: str) -> str:
    lines = [
        MARKER,
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}, {tickets:,} tickets, "
        f"`{command}`: the bell's refresh of `gen-staff-0` (who follows some of the 12 "
        "sites) after changes by someone else on tickets drawn at random, in-process.",
        "",
        "| backend | changes since the last look | notifications written | median ms | "
        "max ms | SQL |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend, backlog, written, median, most, count in results:
        lines.append(f"| {backend} | {backlog:,} | {written:,} | {median:.1f} | {most:.1f} "
                     f"| {count} |")  # fmt: skip
    lines.append(MARKER)
    return "\n".join(lines)


def main() -> None:
    command_line("catch_up.py", __doc__, 10_000, 9, run, table, MARKER)


if __name__ == "__main__":
    main()
