"""Benchmark data sets, shared by bench/lists.py and bench/run.py: a fresh database per
backend, built by the documented commands (the migrations, then ``generate-data``), and
the machine the figures were measured on."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
COMMENTS_PER_TICKET = 3
FLASK = [sys.executable, "-m", "flask", "--app", "webapp"]


def database(backend: str, tickets: int, workdir: Path) -> str:
    """The URL of a new, empty database for ``tickets`` tickets on ``backend``."""
    if backend == "sqlite":
        path = workdir / f"bench-{tickets}.sqlite3"
        for leftover in workdir.glob(f"{path.name}*"):
            leftover.unlink()
        return f"sqlite:///{path}"
    name = f"tessera_bench_{tickets}"
    admin = sa.create_engine(_postgresql_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return _postgresql_url(name)


def left_over(tickets: int) -> str | None:
    """The URL of the PostgreSQL database an earlier run built for ``tickets`` tickets, if
    it is there whole (its history ticket included) and still has new tickets to take
    (at 10,000 tickets a run's take scenario takes every one), else None. It is migrated
    to this code's schema first (an older run's database lacks the newer indexes), and
    vacuumed."""
    url = _postgresql_url(f"tessera_bench_{tickets}")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            count = c.exec_driver_sql("SELECT count(*) FROM tickets").scalar()
            longest = c.exec_driver_sql(
                "SELECT count(*) FROM changes GROUP BY ticket_id ORDER BY 1 DESC LIMIT 1"
            ).scalar()
            to_take = c.exec_driver_sql(
                "SELECT count(*) FROM tickets WHERE state = 'new' AND assignee_id IS NULL"
            ).scalar()
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()
    if not (count >= tickets * 0.99 and longest and longest > 10_000 and to_take >= 100):
        return None
    _migrate(url)
    _vacuum(url)
    return url


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE, as generate-data ends: an earlier run's writes left dead rows and
    pages an index-only scan must check in the table, and a PostgreSQL without autovacuum
    (this machine's) would measure them."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    finally:
        engine.dispose()


def _postgresql_url(name: str) -> str:
    url = sa.make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/test"))
    return url.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    )


def environment(url: str) -> dict[str, str]:
    """What a Tessera process needs to run on the benchmark database."""
    return {**os.environ, "DATABASE_URL": url, "TESSERA_SECRET_KEY": "bench"}


def build(backend: str, tickets: int, workdir: Path) -> str:
    """A fresh database with ``tickets`` generated tickets (3 comments each); its URL.

    The data is made by the documented commands, in processes of their own, so that a
    measuring process starts as a server would: with nothing but the app in memory."""
    url = database(backend, tickets, workdir)
    _migrate(url)
    started = time.perf_counter()
    subprocess.run(
        [*FLASK, "generate-data", "--tickets", str(tickets),
         "--comments-per-ticket", str(COMMENTS_PER_TICKET)],
        env=environment(url), cwd=ROOT, check=True,
    )  # fmt: skip
    print(f"{backend}: generated {tickets:,} tickets in {time.perf_counter() - started:.0f} s")
    return url


def _migrate(url: str) -> None:
    subprocess.run([*FLASK, "db", "upgrade"], env=environment(url), cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip


def long_history(url: str, changes: int) -> None:
    """Give one ticket ``changes`` more changes (state moves, one field each), written in
    bulk as generate-data writes its rows. The ticket is the first one not deleted."""
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Change, Ticket

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        ticket = db.session.scalar(
            sa.select(Ticket).where(Ticket.deleted.is_(None)).order_by(Ticket.id).limit(1)
        )
        actor = ticket.author_id
        change_id = db.session.scalar(sa.select(sa.func.max(Change.id))) + 1
        moment, version, state = ticket.modified, ticket.version, ticket.state
        rows = []
        for n in range(changes):
            new = "working" if state != "working" else "opened"
            moment += timedelta(minutes=1)
            version += 1
            rows.append({"id": change_id + n, "ticket_id": ticket.id, "actor_id": actor,
                         "kind": "state", "comment_id": None, "created": moment,
                         "version": version,
                         "fields": [("state", state, new)]})  # fmt: skip
            state = new
        for start in range(0, changes, 5000):
            db.session.execute(sa.insert(Change.__table__), rows[start : start + 5000])
        db.session.execute(
            sa.update(Ticket.__table__)
            .where(Ticket.__table__.c.id == ticket.id)
            .values(state=state, version=version, modified=moment, state_since=moment)
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('changes', 'id'), "
                "(SELECT max(id) FROM changes))"
            ))  # fmt: skip
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def counted(engine: sa.Engine) -> list[str]:
    """The statements the engine runs from now on, as a list it keeps filling (emptied by
    the caller between requests)."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's transaction start, not a query
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    return statements


def write_section(marker: str, section: str) -> None:
    """Replace the part of docs/performance.md between two ``marker`` lines."""
    doc = ROOT / "docs" / "performance.md"
    text = doc.read_text()
    start, end = text.index(marker), text.rindex(marker) + len(marker)
    doc.write_text(text[:start] + section + text[end:])


def command_line(
    script: str, doc: str, tickets: int, rounds: int, run, table, marker: str, least: int = 1
):
    """The command line of an in-process benchmark (bench/lists.py, bench/catch_up.py):
    ``run(backend, tickets, rounds, workdir)`` on each backend asked for, then its
    ``table``, printed and, with ``--write``, put in docs/performance.md. ``least``: the
    fewest rounds its figures can be worked out from."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=tickets)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    if args.rounds < least:
        parser.error(f"--rounds must be at least {least}")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for backend in backends:
            results += run(backend, args.tickets, args.rounds, Path(workdir))
    command = f"python bench/{script} " + " ".join(sys.argv[1:])
    section = table(results, args.tickets, command.strip())
    print(section)
    if args.write:
        write_section(marker, section)
