"""Tessera against the framework's floor, over HTTP, under gunicorn, measured with wrk.

    .venv/bin/python bench/run.py [--tickets 10000,100000] [--million]
                                  [--backend sqlite|postgresql|both] [--duration 5] [--turns 3]
                                  [--write]

For each backend and data set: a fresh database (bench/dataset.py: the migrations, then
``generate-data`` with 3 comments per ticket, and one ticket given 10,000 more changes),
Tessera under ``gunicorn -w 2`` (sync workers) and the bare Flask floor (bench/floor.py)
under the same settings. Signed in as a staff member, every scenario is measured with
wrk right after a floor run (a POST scenario in ``--turns`` such turns, 3 by default, of
which the one of the median ratio is reported, with every turn's ratio: their ratios sit
near their targets and move most from run to run), and reported as requests/s, p50 and
p99 latency, the ratio to that floor, server CPU ms per request (utime + stime of the
gunicorn workers; on PostgreSQL also of PostgreSQL's own processes, when it runs on this
machine), SQL statements per request (counted in a separate in-process request, so the
measured server runs production code only), response bytes and the workers' peak memory
(VmHWM). CSV exports are downloaded whole, one at a time: rows/s and peak memory. The
list page's cold-load weight is measured once per backend (bench/pageweight.py). Beside
the pages drawn anew and the writes, the stack's own floor for the list, the ticket page,
a take, a state change and a comment (bench/page_floor, a third server on the same
database) is measured as a scenario too.

It ends with one line per scenario: ``scenario=<backend>/<tickets>/<name> ratio=<x>
p50_ms=<y> queries=<n>``. ``--write`` puts the table into docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pageweight  # noqa: E402
from bench.dataset import (  # noqa: E402
    build,
    counted,
    environment,
    left_over,
    long_history,
    machine,
    write_section,
)
from webapp.generate import VOCABULARY  # noqa: E402

MARKER = "<!-- bench/run.py -->"
USER, PASSWORD = "gen-staff-0", "demo"
# Sent with every request, the sign-in's included, as a browser sends its own: Flask-Login
# marks a session whose client looks different as no longer fresh and writes its cookie
# anew on every answer (as it did for wrk's requests, which sent none).
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) tessera-bench"
HISTORY = 10_000  # changes of the ticket whose monitor CSV is downloaded
POOL = 2000  # tickets each POST scenario works through (split among wrk's threads)
TARGETS = {"list": 0.10, "ticket": 0.12, "take": 0.08, "state": 0.08, "comment": 0.06}
CLK_TCK = os.sysconf("SC_CLK_TCK")
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


@dataclass
class Scenario:
    name: str
    label: str
    path: str = ""  # GET scenarios; "{ticket}" and "{site}" are filled in
    post: str = ""  # take, state or comment (bench/post.lua)
    csv: bool = False
    target: str = ""  # key of TARGETS
    drawn: bool = False  # measured on a server that keeps no pages: drawn anew each time
    stack_floor: bool = False  # measured on bench/page_floor: the stack alone, no Tessera


SCENARIOS = [
    *[Scenario(f"list_{tab}", f"list: tab {label}", f"/tickets/?tab={tab}", target="list")
      for tab, label in (("triage", "To triage"), ("work", "My work"),
                         ("unassigned", "Unassigned"), ("feedback", "Needing my feedback"),
                         ("active", "Active"), ("ref", "With reference"), ("all", "All"))],
    Scenario("list_filter", "list: filter site + state",
             "/tickets/?tab=all&site={site}&state=opened", target="list"),
    Scenario("list_search", f"list: search, mid word ({VOCABULARY[100]}, 6% of tickets)",
             f"/tickets/?tab=all&q={VOCABULARY[100]}", target="list"),
    Scenario("ticket_page", "ticket page (3 comments)", "/tickets/{ticket}", target="ticket"),
    Scenario("list_all_drawn", "list: tab All, drawn anew (no kept pages)", "/tickets/?tab=all",
             target="list", drawn=True),
    Scenario("list_search_drawn", f"list: search {VOCABULARY[100]}, drawn anew",
             f"/tickets/?tab=all&q={VOCABULARY[100]}", target="list", drawn=True),
    Scenario("ticket_page_drawn", "ticket page, drawn anew", "/tickets/{ticket}",
             target="ticket", drawn=True),
    # Those two pages' content drawn anew by the stack as shipped (Flask, SQLAlchemy Core,
    # Jinja) with nothing of Tessera's (bench/page_floor): about the least it can cost.
    Scenario("list_stack_floor", "stack floor: the All tab's 50 rows, nothing else",
             "/tickets/", stack_floor=True),
    Scenario("ticket_stack_floor", "stack floor: the ticket page's content, nothing else",
             "/tickets/{ticket}", stack_floor=True),
    # A list sorted by a column no tab orders by, and the end-user filter (the generated
    # tickets name no end user, so it finds none): both read every ticket before the
    # eighth round (280 and 730 ms at a million tickets).
    Scenario("list_sorted_drawn", "list: tab All by deadline, latest first, drawn anew",
             "/tickets/?tab=all&sort=-deadline", target="list", drawn=True),
    Scenario("list_end_user_drawn", "list: end-user filter (part of a name), drawn anew",
             "/tickets/?tab=all&end_user=smith", target="list", drawn=True),
    # The tickets created in a month a year back, last changed first: PostgreSQL walked
    # every ticket changed since before the tenth round (1.1 s at a million tickets).
    Scenario("list_days_drawn", "list: created in a month a year back, by last change, drawn anew",
             "/tickets/?tab=all&created_from={month_start}&created_to={month_end}&sort=-modified",
             target="list", drawn=True),
    # The landing page and a site's page: no target of the issue's, but pages people open
    # all day (the home page took 2.9 s at a million tickets before the seventh round).
    Scenario("home", "home page (3 panels)", "/"),
    Scenario("home_drawn", "home page (3 panels), drawn anew", "/", drawn=True),
    Scenario("site_drawn", "a site's page, drawn anew", "/sites/{site}", drawn=True),
    Scenario("take", "take / unassign (htmx, list row)", post="take", target="take"),
    Scenario("state", "state change (htmx, list row)", post="state", target="state"),
    Scenario("comment", "comment post (htmx)", post="comment", target="comment"),
    # The same writes by the stack alone (bench/page_floor): the row or comment written
    # with its change, and drawn, with no sign-in, rules or notifications.
    Scenario("take_stack_floor", "stack floor: take / unassign, nothing else", post="take",
             stack_floor=True),
    Scenario("state_stack_floor", "stack floor: state change, nothing else", post="state",
             stack_floor=True),
    Scenario("comment_stack_floor", "stack floor: comment post, nothing else", post="comment",
             stack_floor=True),
    Scenario("csv_monitor", f"CSV: monitor of a ticket with {HISTORY:,} changes",
             "/tickets/{history}/monitor.csv", csv=True),
    Scenario("csv_list", "CSV: list of all tickets", "/tickets.csv?tab=all", csv=True),
]  # fmt: skip
# Counted in-process only (SQL statements and bytes): the other pages people open often.
PAGES = [("home", "/"), ("notifications", "/notifications"), ("statistics", "/statistics")]


@dataclass
class Result:
    backend: str
    tickets: int
    scenario: Scenario
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    floor: float = 0.0
    cpu_ms: float = 0.0
    db_cpu_ms: float | None = None  # PostgreSQL's own processes (SQLite runs in the worker)
    queries: int = 0
    bytes: int = 0
    peak_mb: float = 0.0
    errors: int = 0
    rows_per_s: float = 0.0
    rows: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.rps / self.floor if self.floor else 0.0


# -- Servers and /proc -------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, 0 if it has gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    rest = stat[stat.rindex(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def postgres_cpu_seconds() -> float | None:
    """The CPU of every PostgreSQL process on this machine (its backends, WAL writer,
    checkpointer...), or None if none runs here (a PostgreSQL elsewhere is not seen)."""
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    found = [pid for pid in pids if _command(pid) == "postgres"]
    return sum(cpu_seconds(pid) for pid in found) if found else None


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers on a free port; stopped by ``stop``."""

    def __init__(self, app: str, env: dict[str, str], log: Path) -> None:
        self.database_url = env.get("DATABASE_URL")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [GUNICORN, "-w", "2", "--no-control-socket", "-b", f"127.0.0.1:{self.port}", app],
            cwd=ROOT, env=env, stdout=self.log, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(self.workers()) < 2 or not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app} did not start; see {log}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/", timeout=5).read()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    def workers(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.workers())

    def reset_peak(self) -> None:
        for pid in self.workers():
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS

    def peak_mb(self) -> float:
        peak = 0
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        return peak / 1024

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# -- wrk ---------------------------------------------------------------------------------


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:  # wrk prints "-nan" etc. when a run had too few requests
        return float("nan")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url: str, duration: float, connections: int, headers=(), script=None, args=()) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--latency"]
    command += ["--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    if args:
        command += ["--", *args]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    found = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "requests": int(re.search(r"(\d+) requests in", out)[1]),
        # The distribution's own lines: "Thread Stats" has percentages (+/- Stdev) too.
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)[1]),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)[1]),
        "errors": 0,
    }
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    found["errors"] = int(bad[1]) if bad else 0
    if socket_errors:
        found["errors"] += sum(int(n) for n in re.findall(r"\d+", socket_errors[1]))
    return found


# -- Signing in --------------------------------------------------------------------------


class Session:
    """A signed-in staff member, as a browser would be: cookie and CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.addheaders = [("User-Agent", USER_AGENT)]
        page = self.opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        form = {"username": USER, "password": PASSWORD, "csrf_token": token}
        self.opener.open(base + "/login", urllib.parse.urlencode(form).encode()).read()
        page = self.opener.open(base + "/tickets/").read().decode()
        self.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page)[1]
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)


# -- In-process: SQL statements and bytes ------------------------------------------------


def counted_posts(kind: str, ids: dict) -> list[tuple[str, dict[str, str]]]:
    """A POST scenario's warm-up and counted request (path, form): the same kind of
    action on two tickets the wrk runs leave alone."""
    if kind == "take":
        return [(f"/tickets/{t}/take?as=row", {}) for t in ids["spare_take"]]
    if kind == "state":
        return [(f"/tickets/{t}/state?as=row", {"state": "working"}) for t in ids["spare_state"]]
    return [(f"/tickets/{t}/comments", {"body": "Counted."}) for t in ids["spare_state"]]


def count_requests(
    client,
    statements: list[str],
    scenarios,
    ids: dict,
    *,
    headers=None,
    form=lambda path, data: data,
) -> dict[str, tuple[int, int]]:
    """(statements, bytes) of each scenario's counted request through ``client``, after
    its warm-up: a GET twice, a POST on two tickets (``counted_posts``; ``form`` gives
    the form it sends). ``statements`` is the list ``counted`` fills."""
    found = {}
    for scenario in scenarios:
        if scenario.post:
            requests = counted_posts(scenario.post, ids)
        else:
            requests = [(scenario.path.format(**ids["fill"]), None)] * 2
        for path, data in requests:
            data = None if data is None else form(path, data)
            statements.clear()
            if data is None:
                response = client.get(path)
            else:
                response = client.post(path, data=data, headers=headers)
            body = response.get_data()  # a streamed response runs its queries here
            assert response.status_code == 200, (path, response.status_code)
            found[scenario.name] = (len(statements), len(body))
    return found


def count_in_process(url: str, scenarios, ids: dict, **config) -> dict[str, tuple[int, int]]:
    """(statements, bytes) of one request per scenario, after a warm-up request, through
    the Flask test client; POSTs act on tickets the wrk runs leave alone."""
    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", **config})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    client.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": token})
    page = client.get("/tickets/").get_data(as_text=True)
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page)[1]
    post_headers = {"X-CSRFToken": csrf, "HX-Request": "true"}

    def shown(path: str, data: dict[str, str]) -> dict[str, str]:
        """A comment sends the version its ticket's page shows, as the page does."""
        if not path.endswith("/comments"):
            return data
        page = client.get(path.removesuffix("/comments")).get_data(as_text=True)
        return {**data, "shown": re.search(r'name="shown" value="(\d+)"', page)[1]}

    with app.app_context():
        statements = counted(db.engine)
    found = count_requests(client, statements, scenarios, ids, headers=post_headers, form=shown)
    with app.app_context():
        db.engine.dispose()
    return found


def count_stack_floor(url: str, scenarios, ids: dict) -> dict[str, tuple[int, int]]:
    """(statements, bytes) of one request per scenario of bench/page_floor, after a
    warm-up request."""
    from bench.page_floor import create_app

    app = create_app(url)
    engine = app.extensions["page_floor_engine"]
    found = count_requests(app.test_client(), counted(engine), scenarios, ids)
    engine.dispose()
    return found


# -- One backend, one data set -----------------------------------------------------------


def pools(url: str) -> dict:
    """The tickets the scenarios use: unassigned new ones to take, assigned open ones to
    move between states and to comment on, one ordinary ticket page and one site."""
    engine = sa.create_engine(url)
    with engine.connect() as c:

        def ids(where: str, limit: int) -> list[int]:
            sql = (
                f"SELECT id FROM tickets WHERE deleted IS NULL AND {where} "
                f"ORDER BY id LIMIT {limit}"
            )
            return list(c.exec_driver_sql(sql).scalars())

        def pool_and_spares(where: str) -> tuple[list[int], list[int]]:
            """POOL tickets for wrk, and two more, not private, for the in-process count:
            its warm-up then reads what a process keeps (the webhooks, which a private
            ticket's change never asks for), and the counted request only what each
            request reads."""
            spares = ids(f"{where} AND NOT private", 2)
            return [i for i in ids(where, POOL + 2) if i not in spares][:POOL], spares

        take, spare_take = pool_and_spares("state = 'new' AND assignee_id IS NULL AND id > 1")
        state, spare_state = pool_and_spares(
            "state = 'opened' AND assignee_id IS NOT NULL AND id > 1"
        )
        middle = c.exec_driver_sql("SELECT max(id) / 2 FROM tickets").scalar()
        ticket = c.exec_driver_sql(
            f"SELECT min(id) FROM tickets WHERE id >= {middle} AND site_id IS NOT NULL "
            "AND deleted IS NULL"
        ).scalar()
        site = c.exec_driver_sql("SELECT min(id) FROM sites").scalar()
        history = c.exec_driver_sql(  # the ticket dataset.long_history gave its changes
            "SELECT min(id) FROM tickets WHERE deleted IS NULL"
        ).scalar()
    engine.dispose()
    return {
        "take": take, "spare_take": spare_take, "state": state, "spare_state": spare_state,
        "fill": {"ticket": ticket, "site": site, "history": history, **_month_a_year_back()},
    }  # fmt: skip


# Whether a POST scenario's ticket is moved already (taken, working): bench/post.lua moves
# each ticket the other way from where it is.
MOVED = {"take": "assignee_id IS NOT NULL", "state": "state = 'working'", "comment": "false"}


def tickets_now(url: str, ids: list[int], kind: str) -> list[tuple[int, int, int]]:
    """The tickets' ids with their versions now (what their pages would send as
    ``shown``; bench/post.lua counts on from there) and 1 where the ``kind`` of POST has
    moved them already, else 0."""
    engine = sa.create_engine(url)
    with engine.connect() as c:
        query = sa.text(
            f"SELECT id, version, CASE WHEN {MOVED[kind]} THEN 1 ELSE 0 END FROM tickets "
            "WHERE id IN :ids ORDER BY id"
        )
        rows = c.execute(query.bindparams(sa.bindparam("ids", expanding=True)), {"ids": ids})
        found = [tuple(row) for row in rows]
    engine.dispose()
    return found


def _month_a_year_back() -> dict[str, str]:
    """The first and last day of the month a year before this one (the data's tickets were
    created over the two years before it was generated)."""
    today = date.today()
    start = date(today.year - 1, today.month, 1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1) - timedelta(days=1)
    return {"month_start": start.isoformat(), "month_end": end.isoformat()}


def measure(backend: str, tickets: int, args, workdir: Path, floor: Server) -> list[Result]:
    url = left_over(tickets) if args.reuse and backend == "postgresql" else None
    if url is None:
        url = build(backend, tickets, workdir)
        long_history(url, HISTORY)
    ids = pools(url)
    kept = [s for s in SCENARIOS if not s.drawn and not s.stack_floor]
    counted = count_in_process(url, kept, ids)
    counted |= count_in_process(url, [s for s in SCENARIOS if s.drawn], ids, PAGE_CACHE_BYTES=0)
    counted |= count_stack_floor(url, [s for s in SCENARIOS if s.stack_floor], ids)
    # Drawn anew, statistics counted: their statements, not a kept page's one.
    in_process = [Scenario(n, n, p) for n, p in PAGES]
    pages = count_in_process(url, in_process, ids, PAGE_CACHE_BYTES=0, STATISTICS_KEEP_SECONDS=0)
    for name, (queries, size) in pages.items():
        print(f"{backend:10} {tickets:>9,} {name:14} {queries} SQL statements, {size:,} bytes")
    log = workdir / f"gunicorn-{backend}.log"
    server = Server("webapp:create_app()", environment(url), log)
    drawn = Server(
        "webapp:create_app()", {**environment(url), "TESSERA_PAGE_CACHE_BYTES": "0"}, log
    )
    stack = Server("bench.page_floor:create_app()", environment(url), log)
    results = []
    try:
        session = Session(server.url)
        weight = pageweight.weigh(session.opener, server.url + "/tickets/")
        print(f"{backend}: cold load of the list page\n{pageweight.report(weight)}")
        for scenario in SCENARIOS:
            serving = stack if scenario.stack_floor else drawn if scenario.drawn else server
            turns = [
                run_scenario(scenario, backend, tickets, args, workdir, floor, serving,
                             session, ids)
                for _ in range(args.turns if scenario.post else 1)
            ]  # fmt: skip
            result = median_turn(turns)
            result.queries, result.bytes = counted[scenario.name]
            results.append(result)
            print(line(result), flush=True)
        results.append(Result(backend, tickets, Scenario("pageweight", "cold load of the list"),
                              extra={"weight": weight}))  # fmt: skip
        for name, (queries, size) in pages.items():
            results.append(Result(backend, tickets, Scenario(name, f"page: {name} (in-process)"),
                                  queries=queries, bytes=size))  # fmt: skip
    finally:
        for running in (server, drawn, stack):
            running.stop()
    return results


def median_turn(turns: list[Result]) -> Result:
    """Of a scenario's turns (each a floor run and a scenario run), the one of the median
    ratio, with every turn's ratio beside it."""
    ranked = sorted(turns, key=lambda r: r.ratio)
    result = ranked[len(ranked) // 2]
    if len(ranked) > 1:
        result.extra["ratios"] = [r.ratio for r in ranked]
    return result


def run_scenario(scenario, backend, tickets, args, workdir, floor, server, session, ids):
    result = Result(backend, tickets, scenario)
    result.floor = wrk(floor.url + "/", args.duration, args.connections)["rps"]
    headers = [f"Cookie: {session.cookie}", f"User-Agent: {USER_AGENT}"]
    if not scenario.post:
        # A second of the page first, not counted: every worker has drawn it once, so a
        # kept page's figures are those of a page seen again (a first view is what the
        # _drawn scenarios measure, every request of theirs), and a download's those of a
        # worker that has run the export before.
        wrk(server.url + scenario.path.format(**ids["fill"]), 1, args.connections, headers=headers)
    server.reset_peak()
    cpu = server.cpu_seconds()
    db_cpu = postgres_cpu_seconds() if backend == "postgresql" else None
    if scenario.csv:
        path = scenario.path.format(**ids["fill"])
        times, requests = [], 3
        for _ in range(requests):
            started = time.perf_counter()
            response = session.opener.open(server.url + path)
            rows = 0
            while chunk := response.read(1 << 16):
                rows += chunk.count(b"\r\n")
            times.append(time.perf_counter() - started)
        times.sort()
        result.rows = rows - 1  # the header
        result.seconds = times[1]
        result.rows_per_s = result.rows / times[1]
        result.rps, result.p50, result.p99 = 1 / times[1], times[1] * 1000, times[-1] * 1000
    else:
        if scenario.post:
            file = workdir / f"ids-{scenario.post}.txt"
            pool = ids["take" if scenario.post == "take" else "state"]
            now = tickets_now(server.database_url, pool, scenario.post)
            lines = (f"{i} {v} {moved}\n" for i, v, moved in now)
            file.write_text("".join(lines))
            lua = [scenario.post, str(file), "2", session.cookie, session.csrf, USER_AGENT]
            script = ROOT / "bench" / "post.lua"
            found = wrk(server.url + "/", args.duration, args.connections, script=script, args=lua)
        else:
            path = scenario.path.format(**ids["fill"])
            found = wrk(server.url + path, args.duration, args.connections, headers=headers)
        result.rps, result.p50, result.p99 = found["rps"], found["p50"], found["p99"]
        result.errors = found["errors"]
        requests = found["requests"]
    result.cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(requests, 1)
    if db_cpu is not None:
        result.db_cpu_ms = (postgres_cpu_seconds() - db_cpu) * 1000 / max(requests, 1)
    result.peak_mb = server.peak_mb()
    return result


# -- Reporting ---------------------------------------------------------------------------


def target_text(result: Result) -> str:
    if result.scenario.csv:
        ok = result.rows_per_s >= 100_000 and result.peak_mb < 150
        return f"≥ 100,000 rows/s, < 150 MB{'' if ok else ' (missed)'}"
    goal = TARGETS.get(result.scenario.target)
    if goal is None:
        return ""
    return f"≥ {goal:.2f}{'' if result.ratio >= goal else ' (missed)'}"


def turns_text(r: Result) -> str:
    ratios = r.extra.get("ratios")
    return f"; turns {', '.join(f'{x:.3f}' for x in ratios)}" if ratios else ""


def db_cpu_text(r: Result, form: str) -> str:
    return "" if r.db_cpu_ms is None else form.format(r.db_cpu_ms)


def line(r: Result) -> str:
    s = r.scenario
    if s.csv:
        return (
            f"{r.backend:10} {r.tickets:>9,} {s.label:50} {r.rows:>8,} rows in "
            f"{r.seconds * 1000:7.0f} ms = {r.rows_per_s:9,.0f} rows/s "
            f"({r.rows / max(r.cpu_ms, 1) * 1000:,.0f} per worker CPU s)  "
            f"cpu {r.cpu_ms:7.1f} ms{db_cpu_text(r, ' + db {:.0f}')}  {r.queries} SQL  "
            f"{r.bytes:,} B  peak {r.peak_mb:.0f} MB"
        )
    errors = f"  ERRORS {r.errors}" if r.errors else ""
    return (
        f"{r.backend:10} {r.tickets:>9,} {s.label:50} {r.rps:7.0f} req/s  "
        f"p50 {r.p50:6.1f} ms  p99 {r.p99:6.1f} ms  ratio {r.ratio:.3f} (floor {r.floor:.0f}"
        f"{turns_text(r)})  "
        f"cpu {r.cpu_ms:5.1f} ms{db_cpu_text(r, ' + db {:.1f}')}  {r.queries} SQL  {r.bytes:,} B  "
        f"peak {r.peak_mb:.0f} MB{errors}"
    )


def table(results: list[Result], command: str, load: str) -> str:
    lines = [
        MARKER,
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, by `{command}`; "
        f"{load}. wrk with 2 threads and the connections given, Tessera and the floor each "
        "under `gunicorn -w 2 --no-control-socket` (sync workers).",
        "",
        "| backend | tickets | scenario | req/s | p50 | p99 | ratio to floor | CPU ms/req "
        "| DB CPU ms/req | SQL | bytes | peak MB | target |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    weights = []
    for r in results:
        s = r.scenario
        if s.name == "pageweight":
            weights.append(r)
            continue
        if s.name in dict(PAGES):
            lines.append(f"| {r.backend} | {r.tickets:,} | {s.label} | | | | | | | {r.queries} "
                         f"| {r.bytes:,} | | ≤ 6 SQL |")  # fmt: skip
            continue
        if s.csv:
            lines.append(
                f"| {r.backend} | {r.tickets:,} | {s.label}: {r.rows:,} rows, "
                f"**{r.rows_per_s:,.0f} rows/s** ({r.rows / max(r.cpu_ms, 1) * 1000:,.0f} per "
                f"worker CPU second) | | {r.seconds * 1000:.0f} ms | | | "
                f"{r.cpu_ms:.0f} | {db_cpu_text(r, '{:.0f}')} | {r.queries} | {r.bytes:,} "
                f"| {r.peak_mb:.0f} | {target_text(r)} |"
            )
            continue
        errors = f" ({r.errors} errors)" if r.errors else ""
        lines.append(
            f"| {r.backend} | {r.tickets:,} | {s.label} | {r.rps:,.0f}{errors} | {r.p50:.1f} ms "
            f"| {r.p99:.1f} ms | **{r.ratio:.3f}** (floor {r.floor:,.0f}{turns_text(r)}) "
            f"| {r.cpu_ms:.1f} "
            f"| {db_cpu_text(r, '{:.1f}')} | {r.queries} | {r.bytes:,} | {r.peak_mb:.0f} "
            f"| {target_text(r)} |"
        )
    for r in weights:
        parts = r.extra["weight"]
        detail = ", ".join(f"{p.url.rsplit('/', 1)[-1] or 'list page'} {p.gzipped / 1024:.1f}"
                           for p in parts)  # fmt: skip
        total = sum(p.gzipped for p in parts) / 1024
        lines.append("")
        raw = sum(p.raw for p in parts) / 1024
        lines.append(
            f"Cold load of the list page ({r.backend}, {r.tickets:,} tickets): "
            f"**{total:.1f} KB gzipped** ({detail} KB; {raw:.0f} KB as served); "
            f"target {pageweight.TARGET_KB} KB."
        )
    lines.append(MARKER)
    return "\n".join(lines)


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} (1 / 5 min) at the end"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--million", action="store_true", help="add 1,000,000 on PostgreSQL")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument(
        "--turns", type=int, default=3,
        help="POST scenarios: turns of floor and scenario; the median ratio's is shown",
    )  # fmt: skip
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: measure the databases an earlier run left, if whole",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/run.py measures with wrk, which is not installed: apt-get install wrk")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs = [(b, int(n)) for n in args.tickets.split(",") for b in backends]
    if args.million:
        runs.append(("postgresql", 1_000_000))
    if args.only:
        wanted = set(args.only.split(","))
        SCENARIOS[:] = [s for s in SCENARIOS if s.name in wanted]
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        floor = Server("bench.floor:app", {**os.environ}, workdir / "gunicorn-floor.log")
        try:
            for backend, tickets in runs:
                results += measure(backend, tickets, args, workdir, floor)
        finally:
            floor.stop()
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    section = table(results, command.strip(), load_average())
    print(section)
    for r in results:
        if r.scenario.name in dict(PAGES) or r.scenario.name == "pageweight":
            continue
        print(f"scenario={r.backend}/{r.tickets}/{r.scenario.name} ratio={r.ratio:.3f} "
              f"p50_ms={r.p50:.1f} queries={r.queries}")  # fmt: skip
    if args.write:
        write_section(MARKER, section)


if __name__ == "__main__":
    main()
