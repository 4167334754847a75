"""Instructions a request costs, counted by callgrind: the steadiest figure for a change's
before and after on a shared machine (wrk's runs move by a fifth; two counts of the same
code agree to a fraction of a per cent).

    .venv/bin/python bench/instructions.py [--database-url URL] [--tickets 10000]
                                           [--requests 50] [scenario ...]

Without ``--database-url`` it builds a fresh PostgreSQL database of ``--tickets`` tickets
(bench/dataset.py, as bench/lists.py does). Each scenario runs in a process of its own
under ``valgrind --tool=callgrind --instr-atstart=no``: it signs in as a staff member
through the Flask test client, sends fifty requests unmeasured (the templates and
statements compiled, the worker's kept things made), and counts the instructions of the
next ``--requests`` only (``callgrind_control -i on`` and ``off`` around them), with
``PYTHONHASHSEED=0``. It prints millions of instructions a request. Needs valgrind
(``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import build  # noqa: E402

WARM_UP = 50  # a whole round of the POST scenarios' tickets: every shape of statement made
# name: (what it does, whether pages are kept)
SCENARIOS = {
    "take": ("take a new ticket from its list row, or unassign a taken one (htmx)", True),
    "state": ('move an open ticket to "working", or a working one back (htmx)', True),
    "comment": ("comment on a ticket from its page (htmx)", True),
    "list": ("the All tab, seen again (kept)", True),
    "list_drawn": ("the All tab, drawn anew (nothing kept)", False),
    "list_after_change": ("the All tab after a state change elsewhere in it", True),
    "ticket_drawn": ("a ticket's page, drawn anew (nothing kept)", False),
    "home_drawn": ("the home page (a staff member's three panels), drawn anew", False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)} (all)")
    parser.add_argument("--database-url", help="PostgreSQL or SQLite; default: build one")
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50, help="measured, per scenario")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a scenario, under valgrind
    args = parser.parse_args()
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"no scenario {', '.join(sorted(unknown))}; there are {', '.join(SCENARIOS)}")
    if args.child:
        measured(args.database_url, args.child, args.requests)
        return
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/instructions.py counts with {tool}: apt-get install valgrind")
    url = args.database_url
    with tempfile.TemporaryDirectory() as tmp:
        if url is None:
            url = build("postgresql", args.tickets, Path(tmp))
        for name in args.scenarios or SCENARIOS:
            millions = count(url, name, args.requests, Path(tmp))
            print(f"{name:18} {millions:8.2f} million instructions a request  "
                  f"({SCENARIOS[name][0]})", flush=True)  # fmt: skip


def count(url: str, name: str, requests: int, workdir: Path) -> float:
    """Run the scenario in a process under callgrind; its instructions a request."""
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no",
        f"--callgrind-out-file={workdir / 'callgrind.out.%p'}",
        sys.executable, __file__, "--child", name, "--database-url", url,
        "--requests", str(requests),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0", "TESSERA_SECRET_KEY": "bench"}
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        sys.exit(f"{name}: the measured process failed\n{done.stderr[-3000:]}")
    return int(found[1]) / requests / 1e6


def measured(url: str, name: str, requests: int) -> None:
    """In the process under callgrind: warm up, then count ``requests`` of the scenario
    (for list_after_change, the list after each change, not the change)."""
    from bench.lists import htmx_headers, signed_in

    config = {} if SCENARIOS[name][1] else {"PAGE_CACHE_BYTES": 0}
    app, client = signed_in(url, **config)
    change, request = _scenario(name, url, client, htmx_headers(client))

    def switch(on: bool) -> None:
        subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                       check=True, capture_output=True)  # fmt: skip

    for i in range(WARM_UP + requests):
        if change is not None:
            change()
        if i == WARM_UP or (i > WARM_UP and change is not None):
            switch(True)
        request()
        if i >= WARM_UP and change is not None:
            switch(False)
    switch(False)


def _scenario(name: str, url: str, client, htmx: dict):
    """The scenario's change before each measured request (or None) and its request."""

    def ok(response) -> None:
        if response.status_code != 200:
            sys.exit(f"{name}: {response.status_code} {response.get_data(as_text=True)[:300]}")

    if name in ("list", "list_drawn"):
        return None, lambda: ok(client.get("/tickets/?tab=all"))
    if name == "home_drawn":
        return None, lambda: ok(client.get("/"))
    if name == "ticket_drawn":
        ticket = _tickets(url, "site_id IS NOT NULL", 1)[0][0]
        return None, lambda: ok(client.get(f"/tickets/{ticket}"))
    if name == "take":
        taking = _twice(_tickets(url, "state IN ('new', 'opened') AND assignee_id IS NULL", 25))

        def take() -> None:
            ticket, moved = next(taking)
            moved[0] = not moved[0]  # the ticket's state after this request
            path = f"/tickets/{ticket}/" + ("take?as=row" if moved[0] else "assign?as=row")
            ok(client.post(path, data={} if moved[0] else {"user": ""}, headers=htmx))

        return None, take
    open_ones = _tickets(url, "state = 'opened' AND assignee_id IS NOT NULL", 25)
    moving = _twice(open_ones)

    def move() -> None:
        ticket, moved = next(moving)
        moved[0] = not moved[0]
        state = "working" if moved[0] else "opened"
        ok(client.post(f"/tickets/{ticket}/state?as=row", data={"state": state},
                       headers=htmx))  # fmt: skip

    if name == "state":
        return None, move
    if name == "list_after_change":
        return move, lambda: ok(client.get("/tickets/?tab=all"))
    commenting = itertools.cycle(open_ones)

    def comment() -> None:
        ticket, _ = next(commenting)
        body = {"body": "A comment from bench/instructions.py"}
        ok(client.post(f"/tickets/{ticket}/comments", data=body, headers=htmx))

    return None, comment


def _twice(tickets: list):
    """Each ticket twice in a row, round and round: moved, then moved back."""
    return itertools.cycle([ticket for ticket in tickets for _ in range(2)])


def _tickets(url: str, where: str, limit: int) -> list[tuple[int, list[bool]]]:
    """Tickets that meet ``where``, each with whether a scenario has moved it (a list of
    one, changed in place)."""
    engine = sa.create_engine(url)
    with engine.connect() as c:
        ids = c.exec_driver_sql(
            f"SELECT id FROM tickets WHERE deleted IS NULL AND {where} AND id > 1 "
            f"ORDER BY id LIMIT {limit}"
        ).scalars()
        found = [(i, [False]) for i in ids]
    engine.dispose()
    if not found:
        sys.exit(f"no tickets where {where}")
    return found


if __name__ == "__main__":
    main()
