"""The stack's own floor for Tessera's two busiest pages and its three most frequent
writes: the least Flask, SQLAlchemy Core and Jinja cost to draw that content and to
write those changes, with nothing of Tessera's in between.

``/tickets/`` draws the All tab's first page (its 50 newest tickets) with the
rows' markup as Tessera writes it (checkbox, links, state, priority, site, assignee,
time, the State and Assign menus, a CSRF input in each form) in one plain loop.
``/tickets/<id>`` draws a ticket: its facts, the state and assign buttons, its
description, its comments and changes in one timeline, and a comment form. Each page
reads its content in one statement per kind (the tickets and the staff; or the ticket, its
comments, its changes and the staff) and writes it escaped, as any Jinja page does.

The writes are those bench/run.py's POST scenarios send, at the same addresses (a take,
an unassign, a state change, a comment): in one transaction, the ticket's row is read,
written at the version read (a version moved since is a 409) and its change recorded as
Tessera's monitor records it, with the comment if one is added; the answer is the
ticket's list row, or the comment's timeline entry, as Tessera draws them. Three
statements a change, four with a comment (and BEGIN and COMMIT); the menus' staff are
read once a process.

What it leaves out is everything a help desk adds: sign-in and session, CSRF, permissions
and the workflow's rules (a take of a new ticket does not open it), notifications, the
request log, the tabs and their counts, the filter form, translations, dates in the
viewer's zone and language, Markdown, the page's navigation. It runs Flask's own Jinja
environment, as shipped. bench/run.py serves it under the same gunicorn settings as
Tessera and reports its ratio to the bare floor (bench/floor.py) beside the pages drawn
anew and the writes: about what a page of this content, or such a write, costs at the
least in this stack."""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, abort, get_template_attribute, render_template, request

TOKEN = "x" * 91  # as long as Tessera's CSRF tokens


def _name(user: str) -> str:
    """A person's name as Tessera shows it (User.name)."""
    return f"COALESCE(NULLIF({user}.display_name, ''), {user}.username)"


ROWS = (
    "SELECT t.id, t.summary, t.private, t.state, t.priority, t.deadline, t.modified, "
    "t.assignee_id, t.last_commenter_id, t.version, "
    f"s.name AS site, {_name('u')} AS assignee FROM tickets t "
    "LEFT JOIN sites s ON s.id = t.site_id LEFT JOIN users u ON u.id = t.assignee_id "
    "WHERE t.deleted IS NULL"
)
LIST = sa.text(f"{ROWS} ORDER BY t.id DESC LIMIT 50")
ROW = sa.text(f"{ROWS} AND t.id = :id")
STAFF = sa.text(
    f"SELECT u.id, {_name('u')} AS name FROM users u "
    "JOIN user_groups ug ON ug.user_id = u.id JOIN groups g ON g.id = ug.group_id "
    "WHERE g.name = 'staff' ORDER BY 2"
)
TICKET = sa.text(
    f"SELECT t.*, s.name AS site, {_name('u')} AS assignee, {_name('a')} AS author, "
    "y.name AS type FROM tickets t LEFT JOIN sites s ON s.id = t.site_id "
    "LEFT JOIN users u ON u.id = t.assignee_id JOIN users a ON a.id = t.author_id "
    "LEFT JOIN ticket_types y ON y.id = t.ticket_type_id WHERE t.id = :id"
)
COMMENTS = sa.text(
    f"SELECT c.id, 'comment' AS kind, c.body, c.created, {_name('u')} AS actor "
    "FROM comments c JOIN users u ON u.id = c.author_id WHERE c.ticket_id = :id"
)
CHANGES = sa.text(
    f"SELECT c.id, c.kind, c.fields, c.created, {_name('u')} AS actor FROM changes c "
    "LEFT JOIN users u ON u.id = c.actor_id WHERE c.ticket_id = :id AND c.comment_id IS NULL"
).columns(fields=sa.JSON)

STATES = ("new", "talk", "opened", "working", "sleeping", "ready", "closed", "cancelled")
ACTOR = "gen-staff-0"  # whom the writes are recorded as: the one bench/run.py signs in as
ME = sa.text(f"SELECT id, {_name('u')} AS name FROM users u WHERE username = :name")
# A write: the ticket's row at the version read (a version since is a conflict), and its change.
UPDATE = {
    column: sa.text(
        f"UPDATE tickets SET {column} = :value, {also}modified = :now, version = version + 1 "
        "WHERE id = :id AND version = :version"
    )
    for column, also in (
        ("assignee_id", ""), ("state", "state_since = :now, "), ("last_commenter_id", "")
    )
}  # fmt: skip
CHANGE = sa.text(
    "INSERT INTO changes (ticket_id, actor_id, kind, comment_id, created, version, fields) "
    "VALUES (:id, :actor, :kind, :comment, :now, :version, :fields)"
).bindparams(sa.bindparam("fields", type_=sa.JSON))
COMMENT = sa.text(
    "INSERT INTO comments (ticket_id, author_id, body, created) "
    "VALUES (:id, :actor, :body, :now) RETURNING id"
)


def _text(value) -> str | None:
    return None if value is None else str(value)


def create_app(url: str | None = None) -> Flask:
    """The floor pages on the database at ``url`` (default: DATABASE_URL)."""
    app = Flask(__name__, template_folder=str(Path(__file__).parent))
    engine = app.extensions["page_floor_engine"] = sa.create_engine(
        url or os.environ["DATABASE_URL"]
    )

    @app.get("/")
    def hello() -> str:
        return "A floor page: /tickets/ and /tickets/<id>"

    @app.get("/tickets/")
    def tickets() -> str:
        with engine.connect() as c:
            rows = c.execute(LIST).all()
            staff = c.execute(STAFF).all()
        return render_template("list.html", rows=rows, staff=staff, states=STATES, token=TOKEN)

    @app.get("/tickets/<int:ticket_id>")
    def ticket(ticket_id: int) -> str:
        with engine.connect() as c:
            found = c.execute(TICKET, {"id": ticket_id}).first()
            if found is None:
                abort(404)
            comments = c.execute(COMMENTS, {"id": ticket_id}).all()
            changes = c.execute(CHANGES, {"id": ticket_id}).all()
            staff = c.execute(STAFF).all()
        entries = sorted([*comments, *changes], key=lambda e: (e.created, e.id))
        return render_template("ticket.html", t=found, entries=entries, staff=staff,
                               states=STATES, token=TOKEN)  # fmt: skip

    @functools.cache
    def staff_and_me() -> tuple[list, sa.Row]:
        """The people of the answers' menus, and the actor: read once a process."""
        with engine.connect() as c:
            return c.execute(STAFF).all(), c.execute(ME, {"name": ACTOR}).one()

    def change(ticket_id: int, column: str, value, kind: str, comment: str | None = None):
        """Write one change of a ticket: its row at the version read and the change that
        records it (and the comment it adds); the ticket's row as it is now, and the
        comment's id."""
        staff, me = staff_and_me()
        now = datetime.now(UTC).replace(tzinfo=None)
        with engine.begin() as c:
            t = c.execute(ROW, {"id": ticket_id}).first()
            if t is None:
                abort(404)
            comment_id = None
            if comment is not None:
                values = {"id": ticket_id, "actor": me.id, "body": comment, "now": now}
                comment_id = c.execute(COMMENT, values).scalar_one()
            old = getattr(t, column)
            values = {"id": ticket_id, "value": value, "now": now, "version": t.version}
            if c.execute(UPDATE[column], values).rowcount != 1:
                abort(409)
            if comment is None:  # a field's values as Tessera's monitor keeps them: text
                fields = [[column.removesuffix("_id"), _text(old), _text(value)]]
            else:
                fields = [["comment", None, comment]]
            c.execute(CHANGE, {"id": ticket_id, "actor": me.id, "kind": kind, "now": now,
                               "comment": comment_id, "version": t.version + 1,
                               "fields": fields})  # fmt: skip
        now_row = t._asdict() | {column: value, "modified": now, "version": t.version + 1}
        if column == "assignee_id":
            now_row["assignee"] = {u.id: u.name for u in staff}.get(value)
        return now_row, comment_id

    def drawn_row(t: dict) -> str:
        state_menu, assign_menu, row = (
            get_template_attribute("_row.html", name)
            for name in ("state_menu", "assign_menu", "row")
        )
        return row(t, state_menu(STATES, t["state"]), assign_menu(staff_and_me()[0]), TOKEN)

    @app.post("/tickets/<int:ticket_id>/take")
    def take(ticket_id: int) -> str:
        t, _ = change(ticket_id, "assignee_id", staff_and_me()[1].id, "take")
        return drawn_row(t)

    @app.post("/tickets/<int:ticket_id>/assign")
    def assign(ticket_id: int) -> str:
        user = request.form.get("user", "")
        if user and not user.isdigit():
            abort(400)
        kind = "assign" if user else "unassign"
        t, _ = change(ticket_id, "assignee_id", int(user) if user else None, kind)
        return drawn_row(t)

    @app.post("/tickets/<int:ticket_id>/state")
    def state(ticket_id: int) -> str:
        if request.form.get("state") not in STATES:
            abort(400)
        t, _ = change(ticket_id, "state", request.form["state"], "state")
        return drawn_row(t)

    @app.post("/tickets/<int:ticket_id>/comments")
    def comment(ticket_id: int) -> str:
        body = request.form.get("body", "").strip() or abort(400)
        me = staff_and_me()[1]
        t, comment_id = change(ticket_id, "last_commenter_id", me.id, "comment", body)
        entry = {"id": comment_id, "actor": me.name, "created": t["modified"], "body": body}
        return get_template_attribute("_comment.html", "comment")(entry)

    return app
