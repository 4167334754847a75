"""The SQL budget of the main pages and actions (issue 9): every page a person opens all
day takes at most six statements, and no page or action takes more as the data grows:
more tickets, comments, notifications, subscribers. (The list's tabs and filters are
checked in test_views_lists.py.)"""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token
from tests.factories import make_site, make_ticket, make_user
from tests.test_views_lists import counting_queries, signed_in
from webapp import services
from webapp.extensions import db
from webapp.models import TicketType

HTMX = {"HX-Request": "true"}
PAGE_BUDGET = 6
# Writes load the user and the ticket (in one statement: tickets.reading.with_sign_in),
# record the change (the ticket's UPDATE, and the change with its fields in one INSERT),
# tell the people (one INSERT ... SELECT whatever their number) and answer with the
# changed row or entry; the staff and the webhooks are kept between setup changes
# (stamps.keep). A comment also writes itself (the database adds it to the search index)
# and answers with the ticket's files when it brought some.
ACTION_BUDGET = {"take": 4, "state": 4, "comment": 5}
# On PostgreSQL the UPDATE and the INSERTs are one statement (monitor._at_once).
ACTION_BUDGET_POSTGRESQL = {"take": 2, "state": 2, "comment": 2}


@pytest.fixture
def desk(app):
    app.config["REQUIRE_SITE"] = False
    alice = make_user("alice", display_name="Alice Meyer")
    sam = make_user("sam", role="staff", display_name="Sam Staff")
    make_user("tia", role="staff", display_name="Tia Staff")
    site = make_site("Webshop", alice, sam)
    db.session.add(TicketType(name="Error"))
    db.session.commit()
    return {"alice": alice, "sam": sam, "site": site}


def grow(desk, n: int) -> None:
    """More of everything: tickets with comments, subscribers, notifications."""
    people = [make_user() for _ in range(n)]
    for user in people:
        desk["site"].subscriptions.append(_subscription(user, desk["site"]))
    db.session.commit()
    for i in range(n):
        ticket = make_ticket(desk["alice"], f"Scanner {i} is slow", site=desk["site"])
        services.comment(actor=desk["alice"], ticket=ticket, body=f"Still slow ({i}).")


def _subscription(user, site):
    from webapp.models import Subscription

    return Subscription(user=user, site=site)


@pytest.mark.parametrize(
    "path", ["/", "/tickets/", "/tickets/{ticket}", "/notifications", "/statistics"]
)
def test_every_main_page_takes_at_most_six_statements_whatever_the_size(app, desk, path):
    client = signed_in(app, "sam")
    ticket = make_ticket(desk["alice"], "Printer jams", site=desk["site"])
    services.comment(actor=desk["alice"], ticket=ticket, body="Still jams, see #1.")
    budgets = []
    for more in (0, 8):
        grow(desk, more)
        services.comment(actor=desk["alice"], ticket=ticket, body=f"Again ({more}).")
        with counting_queries() as statements:
            response = client.get(path.format(ticket=ticket.id))
        assert response.status_code == 200
        budgets.append(len(statements))
    assert budgets[0] == budgets[1] <= PAGE_BUDGET, budgets


def action_post(action: str, desk) -> tuple[str, dict]:
    """A new ticket, taken for a state change, and the address and form of ``action`` on
    it as htmx posts them from its list row (a comment: from its page, which sends the
    version it shows)."""
    ticket = make_ticket(desk["alice"], "Printer jams", site=desk["site"])
    if action == "state":
        services.take(actor=desk["sam"], ticket=ticket)
    return {
        "take": (f"/tickets/{ticket.id}/take?as=row", {}),
        "state": (f"/tickets/{ticket.id}/state?as=row", {"state": "working"}),
        "comment": (
            f"/tickets/{ticket.id}/comments",
            {"body": "On it.", "shown": str(ticket.version)},
        ),
    }[action]


@pytest.mark.parametrize("action", sorted(ACTION_BUDGET))
def test_actions_take_the_same_statements_however_many_people_hear_of_them(app, desk, action):
    client = signed_in(app, "sam")
    token = csrf_token(client, "/tickets/")
    headers = {**HTMX, "X-CSRFToken": token}
    budgets = []
    for more in (0, 8):
        grow(desk, more)
        for _ in range(2):  # the second is counted: the first reads staff and webhooks
            url, data = action_post(action, desk)
            with counting_queries() as statements:
                response = client.post(url, data=data, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
        budgets.append(len(statements))
    told = len(re.findall("INSERT INTO notifications", "\n".join(statements)))
    assert told == 1  # one statement, for everyone who hears of it
    on_postgresql = db.engine.dialect.name == "postgresql"
    budget = (ACTION_BUDGET_POSTGRESQL if on_postgresql else ACTION_BUDGET)[action]
    assert budgets[0] == budgets[1] <= budget, budgets
