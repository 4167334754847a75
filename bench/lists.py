"""Benchmark of the ticket lists at scale: server time and SQL statements per page.

    .venv/bin/python bench/lists.py --tickets 100000 [--backend sqlite|postgresql|both]

Builds a fresh database per backend (migrations, then ``generate-data`` with 3 comments
per ticket), then requests every tab and the main filters in-process through the Flask
test client, signed in as a staff member, and reports the median and 95th percentile of
the server time and the number of SQL statements. With ``--write`` the table replaces
the lists section of docs/performance.md.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import build, command_line, counted, machine  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.generate import VOCABULARY  # noqa: E402

SCENARIOS = [
    ("tab: To triage", "/tickets/?tab=triage"),
    ("tab: My work", "/tickets/?tab=work"),
    ("tab: Unassigned", "/tickets/?tab=unassigned"),
    ("tab: Needing my feedback", "/tickets/?tab=feedback"),
    ("tab: Active", "/tickets/?tab=active"),
    ("tab: With reference", "/tickets/?tab=ref"),
    ("tab: All", "/tickets/?tab=all"),
    ("filter: site + state", "/tickets/?tab=all&site=3&state=opened"),
    ("filter: priority, nobody assigned", "/tickets/?tab=active&priority=40&assignee=none"),
    ("filter: created in a month, sorted by change",
     "/tickets/?tab=all&created_from=2026-01-01&created_to=2026-01-31&sort=-modified"),
    ("htmx: results only, All", "/tickets/?tab=all&__htmx"),
    ("search: common word (16% of tickets)", "/tickets/?tab=all&q=printer"),
    (f"search: mid word ({VOCABULARY[100]})", f"/tickets/?tab=all&q={VOCABULARY[100]}"),
    (f"search: rare word ({VOCABULARY[600]})", f"/tickets/?tab=all&q={VOCABULARY[600]}"),
    ("search: two words, active", f"/tickets/?tab=active&q=printer+{VOCABULARY[100]}"),
]  # fmt: skip
PAGE_TARGET_MS, SEARCH_TARGET_MS = 20, 50
MARKER = "<!-- bench/lists.py -->"


def signed_in(url: str, **config):
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", **config})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"username": "gen-staff-0", "password": "demo", "csrf_token": token})
    return app, client


def htmx_headers(client) -> dict[str, str]:
    """What htmx sends with a signed-in page's requests: its CSRF token among them."""
    page = client.get("/tickets/?tab=all").get_data(as_text=True)
    return {"HX-Request": "true", "X-CSRFToken": page.split('"X-CSRFToken": "')[1].split('"')[0]}


def run(backend: str, tickets: int, rounds: int, workdir: Path) -> list[tuple]:
    url = build(backend, tickets, workdir)
    # Every request draws its page anew: kept pages would answer the repeated requests
    # (bench/run.py measures those, and after_change the usual case in between).
    app, client = signed_in(url, PAGE_CACHE_BYTES=0)
    with app.app_context():
        statements = counted(db.engine)
    results = []
    for label, path in SCENARIOS:
        headers = {"HX-Request": "true"} if "__htmx" in path else {}
        path = path.replace("&__htmx", "")
        times = []
        for i in range(rounds + 3):
            statements.clear()
            t0 = time.perf_counter()
            response = client.get(path, headers=headers)
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if i >= 3:
                times.append(elapsed)
        target = SEARCH_TARGET_MS if "q=" in path else PAGE_TARGET_MS
        median = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[-1]
        results.append((backend, label, median, p95, len(statements), target))
        print(f"{backend:10} {label:46} {median:7.1f} ms  p95 {p95:7.1f} ms  {len(statements)} SQL")
    results.append(after_change(backend, url, rounds))
    return results


def after_change(backend: str, url: str, rounds: int) -> tuple:
    """The All tab right after someone moved a ticket elsewhere in the list, with kept
    pieces on (the default): the page and the moved ticket's row are drawn anew, the
    other rows and the filter form come as kept."""
    app, client = signed_in(url)
    headers = htmx_headers(client)
    engine = sa.create_engine(url)
    with engine.connect() as c:
        ids = (
            c.exec_driver_sql(
                "SELECT id FROM tickets WHERE deleted IS NULL AND state = 'opened' "
                f"AND assignee_id IS NOT NULL ORDER BY id LIMIT {rounds + 3}"
            )
            .scalars()
            .all()
        )
    engine.dispose()
    times = []
    for state in ("working", "opened"):
        for i, ticket in enumerate(ids):
            moved = client.post(f"/tickets/{ticket}/state?as=row", data={"state": state},
                                headers=headers)  # fmt: skip
            assert moved.status_code == 200, moved.status_code
            t0 = time.perf_counter()
            assert client.get("/tickets/?tab=all").status_code == 200
            if state == "working" and i >= 3:
                times.append((time.perf_counter() - t0) * 1000)
    median, p95 = statistics.median(times), statistics.quantiles(times, n=20)[-1]
    label = "after a change elsewhere: tab All (kept rows and filter form)"
    print(f"{backend:10} {label:46} {median:7.1f} ms  p95 {p95:7.1f} ms")
    return (backend, label, median, p95, "", PAGE_TARGET_MS)


def table(results: list[tuple], tickets: int, command: str) -> str:
    lines = [
        MARKER,
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, with {tickets:,} tickets "
        f"(3 comments each), by `{command}`. Server time is measured in-process "
        "(request in, response out: routing, session, SQL, rendering), median and 95th "
        "percentile of 20 requests after 3 warm-up requests, each page drawn anew (no kept "
        "pages or pieces), but the last line's.",
        "",
        "| backend | page | median | p95 | SQL statements | target |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for backend, label, median, p95, count, target in results:
        mark = "" if median <= target else " (over)"
        lines.append(
            f"| {backend} | {label} | {median:.1f} ms{mark} | {p95:.1f} ms | {count} "
            f"| {target} ms |"
        )
    lines.append(MARKER)
    return "\n".join(lines)


def main() -> None:
    # A 95th percentile needs two times at least.
    command_line("lists.py", __doc__, 100_000, 20, run, table, MARKER, least=2)


if __name__ == "__main__":
    main()
