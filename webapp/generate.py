"""Large data sets for benchmarks: many tickets with comments and their change history,
written with bulk inserts (the database's triggers write the search index). The rows are
what the services would have written (one change per step, one row per changed field),
only much faster; it is meant for an empty benchmark database, not for a help desk in
use."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from . import accounts, search
from .extensions import db
from .models import (
    Change,
    Comment,
    Priority,
    Site,
    Subscription,
    Ticket,
    TicketType,
    User,
)
from .workflow import WORKFLOWS

BATCH = 5000
OWNERS, STAFF, SITES = 200, 10, 12
WORDS = (
    "printer invoice login password cart checkout payment report export import calendar "
    "wiki mail server backup network screen scanner label order customer account search "
    "slow broken missing wrong error crash timeout blank duplicate empty late stuck"
).split()
VERBS = ("fails", "is slow", "shows an error", "does nothing", "crashes", "is wrong", "hangs")
# The rest of the text comes from a larger vocabulary with the long tail of real language
# (Zipf: the n-th word is used 1/n as often as the first), so that a search word matches
# a realistic share of the tickets rather than most of them.
SYLLABLES = "ka lo mi nu pe ra si to vu we xa ye zo ba de fi go hu".split()
VOCABULARY = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES[:10]]
ZIPF = list(itertools.accumulate(1 / n for n in range(1, len(VOCABULARY) + 1)))


def generate(*, tickets: int, comments_per_ticket: int, seed: int = 1) -> dict[str, int]:
    """Add ``tickets`` tickets with ``comments_per_ticket`` comments each; return counts."""
    rng = random.Random(seed)
    wf = WORKFLOWS[current_app.config["WORKFLOW"]]
    owners, staff = _people(rng)
    sites = _sites(owners, staff)
    types = [t.id for t in db.session.scalars(sa.select(TicketType))] or [_ticket_type()]
    ids = _Ids()
    now = datetime.now(UTC)
    written = {"tickets": 0, "comments": 0, "changes": 0}
    rows: dict[str, list[dict]] = {"tickets": [], "comments": [], "changes": []}

    for n in range(tickets):
        _ticket(rng, wf, n, ids, rows, now, owners, staff, sites, types, comments_per_ticket)
        if len(rows["changes"]) >= BATCH * 4 or n == tickets - 1:
            for name, count in _flush(rows).items():
                written[name] += count
    _reset_sequences()
    # The search index compacted. On PostgreSQL fresh statistics too, so the query planner
    # knows how the new data is spread, and a visibility map, so that counts are answered
    # from the indexes alone. SQLite is left without statistics, as a live database has
    # none (nothing runs ANALYZE there): its planner's rules of thumb are what Tessera's
    # statements are written for, and its statistics would mislead it (a column that is
    # mostly empty, such as parent_id, looks like one value in every ticket, and the
    # ticket page then read every ticket: 30 ms instead of 0.1 at 100,000 tickets).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        search.compact(connection)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("VACUUM ANALYZE")
    return written


class _Ids:
    """Next free ids, so that related rows can be inserted in bulk without RETURNING."""

    def __init__(self) -> None:
        self.next = {
            model: (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1
            for model in (Ticket, Comment, Change)
        }

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] += 1
        return value


def _ticket(rng, wf, n, ids, rows, now, owners, staff, sites, types, comments_per_ticket):
    ticket_id = ids.take(Ticket)
    author = rng.choice(owners)
    state = rng.choice([s.name for s in wf.states])
    created = now - timedelta(minutes=rng.randint(60, 2 * 365 * 24 * 60))
    moment = created
    site = rng.choice(sites + [None])
    summary = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {rng.choice(VERBS)}"
    description = _prose(rng, rng.randint(12, 40))
    priority = rng.choice(list(Priority)).value
    assignee = None if state == wf.initial else rng.choice(staff)
    version = 0

    def change(actor, kind, fields, comment_id=None):
        nonlocal version, moment
        version += 1
        moment += timedelta(minutes=rng.randint(5, 3000))
        change_id = ids.take(Change)
        rows["changes"].append({
            "id": change_id, "ticket_id": ticket_id, "actor_id": actor, "kind": kind,
            "comment_id": comment_id, "created": moment, "version": version,
            "fields": fields,
        })  # fmt: skip

    pending_comments = []
    change(author, "created", [
        ("author", None, str(author)), ("state", None, wf.initial), ("summary", None, summary),
        ("description", None, description), ("priority", None, str(priority)),
    ] + ([("site", None, str(site))] if site else []))  # fmt: skip
    if assignee:
        change(assignee, "take", [("assignee", None, str(assignee)), ("state", wf.initial, state)])
    state_since = moment
    last_commenter = None
    for _ in range(comments_per_ticket):
        speaker = rng.choice([author, assignee or rng.choice(staff)])
        comment_id = ids.take(Comment)
        body = _prose(rng, 12)
        fields = [("comment", None, body)]
        if speaker != last_commenter:
            fields.append(("last_commenter", _text(last_commenter), str(speaker)))
        change(speaker, "comment", fields, comment_id)
        pending_comments.append({
            "id": comment_id, "ticket_id": ticket_id, "author_id": speaker, "body": body,
            "created": moment, "edited": None,
        })  # fmt: skip
        last_commenter = speaker
    rows["tickets"].append({
        "id": ticket_id, "summary": summary, "description": description, "author_id": author,
        "end_user_name": "", "end_user_email": "", "assignee_id": assignee, "site_id": site,
        "ticket_type_id": rng.choice(types), "state": state, "priority": priority,
        "deadline": None, "waiting_for": "", "upgrade_notes": "", "private": n % 11 == 0,
        "duplicate_of_id": None, "parent_id": None, "ref": f"R-{n}" if n % 97 == 0 else None,
        "rating": None, "reporting_type": None, "last_commenter_id": last_commenter,
        "created": created, "modified": moment, "version": version,
        "state_since": state_since,
        "resolved": state_since if state in wf.solved_states else None,
    })  # fmt: skip
    rows["comments"] += pending_comments


def _prose(rng: random.Random, words: int) -> str:
    """A sentence: a few domain words among words of the long-tailed vocabulary."""
    chosen = rng.choices(VOCABULARY, cum_weights=ZIPF, k=words)
    chosen[0] = rng.choice(WORDS)
    return " ".join(chosen).capitalize() + "."


def _text(value):
    return None if value is None else str(value)


def _flush(rows: dict[str, list[dict]]) -> dict[str, int]:
    """Insert what has piled up, parents first, in one transaction."""
    counts = {}
    for name, model in (("tickets", Ticket), ("comments", Comment), ("changes", Change)):
        batch = rows[name]
        for start in range(0, len(batch), BATCH):
            db.session.execute(sa.insert(model.__table__), batch[start : start + BATCH])
        counts[name] = len(batch)
        batch.clear()
    db.session.commit()
    return counts


def _people(rng) -> tuple[list[int], list[int]]:
    password = generate_password_hash("demo")
    existing = set(db.session.scalars(sa.select(User.username).where(User.username.like("gen-%"))))
    new = [
        {"username": name, "email": f"{name}@example.com", "display_name": name.title(),
         "password_hash": password, "active": True, "language": "en", "timezone": "UTC",
         "mail_mode": "none", "created": datetime.now(UTC)}
        for name in _names("gen-owner", OWNERS) + _names("gen-staff", STAFF)
        if name not in existing
    ]  # fmt: skip
    for _ in new:  # what each account's session token drew: the same seed, the same data
        rng.getrandbits(64)
    if new:
        db.session.execute(sa.insert(User.__table__), new)
        db.session.commit()
    staff_group, _ = accounts.ensure_groups()
    staff = list(db.session.scalars(sa.select(User).where(User.username.like("gen-staff-%"))))
    for user in staff:
        accounts.add_to_group(user=user, group=staff_group)
    owners = db.session.scalars(sa.select(User.id).where(User.username.like("gen-owner-%")))
    return list(owners), [u.id for u in staff]


def _names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(count)]


def _sites(owners: list[int], staff: list[int]) -> list[int]:
    for i in range(SITES):
        if not db.session.scalar(sa.select(Site.id).where(Site.name == f"Site {i}")):
            db.session.add(Site(name=f"Site {i}", description=f"Generated site {i}."))
    db.session.commit()
    sites = list(db.session.scalars(sa.select(Site.id).where(Site.name.like("Site %"))))
    if not db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)):
        db.session.execute(
            sa.insert(Subscription.__table__),
            [{"user_id": u, "site_id": s, "created": datetime.now(UTC)}
             for u in owners + staff for s in sites[: 3 + u % 4]],
        )  # fmt: skip
        db.session.commit()
    return sites


def _ticket_type() -> int:
    ticket_type = TicketType(name="Problem", reporting_type="regular")
    db.session.add(ticket_type)
    db.session.commit()
    return ticket_type.id


def _reset_sequences() -> None:
    """PostgreSQL hands out ids from sequences; after explicit ids they must move on."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("tickets", "comments", "changes", "users"):
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        ))  # fmt: skip
    db.session.commit()
