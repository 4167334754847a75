"""The workflow tables, tested without an app."""

from __future__ import annotations

import pytest

from webapp.workflow import LINO, SIMPLETICKETS, SPIRE, WORKFLOWS, may_move, next_states


def names(states):
    return [s.name for s in states]


def test_lino_states_follow_the_reference_table():
    table = [(s.value, s.name, s.label, s.symbol, s.active) for s in LINO.states]
    assert table == [
        (10, "new", "New", "⚹", True),
        (15, "talk", "Talk", "☎", True),
        (20, "opened", "Open", "☉", True),
        (22, "working", "Working", "⚒", True),
        (30, "sleeping", "Sleeping", "☾", False),
        (40, "ready", "Ready", "☐", True),
        (50, "closed", "Closed", "☑", False),
        (60, "cancelled", "Refused", "☒", False),
    ]


@pytest.mark.parametrize("wf", WORKFLOWS.values(), ids=list(WORKFLOWS))
def test_staff_may_move_any_ticket_to_any_other_state(wf):
    for current in wf.states:
        targets = names(next_states(wf, current.name, staff=True, author=False))
        assert targets == [s.name for s in wf.states if s.name != current.name]


def test_lino_author_may_cancel_while_new_and_answer_a_ready_ticket():
    assert names(next_states(LINO, "new", staff=False, author=True)) == ["cancelled"]
    assert names(next_states(LINO, "ready", staff=False, author=True)) == ["opened", "closed"]
    assert next_states(LINO, "working", staff=False, author=True) == []


def test_owner_cannot_reopen_a_closed_ticket_but_staff_can():
    assert next_states(LINO, "closed", staff=False, author=True) == []
    assert may_move(LINO, "closed", "opened", staff=True, author=False)


def test_someone_elses_ticket_offers_an_owner_nothing():
    for s in LINO.states:
        assert next_states(LINO, s.name, staff=False, author=False) == []


def test_simpletickets_owner_reopens_a_solved_ticket_but_not_a_closed_one():
    assert names(next_states(SIMPLETICKETS, "solved", staff=False, author=True)) == ["assigned"]
    assert next_states(SIMPLETICKETS, "closed", staff=False, author=True) == []


def test_unknown_and_same_state_are_never_allowed():
    assert not may_move(SPIRE, "ready", "ready", staff=True, author=True)
    assert not may_move(SPIRE, "ready", "nonsense", staff=True, author=True)


def test_a_state_from_another_workflow_is_still_shown():
    shown = SPIRE.describe("sleeping")
    assert (shown.label, shown.active) == ("Sleeping", False)
