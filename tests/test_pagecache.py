"""Kept pages (webapp/pagecache.py) and the data stamps behind them (webapp/stamps.py): a
repeated view costs only the sign-in statement, and whatever anyone changes, on this
worker or another, shows on the next view."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import Client, csrf_token
from tests.factories import make_site, make_ticket, make_user
from tests.test_views_lists import counting_queries, signed_in
from webapp import administration, create_app, services
from webapp.extensions import db
from webapp.models import Stamp

HTMX = {"HX-Request": "true"}


@pytest.fixture
def desk(app):
    app.config["REQUIRE_SITE"] = False
    alice = make_user("alice", display_name="Alice Meyer")
    sam = make_user("sam", role="staff", display_name="Sam Staff")
    ada = make_user("ada", role="admin", display_name="Ada Admin")
    site = make_site("Webshop", alice, sam)
    ticket = make_ticket(alice, "Printer jams", site=site)
    return {"alice": alice, "sam": sam, "ada": ada, "site": site, "ticket": ticket}


def stamps() -> dict[str, int]:
    db.session.commit()
    return dict(db.session.execute(sa.select(Stamp.name, Stamp.value)).all())


def without_token(response) -> str:
    """The page with its CSRF token left out (each request's token is signed anew)."""
    html = response.get_data(as_text=True)
    return html.replace(csrf_token_in(html), "TOKEN")


def csrf_token_in(html: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def row_of(html: str, ticket_id: int) -> str:
    """The row's site and assignee cells."""
    match = re.search(rf'<tr id="ticket-{ticket_id}".*?</tr>', html, re.S)
    assert match, f"no row of #{ticket_id}"
    return " | ".join(
        re.findall(
            r'<td (?:class="assignee" )?data-label="(?:Site|Assigned to)">([^<]*)', match.group(0)
        )
    )


@pytest.mark.parametrize("path", ["/tickets/?tab=all", "/tickets/{ticket}", "/"])
def test_a_repeated_view_takes_only_the_sign_in_statement(app, desk, path):
    client = signed_in(app, "sam")
    url = path.format(ticket=desk["ticket"].id)
    first = client.get(url)
    with counting_queries() as statements:
        again = client.get(url)
    assert again.status_code == 200
    assert len(statements) == 1, statements  # the user, their bell and the stamps
    assert without_token(again) == without_token(first)


def test_a_change_by_someone_else_shows_on_the_next_view(app, desk):
    client = signed_in(app, "sam")
    ticket = desk["ticket"]
    assert "Sam Staff" not in row_of(
        client.get("/tickets/?tab=all").get_data(as_text=True), ticket.id
    )
    services.take(actor=desk["sam"], ticket=ticket)
    row = row_of(client.get("/tickets/?tab=all").get_data(as_text=True), ticket.id)
    assert "Sam Staff" in row
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    services.comment(actor=desk["alice"], ticket=ticket, body="It jams on every page.")
    assert "It jams on every page." not in page
    assert "It jams on every page." in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)


def test_the_home_page_shows_a_new_ticket_and_a_new_colleague_on_the_next_view(app, desk):
    client = signed_in(app, "ada")
    first = client.get("/").get_data(as_text=True)
    assert "Scanner is slow" not in first and "Tia Staff" not in first
    make_ticket(desk["alice"], "Scanner is slow")
    again = client.get("/").get_data(as_text=True)
    assert "Scanner is slow" in again and "Tia Staff" not in again
    make_user("tia", role="staff", display_name="Tia Staff")
    assert "Tia Staff" in client.get("/").get_data(as_text=True)  # the admin's team


def test_a_renamed_site_or_person_shows_on_the_next_view(app, desk):
    client = signed_in(app, "sam")
    ticket = desk["ticket"]
    assert "Webshop" in row_of(client.get("/tickets/?tab=all").get_data(as_text=True), ticket.id)
    administration.save_site(
        actor=desk["ada"], site=desk["site"], name="Online shop", description="", state="active"
    )
    services.take(actor=desk["sam"], ticket=ticket)
    html = client.get("/tickets/?tab=all").get_data(as_text=True)
    assert "Online shop" in row_of(html, ticket.id) and "Sam Staff" in row_of(html, ticket.id)
    assert ">Online shop</option>" in html and ">Webshop</option>" not in html  # the filter
    administration.update_user(
        actor=desk["ada"], user=desk["sam"], display_name="Samuel Staff",
        email=desk["sam"].email, language="en",
    )  # fmt: skip
    assert "Samuel Staff" in row_of(
        client.get("/tickets/?tab=all").get_data(as_text=True), ticket.id
    )


def test_a_kept_page_carries_the_token_of_the_session_that_asks(app, desk):
    """Two browsers of one person: the second gets the page the first was given, with its
    own CSRF token, and its forms work."""
    first, second = signed_in(app, "sam"), signed_in(app, "sam")
    url = "/tickets/?tab=all"
    mine = first.get(url).get_data(as_text=True)
    theirs = second.get(url).get_data(as_text=True)
    token = csrf_token(second, url)
    assert token in theirs and token not in mine
    take = second.post(
        f"/tickets/{desk['ticket'].id}/take?as=row", data={"csrf_token": token}, headers=HTMX
    )
    assert take.status_code == 200 and "Sam Staff" in take.get_data(as_text=True)


def test_kept_rows_carry_the_token_of_the_session_that_asks(app, desk):
    """After a change elsewhere the list is drawn anew from kept rows, which the first
    browser's request drew: in the second's page every row's forms carry its own token."""
    first, second = signed_in(app, "sam"), signed_in(app, "sam")
    url = "/tickets/?tab=all"
    mine = csrf_token_in(first.get(url).get_data(as_text=True))
    other = make_ticket(author=desk["alice"], summary="Another one")
    services.take(actor=desk["sam"], ticket=other)
    db.session.commit()
    theirs = second.get(url).get_data(as_text=True)
    token = csrf_token_in(theirs)
    row = re.search(rf'<tr id="ticket-{desk["ticket"].id}".*?</tr>', theirs, re.S).group(0)
    assert token != mine and mine not in theirs and row.count(token) == 3


def test_a_flashed_message_is_shown_though_the_page_was_kept(app, desk):
    client = signed_in(app, "alice")
    token = csrf_token(client, "/tickets/new")
    response = client.post(
        "/tickets/new",
        data={
            "csrf_token": token,
            "summary": "Scanner is slow",
            "description": "It takes a minute to scan each page since Monday.",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    url = response.headers["Location"]
    shown = client.get(url).get_data(as_text=True)
    assert "is reported" in shown
    assert "is reported" not in client.get(url).get_data(as_text=True)


def test_the_bell_counts_what_came_in_since_the_page_was_kept(app, desk):
    client = signed_in(app, "alice")
    url = f"/tickets/{desk['ticket'].id}"

    def bell() -> str:
        return re.search(
            r'class="badge" data-count="(\d+)"', client.get(url).get_data(as_text=True)
        )[1]

    assert bell() == bell() == "0"  # the second view is the kept page
    services.take(actor=desk["sam"], ticket=desk["ticket"])
    assert bell() == "1"
    client.post("/notifications/read-all", data={"csrf_token": csrf_token(client, url)})
    assert bell() == "0"  # only the count changed: a page is kept under it


def test_a_worker_sees_what_another_worker_wrote(app, desk):
    """Two processes' worth of kept pages: the page one drew goes stale when the other
    writes, without either telling the other anything."""
    other = create_app(
        {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test-secret",
         "TESTING": True, "REQUIRE_SITE": False}
    )  # fmt: skip
    other.test_client_class = Client
    here, there = signed_in(app, "sam"), signed_in(other, "sam")
    url = "/tickets/?tab=all"
    assert "Sam Staff" not in row_of(here.get(url).get_data(as_text=True), desk["ticket"].id)
    token = csrf_token(there, url)
    there.post(f"/tickets/{desk['ticket'].id}/take?as=row", data={"csrf_token": token})
    assert "Sam Staff" in row_of(here.get(url).get_data(as_text=True), desk["ticket"].id)
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_stamps_move_with_the_writes_pages_show_and_only_with_them(app, desk):
    start = stamps()
    services.take(actor=desk["sam"], ticket=desk["ticket"])
    assert stamps() == {**start, "tickets": start["tickets"] + 1}
    make_user("bob")
    assert stamps() == {"tickets": start["tickets"] + 1, "setup": start["setup"] + 1}
    moved = stamps()
    client = signed_in(app, "alice")  # a sign-in, a page view, marking notifications read
    client.get("/notifications")
    client.post("/notifications/read-all", data={"csrf_token": csrf_token(client, "/")})
    assert stamps() == moved


def test_a_write_rolled_back_moves_nothing(app, desk):
    start = stamps()
    desk["site"].name = "Never saved"
    db.session.flush()
    db.session.rollback()
    assert stamps() == start


def test_a_kept_row_is_only_given_to_viewers_it_was_drawn_for(app, desk):
    """Staff rows have a checkbox and menus; the author's row of the same ticket has the
    menu the author may use, and nothing else."""
    staff, author = signed_in(app, "sam"), signed_in(app, "alice")
    ticket = desk["ticket"]
    for client, checkbox, assign in ((staff, True, True), (author, False, False)) * 2:
        html = client.get("/tickets/?tab=all").get_data(as_text=True)
        row = re.search(rf'<tr id="ticket-{ticket.id}".*?</tr>', html, re.S).group(0)
        assert ('name="ids"' in row) is checkbox
        assert ("assign-menu" in row) is assign
        assert csrf_token_in(html) in row  # the row's forms carry this session's token


def test_kept_pages_read_outside_a_transaction_on_postgresql(app, desk, database_url):
    """On PostgreSQL a list or ticket page runs its statements in autocommit: no BEGIN and
    ROLLBACK round trips around a page served kept. Writes keep their transaction."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's transactions cost no round trip")
    client = signed_in(app, "sam")
    token = csrf_token(client, "/tickets/")
    ticket = desk["ticket"].id
    seen: list[tuple[str, bool]] = []

    def note(conn, cursor, statement, *args):
        autocommit = conn.connection.dbapi_connection.autocommit
        seen.append((statement.split()[0], autocommit))

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        for path in ("/tickets/?tab=all", f"/tickets/{ticket}"):
            for _ in range(2):  # drawn, then kept
                assert client.get(path).status_code == 200
        reads = list(seen)
        seen.clear()
        client.post(f"/tickets/{ticket}/take", headers={**HTMX, "X-CSRFToken": token})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert reads and all(autocommit for _, autocommit in reads), reads
    # The take's one statement (monitor._at_once), in the transaction.
    assert ("WITH", False) in seen and not any(autocommit for _, autocommit in seen), seen
