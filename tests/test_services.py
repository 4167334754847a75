"""The one door for ticket changes: what each service records, and what it refuses."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.factories import make_site, make_ticket, make_user
from webapp import services
from webapp.exceptions import Conflict, Forbidden, Invalid, NotFound, StaleEdit
from webapp.extensions import db
from webapp.models import Change, Comment, Priority


def rows(change: Change) -> list[tuple[str, str | None, str | None]]:
    return [(f.field, f.old, f.new) for f in change.fields]


def change_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Change))


@pytest.fixture
def people(app):
    return {
        "alice": make_user("alice"),
        "bob": make_user("bob"),
        "sam": make_user("sam", role="staff"),
        "tia": make_user("tia", role="staff"),
        "ada": make_user("ada", role="admin"),
    }


def test_report_needs_a_real_description(people):
    with pytest.raises(Invalid) as refused:
        services.create_ticket(actor=people["alice"], summary="Broken", description="...")
    assert "describe the problem" in refused.value.fields["description"]
    assert change_count() == 0


def test_only_staff_report_for_an_end_user(people):
    with pytest.raises(Forbidden):
        make_ticket(people["alice"], end_user_name="Marta Klein")
    ticket = make_ticket(people["sam"], end_user_name="Marta Klein")
    assert ticket.end_user_name == "Marta Klein"


def test_take_assigns_and_opens_a_new_ticket(people):
    ticket = make_ticket(people["alice"])
    change = services.take(actor=people["sam"], ticket=ticket)
    assert change.kind == "take"
    assert rows(change) == [("assignee", None, str(people["sam"].id)), ("state", "new", "opened")]
    assert (ticket.assignee, ticket.state) == (people["sam"], "opened")


def test_take_of_a_taken_ticket_is_a_conflict_naming_who_has_it(people):
    ticket = make_ticket(people["alice"])
    services.take(actor=people["sam"], ticket=ticket)
    before = change_count()
    with pytest.raises(Conflict, match="Sam has taken this ticket."):
        services.take(actor=people["tia"], ticket=ticket)
    assert change_count() == before


def test_owners_cannot_take_or_assign(people):
    ticket = make_ticket(people["alice"])
    with pytest.raises(Forbidden):
        services.take(actor=people["alice"], ticket=ticket)
    with pytest.raises(Forbidden):
        services.assign(actor=people["alice"], ticket=ticket, assignee=people["sam"])
    assert change_count() == 1


def test_steal_is_its_own_recorded_action(people):
    ticket = make_ticket(people["alice"])
    services.take(actor=people["sam"], ticket=ticket)
    change = services.steal(actor=people["tia"], ticket=ticket)
    assert change.kind == "steal"
    assert rows(change) == [("assignee", str(people["sam"].id), str(people["tia"].id))]
    with pytest.raises(Conflict, match="yours already"):
        services.steal(actor=people["tia"], ticket=ticket)


def test_steal_of_an_unassigned_ticket_points_to_take(people):
    with pytest.raises(Conflict, match="take it instead"):
        services.steal(actor=people["sam"], ticket=make_ticket(people["alice"]))


def test_assign_and_unassign_are_recorded(people):
    ticket = make_ticket(people["alice"])
    assigned = services.assign(actor=people["ada"], ticket=ticket, assignee=people["tia"])
    assert (assigned.kind, rows(assigned)) == (
        "assign",
        [("assignee", None, str(people["tia"].id))],
    )
    unassigned = services.assign(actor=people["sam"], ticket=ticket, assignee=None)
    assert (unassigned.kind, rows(unassigned)) == (
        "unassign",
        [("assignee", str(people["tia"].id), None)],
    )


def test_only_staff_can_be_assigned(people):
    ticket = make_ticket(people["alice"])
    with pytest.raises(Invalid):
        services.assign(actor=people["sam"], ticket=ticket, assignee=people["bob"])


def test_author_confirms_a_ready_ticket_closed(people):
    ticket = make_ticket(people["alice"])
    services.change_state(actor=people["sam"], ticket=ticket, state="ready")
    change = services.change_state(actor=people["alice"], ticket=ticket, state="closed")
    assert (change.actor, rows(change)) == (people["alice"], [("state", "ready", "closed")])


def test_author_cannot_reopen_a_closed_ticket_but_staff_can(people):
    ticket = make_ticket(people["alice"])
    services.change_state(actor=people["sam"], ticket=ticket, state="closed")
    with pytest.raises(Forbidden, match="from Closed to Open"):
        services.change_state(actor=people["alice"], ticket=ticket, state="opened")
    assert services.change_state(actor=people["sam"], ticket=ticket, state="opened")


def test_unknown_state_is_invalid_and_same_state_changes_nothing(people):
    ticket = make_ticket(people["alice"])
    with pytest.raises(Invalid):
        services.change_state(actor=people["sam"], ticket=ticket, state="bogus")
    assert services.change_state(actor=people["sam"], ticket=ticket, state="new") is None
    assert change_count() == 1


def test_nobody_else_sees_or_touches_a_ticket(people):
    ticket = make_ticket(people["alice"])
    for action in (
        lambda: services.change_state(actor=people["bob"], ticket=ticket, state="cancelled"),
        lambda: services.comment(actor=people["bob"], ticket=ticket, body="Me too, twice."),
        lambda: services.edit(actor=people["bob"], ticket=ticket, version=1, summary="x"),
    ):
        with pytest.raises(NotFound):
            action()
    assert change_count() == 1


def test_comment_updates_the_last_commenter(people):
    ticket = make_ticket(people["alice"])
    services.comment(actor=people["alice"], ticket=ticket, body="Still broken today.")
    change = services.comment(actor=people["sam"], ticket=ticket, body="Looking at it.")
    assert rows(change) == [
        ("comment", None, "Looking at it."),
        ("last_commenter", str(people["alice"].id), str(people["sam"].id)),
    ]
    assert ticket.last_commenter == people["sam"]


def test_empty_comment_is_refused(people):
    with pytest.raises(Invalid):
        services.comment(actor=people["alice"], ticket=make_ticket(people["alice"]), body="  ")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_only_the_writer_edits_a_comment_and_the_old_text_is_kept(people):
    ticket = make_ticket(people["alice"])
    note = services.comment(actor=people["alice"], ticket=ticket, body="It is red.").comment
    with pytest.raises(Forbidden):
        services.edit_comment(actor=people["ada"], comment=note, body="It is blue.")
    change = services.edit_comment(actor=people["alice"], comment=note, body="It is green.")
    assert (change.kind, change.comment, rows(change)) == (
        "comment_edited",
        note,
        [("comment", "It is red.", "It is green.")],
    )
    assert note.body == "It is green." and note.edited == change.created


def test_edit_records_only_what_changed(people):
    ticket = make_ticket(people["alice"], "Printer jams")
    change = services.edit(
        actor=people["alice"],
        ticket=ticket,
        version=ticket.version,
        summary="Printer jams on floor 2",
        description=ticket.description,
        priority=Priority.URGENT,
    )
    assert change.kind == "edited"
    assert rows(change) == [
        ("summary", "Printer jams", "Printer jams on floor 2"),
        ("priority", "20", "40"),
    ]


def test_owner_edits_only_their_active_ticket_and_only_owner_fields(people):
    ticket = make_ticket(people["alice"])
    with pytest.raises(Forbidden, match="waiting_for"):
        services.edit(actor=people["alice"], ticket=ticket, version=1, waiting_for="me")
    services.change_state(actor=people["sam"], ticket=ticket, state="closed")
    with pytest.raises(Forbidden, match="finished"):
        services.edit(actor=people["alice"], ticket=ticket, version=ticket.version, summary="x")


def test_author_is_never_changed_by_an_editor(people):
    ticket = make_ticket(people["alice"])
    with pytest.raises(Forbidden):
        services.edit(actor=people["sam"], ticket=ticket, version=1, author=people["sam"])
    services.edit(actor=people["sam"], ticket=ticket, version=1, waiting_for="Alice's answer")
    assert ticket.author == people["alice"]


def test_stale_edit_of_the_same_field_is_a_conflict_showing_what_changed(people):
    ticket = make_ticket(people["alice"], "Printer jams")
    seen = ticket.version
    services.edit(actor=people["sam"], ticket=ticket, version=seen, summary="Printer 2 jams")
    with pytest.raises(StaleEdit) as stale:
        services.edit(actor=people["alice"], ticket=ticket, version=seen, summary="Printer 3")
    assert set(stale.value.fields) == {"summary"}
    assert [rows(c) for c in stale.value.changes] == [
        [("summary", "Printer jams", "Printer 2 jams")]
    ]
    assert ticket.summary == "Printer 2 jams"


def test_stale_edit_of_other_fields_keeps_both(people):
    ticket = make_ticket(people["alice"], "Printer jams")
    seen = ticket.version
    services.comment(actor=people["sam"], ticket=ticket, body="Which printer is it?")
    services.edit(actor=people["alice"], ticket=ticket, version=seen, summary="Printer 3 jams")
    assert ticket.summary == "Printer 3 jams"
    assert ticket.last_commenter == people["sam"]


def test_text_limits_and_nul_bytes_are_refused(people):
    with pytest.raises(Invalid) as refused:
        make_ticket(people["alice"], "x" * 251)
    assert "summary" in refused.value.fields
    with pytest.raises(Invalid):
        make_ticket(people["alice"], "Nul\x00byte")


def test_create_records_site_and_the_type_reporting_type(people):
    site = make_site("Webshop", people["alice"])
    ticket = make_ticket(people["alice"], site=site, private=True)
    fields = dict((f.field, f.new) for f in ticket.changes[0].fields)
    assert fields["site"] == str(site.id) and fields["private"] == "true"


@pytest.fixture
def simpletickets(app, people):
    app.config["WORKFLOW"] = "simpletickets"
    return people


def test_simpletickets_take_assigns(simpletickets):
    ticket = make_ticket(simpletickets["alice"])
    services.take(actor=simpletickets["sam"], ticket=ticket)
    assert ticket.state == "assigned"


def test_simpletickets_staff_who_opens_a_new_ticket_gets_it(simpletickets):
    ticket = make_ticket(simpletickets["alice"])
    change = services.change_state(actor=simpletickets["sam"], ticket=ticket, state="in_progress")
    assert rows(change) == [
        ("state", "new", "in_progress"),
        ("assignee", None, str(simpletickets["sam"].id)),
    ]


def test_simpletickets_owner_reopens_solved_but_not_closed(simpletickets):
    alice, sam = simpletickets["alice"], simpletickets["sam"]
    ticket = make_ticket(alice)
    services.change_state(actor=sam, ticket=ticket, state="solved")
    services.change_state(actor=alice, ticket=ticket, state="assigned")
    services.change_state(actor=sam, ticket=ticket, state="closed")
    with pytest.raises(Forbidden):
        services.change_state(actor=alice, ticket=ticket, state="assigned")


def test_spire_tickets_start_ready_and_the_author_can_mark_them_done(app, people):
    app.config["WORKFLOW"] = "spire"
    ticket = make_ticket(people["alice"])
    assert ticket.state == "ready"
    services.take(actor=people["sam"], ticket=ticket)
    assert ticket.state == "in_progress"
    services.change_state(actor=people["alice"], ticket=ticket, state="done")
    assert ticket.state == "done"
