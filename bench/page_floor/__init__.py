"""The stack's own floor for Tessera's two busiest pages: the least Flask, SQLAlchemy
Core and Jinja cost to draw their content, with nothing of Tessera's in between.

``/tickets/`` draws the All tab's first page (its 50 newest tickets) with the
rows' markup as Tessera writes it (checkbox, links, state, priority, site, assignee,
time, the State and Assign menus, a CSRF input in each form) in one plain loop.
``/tickets/<id>`` draws a ticket: its facts, the state and assign buttons, its
description, its comments and changes in one timeline, and a comment form. Each page
reads its content in one statement per kind (the tickets and the staff; or the ticket, its
comments, its changes and the staff) and writes it escaped, as any Jinja page does.

What it leaves out is everything a help desk adds: sign-in and session, permissions and
the workflow's rules, the tabs and their counts, the filter form, translations, dates
in the viewer's zone and language, Markdown, the page's navigation. It runs Flask's own
Jinja environment, as shipped. bench/run.py serves it under the same gunicorn settings
as Tessera and reports its ratio to the bare floor (bench/floor.py) beside the pages
drawn anew: about what a page of this content costs at the least in this stack."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, abort, render_template

TOKEN = "x" * 91  # as long as Tessera's CSRF tokens


def _name(user: str) -> str:
    """A person's name as Tessera shows it (User.name)."""
    return f"COALESCE(NULLIF({user}.display_name, ''), {user}.username)"


LIST = sa.text(
    "SELECT t.id, t.summary, t.private, t.state, t.priority, t.deadline, t.modified, "
    f"s.name AS site, {_name('u')} AS assignee FROM tickets t "
    "LEFT JOIN sites s ON s.id = t.site_id LEFT JOIN users u ON u.id = t.assignee_id "
    "WHERE t.deleted IS NULL ORDER BY t.id DESC LIMIT 50"
)
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

    return app
