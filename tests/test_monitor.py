"""The change monitor: what the services record, and the guard against unrecorded writes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.factories import make_ticket, make_user
from webapp import monitor, services
from webapp.exceptions import Forbidden, NotFound
from webapp.extensions import db
from webapp.models import Change, Comment, Priority, Ticket, utcnow
from webapp.monitor import UnrecordedTicketWrite


def rows(change: Change) -> list[tuple[str, str | None, str | None]]:
    return [(f.field, f.old, f.new) for f in change.fields]


def test_creation_records_the_initial_values(app):
    alice = make_user("alice")
    ticket = make_ticket(
        alice, "Printer jams", description="Every page jams.", priority=Priority.HIGH
    )
    (change,) = ticket.changes
    assert (change.kind, change.actor) == ("created", alice)
    assert rows(change) == [
        ("author", None, str(alice.id)),
        ("state", None, "new"),
        ("summary", None, "Printer jams"),
        ("description", None, "Every page jams."),
        ("priority", None, "30"),
    ]


def test_a_state_change_records_raw_old_and_new(app):
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    ticket = make_ticket(alice)
    change = services.change_state(actor=sam, ticket=ticket, state="working")
    assert (change.kind, change.actor, rows(change)) == (
        "state",
        sam,
        [("state", "new", "working")],
    )
    assert ticket.modified == change.created


def test_a_refused_change_writes_nothing(app):
    alice, bob = make_user("alice"), make_user("bob")
    ticket = make_ticket(alice)
    with pytest.raises(Forbidden):
        services.change_state(actor=alice, ticket=ticket, state="working")
    with pytest.raises(NotFound):
        services.change_state(actor=bob, ticket=ticket, state="cancelled")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Change)) == 1
    assert ticket.state == "new"


def test_assigning_twice_records_once(app):
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    ticket = make_ticket(alice)
    first = services.assign(actor=sam, ticket=ticket, assignee=sam)
    assert rows(first) == [("assignee", None, str(sam.id))]
    assert services.assign(actor=sam, ticket=ticket, assignee=sam) is None


def test_a_comment_is_recorded_with_its_text(app):
    alice = make_user("alice")
    ticket = make_ticket(alice)
    change = services.comment(actor=alice, ticket=ticket, body="  Still broken.  ")
    assert (change.kind, change.comment.body) == ("comment", "Still broken.")
    assert ticket.changes[-1] == change
    assert rows(change) == [
        ("comment", None, "Still broken."),
        ("last_commenter", None, str(alice.id)),
    ]


def test_guard_refuses_a_ticket_write_that_bypasses_the_services(app):
    ticket = make_ticket(make_user("alice"))
    ticket.state = "closed"
    with pytest.raises(UnrecordedTicketWrite):
        db.session.commit()
    db.session.rollback()
    assert ticket.state == "new"


def test_a_write_after_streaming_an_export_in_the_same_session_lands(app):
    """The exports stream from a server-side cursor (the list's, on PostgreSQL, from a
    COPY); that is for their own statement only: a write later in the same session (a
    script's calls through one app context) works."""
    from webapp import csvexport, listing, timeline

    alice, sam = make_user("alice"), make_user("sam", role="staff")
    ticket = make_ticket(alice)
    wf = services.current_workflow()
    assert len(list(timeline.monitor_rows(ticket, wf))) > 1
    view = listing.View.from_args({"tab": "all"}, sam, wf)
    exported = "".join(
        part if isinstance(part, str) else part.decode()
        for part in csvexport.written(listing.export_query(sam, wf, view), ["number"])
    )
    assert exported.split("\r\n")[1].split(",")[0] == str(ticket.id)
    services.comment(actor=sam, ticket=ticket, body="Still here.")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Change)) == 2


def test_after_a_change_the_objects_are_as_their_rows(app):
    """The services write with plain statements, not the ORM's flush: what the session
    holds (the ticket, lists of it loaded before, the comment) must still be the truth."""
    alice, sam = make_user("alice"), make_user("sam", role="staff")
    ticket = make_ticket(alice)
    assert [c.kind for c in ticket.changes] == ["created"] and ticket.comments == []
    services.comment(actor=alice, ticket=ticket, body="Still broken.")
    services.take(actor=sam, ticket=ticket)
    services.change_state(actor=sam, ticket=ticket, state="ready")
    assert [c.kind for c in ticket.changes] == ["created", "comment", "take", "state"]
    assert [(c.body, c.author) for c in ticket.comments] == [("Still broken.", alice)]
    table = Ticket.__table__
    row = db.session.execute(sa.select(table).where(table.c.id == ticket.id)).one()
    held = {column: getattr(ticket, column) for column in row._fields}
    assert held == row._asdict()
    assert (ticket.assignee, ticket.last_commenter, ticket.version) == (sam, alice, 4)
    assert ticket.resolved == ticket.state_since == ticket.modified == ticket.changes[-1].created


def test_a_new_comment_recorded_together_with_other_changes_keeps_its_change(app):
    alice = make_user("alice")
    ticket = make_ticket(alice)
    note = Comment(
        ticket_id=ticket.id, author_id=alice.id, body="Still broken", created=utcnow(), edited=None
    )
    with monitor.together(db.session):
        change = monitor.record(
            db.session, ticket, actor=alice, kind="comment",
            fields={"comment": (None, "Still broken")}, comment=note,
        )  # fmt: skip
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Change, change.id)
    assert stored.comment_id == note.id and stored.comment.body == "Still broken"
