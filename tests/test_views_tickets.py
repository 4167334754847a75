"""Ticket pages and actions over HTTP: the public contract, fragments, redirects, errors."""

from __future__ import annotations

import csv
import io
import re

import pytest
from werkzeug.datastructures import FileStorage

from tests.conftest import AuthActions, csrf_token
from tests.factories import make_site, make_ticket, make_user
from webapp import accounts, administration, services
from webapp.extensions import db
from webapp.models import Ticket, TicketType

HTMX = {"HX-Request": "true"}


@pytest.fixture
def alice(app):
    return make_user("alice", display_name="Alice Meyer")


@pytest.fixture
def sam(app):
    return make_user("sam", role="staff", display_name="Sam Staff")


def signed_in(app, username: str):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def post(client, url: str, data: dict | None = None, htmx: bool = False):
    data = {"csrf_token": csrf_token(client, "/"), **(data or {})}
    return client.post(url, data=data, headers=HTMX if htmx else {})


def test_report_a_ticket_through_the_public_form(app, alice):
    site = make_site("Webshop", alice)
    kind = TicketType(name="Error")
    db.session.add(kind)
    db.session.commit()
    client = signed_in(app, "alice")
    assert "Webshop" in client.get("/tickets/new").get_data(as_text=True)  # kept from here on
    response = post(
        client,
        "/tickets/new",
        {
            "summary": "Cart empties itself",
            "description": "After ten minutes the cart is empty again.",
            "site": str(site.id),
            "ticket_type": str(kind.id),
            "priority": "40",
            "private": "y",
        },
    )
    assert response.status_code == 303
    ticket = db.session.get(Ticket, 1)
    assert response.headers["Location"] == f"/tickets/{ticket.id}"
    assert (ticket.author, ticket.site, ticket.ticket_type) == (alice, site, kind)
    assert (ticket.priority, ticket.private, ticket.state) == (40, True, "new")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cart empties itself" in page and "is reported" in page


def test_a_description_that_says_nothing_gets_a_friendly_422(app, alice):
    client = signed_in(app, "alice")
    response = post(client, "/tickets/new", {"summary": "Broken", "description": "..."})
    assert response.status_code == 422
    assert "Please describe the problem" in response.get_data(as_text=True)
    assert db.session.query(Ticket).count() == 0


def test_unknown_site_is_a_422_not_a_500(app, alice):
    client = signed_in(app, "alice")
    response = post(
        client,
        "/tickets/new",
        {"summary": "Broken", "description": "It does not work at all.", "site": "999"},
    )
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_owners_do_not_see_the_end_user_fields(app, alice, sam):
    assert 'name="end_user_name"' not in signed_in(app, "alice").get("/tickets/new").text
    assert 'name="end_user_name"' in signed_in(app, "sam").get("/tickets/new").text


def test_a_ticket_you_may_not_see_is_a_404(app, alice):
    make_user("bob")
    ticket = make_ticket(alice)
    bob = signed_in(app, "bob")
    assert bob.get(f"/tickets/{ticket.id}").status_code == 404
    assert bob.get("/tickets/999").status_code == 404
    assert post(bob, f"/tickets/{ticket.id}/comments", {"body": "Hello there"}).status_code == 404


def test_an_action_on_a_ticket_one_may_not_see_is_a_404_and_one_stays_signed_in(app, alice, sam):
    """Actions read their ticket (or file) with the sign-in, in one statement: none to be
    found leaves the sign-in as it was."""
    make_user("bob")
    private = make_ticket(alice, private=True)
    bob, staff = signed_in(app, "bob"), signed_in(app, "sam")
    for client in (bob, staff):
        for url in ("/tickets/999/take?as=row", "/tickets/999/comments", "/attachments/9/delete"):
            assert post(client, url, {"body": "Hello"}, htmx=True).status_code == 404, url
    mine = post(bob, f"/tickets/{private.id}/state?as=row", {"state": "cancelled"}, htmx=True)
    assert mine.status_code == 404
    assert "Bob" in bob.get("/").text and "Sam Staff" in staff.get("/").text  # signed in
    assert post(staff, f"/tickets/{private.id}/take?as=row", htmx=True).status_code == 200


def test_ticket_page_shows_only_the_actions_this_viewer_may_take(app, alice, sam):
    ticket = make_ticket(alice)
    owner_page = signed_in(app, "alice").get(f"/tickets/{ticket.id}").text
    assert "/take" not in owner_page and "/assign" not in owner_page
    assert re.findall(r'name="state" value="(\w+)"', owner_page) == ["cancelled"]
    staff_page = signed_in(app, "sam").get(f"/tickets/{ticket.id}").text
    assert f"/tickets/{ticket.id}/take" in staff_page
    assert len(re.findall(r'name="state" value="(\w+)"', staff_page)) == 7


def test_take_with_htmx_answers_the_header_fragment(app, alice, sam):
    ticket = make_ticket(alice)
    response = post(signed_in(app, "sam"), f"/tickets/{ticket.id}/take", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.startswith('<section id="ticket-header"') and "<html" not in html
    assert 'id="ticket-assignee">Sam Staff<' in html
    assert 'hx-swap-oob="beforeend:#timeline"' in html  # its entry, appended


def shown(html: str) -> str:
    """The ticket's version a page or an answer says it shows (its forms send it)."""
    return re.search(r'id="shown-version" name="shown" value="(\d+)"', html).group(1)


def test_answers_on_the_ticket_page_append_what_it_lacks_and_no_more(app, alice, sam):
    ticket = make_ticket(alice)
    client = signed_in(app, "sam")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'hx-include="#shown-version"' in page
    taken = post(client, f"/tickets/{ticket.id}/take", {"shown": shown(page)}, True)
    html = taken.get_data(as_text=True)
    assert html.startswith('<section id="ticket-header"')
    assert 'hx-swap-oob="beforeend:#timeline"' in html and html.count('<li class="entry') == 1
    assert 'id="change-1"' not in html  # the entries the page has are not sent again
    assert int(shown(html)) == int(shown(page)) + 1
    services.comment(actor=alice, ticket=ticket, body="It jams on page two.")  # meanwhile
    moved = post(client, f"/tickets/{ticket.id}/state", {"state": "working", "shown": shown(html)},
                 True).get_data(as_text=True)  # fmt: skip
    appended = moved[moved.index('<ol hx-swap-oob="beforeend:#timeline">') :]
    assert appended.count('<li class="entry') == 2 and 'id="change-1"' not in appended
    assert appended.index("It jams on page two.") < appended.index("Working")
    assert int(shown(moved)) == int(shown(html)) + 2
    services.comment(actor=alice, ticket=ticket, body="And on page three.")  # meanwhile
    services.change_state(actor=make_user("tia", role="staff"), ticket=ticket, state="ready")
    posted = post(client, f"/tickets/{ticket.id}/comments",
                  {"body": "Fixed the roller.", "shown": shown(moved)}, True)  # fmt: skip
    html = posted.get_data(as_text=True)
    entries = html[: html.index('<section id="ticket-header"')]
    assert entries.count('<li class="entry') == 3 and "It jams on page two." not in entries
    assert entries.index("And on page three.") < entries.index("Fixed the roller.")
    header = html[html.index('<section id="ticket-header"') :]  # moved on meanwhile: again
    assert header.startswith('<section id="ticket-header"') and 'hx-swap-oob="true"' in header
    assert re.search(r'id="ticket-state"><span aria-hidden="true">.</span> Ready<', header)
    upload = {"file": (io.BytesIO(b"log"), "scan.log"), "shown": shown(html)}
    files = post(client, f"/tickets/{ticket.id}/attachments", upload, True)
    html = files.get_data(as_text=True)
    assert html.startswith('<section id="attachments"') and "scan.log" in html
    assert 'id="ticket-header"' not in html  # the page was up to date
    assert 'hx-swap-oob="beforeend:#timeline"' in html and html.count('<li class="entry') == 1


def test_a_page_behind_gets_its_header_and_files_only_when_others_changed_them(app, alice, sam):
    ticket = make_ticket(alice)
    client = signed_in(app, "sam")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    services.comment(actor=alice, ticket=ticket, body="Still jams.")  # meanwhile: words only
    said = {"body": "On it.", "shown": shown(page)}
    posted = post(client, f"/tickets/{ticket.id}/comments", said, True).get_data(as_text=True)
    assert posted.index("Still jams.") < posted.index("On it.")
    assert 'id="ticket-header"' not in posted and 'id="attachments"' not in posted
    log = FileStorage(io.BytesIO(b"paper jam at tray 2"), filename="jam.log")
    services.comment(actor=alice, ticket=ticket, body="The log.", files=[log])  # meanwhile
    taken = post(client, f"/tickets/{ticket.id}/take", {"shown": shown(posted)}, True)
    html = taken.get_data(as_text=True)
    assert html.startswith('<section id="ticket-header"')
    files = html[html.index('<section id="attachments"') :]
    assert files.startswith('<section id="attachments" class="card attachments"')
    assert 'hx-swap-oob="true"' in files[: files.index(">")] and "jam.log" in files


def test_take_from_a_list_row_answers_the_row(app, alice, sam):
    ticket = make_ticket(alice)
    client = signed_in(app, "sam")
    response = post(client, f"/tickets/{ticket.id}/take?as=row", htmx=True)
    html = response.get_data(as_text=True)
    assert html.startswith(f'<tr id="ticket-{ticket.id}" ')
    assert "Sam Staff" in html and "/take" not in html


def test_a_row_answer_names_the_site_and_the_assignee_as_they_are_now(app, alice, sam):
    """A row drawn alone names its site and assignee from what the worker keeps: after
    a site is renamed, and for someone who has left the staff, as they are now."""
    tia = make_user("tia", role="staff", display_name="Tia Tech")
    ada = make_user("ada", role="admin")
    site = make_site("Harbour office", alice)
    ticket = make_ticket(alice, site=site)
    client = signed_in(app, "sam")
    row = post(client, f"/tickets/{ticket.id}/assign?as=row", {"user": str(tia.id)}, True)
    assert "Harbour office" in row.text and "Tia Tech" in row.text  # now kept by the worker
    administration.save_site(
        actor=ada, site=site, name="Harbour depot", description="", state="active"
    )
    administration.remove_member(actor=ada, user=tia, group=accounts.role_group("staff"))
    row = post(client, f"/tickets/{ticket.id}/state?as=row", {"state": "working"}, True)
    assert row.status_code == 200
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.text)
    assert "Harbour depot" in cells and "Tia Tech" in cells
    assert f"Saved: #{ticket.id} is Working, assigned to Tia Tech." in row.text


def test_take_without_htmx_redirects_to_the_ticket(app, alice, sam):
    ticket = make_ticket(alice)
    response = post(signed_in(app, "sam"), f"/tickets/{ticket.id}/take")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/tickets/{ticket.id}"


def test_second_take_gets_409_and_shows_the_winner(app, alice, sam):
    make_user("tia", role="staff")
    ticket = make_ticket(alice)
    services.take(actor=sam, ticket=ticket)
    tia = signed_in(app, "tia")
    row = post(tia, f"/tickets/{ticket.id}/take?as=row", htmx=True)
    assert row.status_code == 409
    assert "Sam Staff has taken this ticket." in row.text and row.text.startswith("<tr")
    page = post(tia, f"/tickets/{ticket.id}/take")
    assert page.status_code == 409
    assert "<html" in page.text and "Sam Staff has taken this ticket." in page.text


def test_forbidden_action_is_a_403_with_a_message(app, alice):
    ticket = make_ticket(alice)
    client = signed_in(app, "alice")
    response = post(client, f"/tickets/{ticket.id}/state", {"state": "working"}, htmx=True)
    assert response.status_code == 403
    assert "You cannot move this ticket from New to Working." in response.text
    assert response.headers["HX-Retarget"] == "#alerts"


def test_state_change_by_name_and_bad_input(app, alice, sam):
    ticket = make_ticket(alice)
    client = signed_in(app, "sam")
    response = post(client, f"/tickets/{ticket.id}/state", {"state": "working"}, htmx=True)
    assert response.status_code == 200 and "Working" in response.text
    assert post(client, f"/tickets/{ticket.id}/state", {"state": "nope"}).status_code == 422
    assert post(client, f"/tickets/{ticket.id}/state", {}).status_code == 422
    assert post(client, f"/tickets/{ticket.id}/assign", {"user": "abc"}).status_code == 422


def test_assign_one_click_and_empty_user_unassigns(app, alice, sam):
    ticket = make_ticket(alice)
    client = signed_in(app, "sam")
    assert post(client, f"/tickets/{ticket.id}/assign", {"user": str(sam.id)}).status_code == 303
    db.session.refresh(ticket)
    assert ticket.assignee == sam
    page = client.get(f"/tickets/{ticket.id}").text
    assert 'aria-pressed="true">Sam Staff</button>' in page
    assert post(client, f"/tickets/{ticket.id}/assign", {"user": ""}).status_code == 303
    db.session.refresh(ticket)
    assert ticket.assignee is None


def test_whoever_leaves_the_staff_can_no_longer_be_assigned_at_once(app, alice, sam):
    tia, ada = make_user("tia", role="staff"), make_user("ada", role="admin")
    ticket = make_ticket(alice)
    client = signed_in(app, "sam")
    given = post(client, f"/tickets/{ticket.id}/assign", {"user": str(tia.id)}, True)
    assert given.status_code == 200 and "Tia" in given.text  # the staff now kept by the process
    administration.remove_member(actor=ada, user=tia, group=accounts.role_group("staff"))
    given = post(client, f"/tickets/{ticket.id}/assign", {"user": str(sam.id)}, True)
    assert given.status_code == 200 and "Sam Staff" in given.text  # still staff
    refused = post(client, f"/tickets/{ticket.id}/assign", {"user": str(tia.id)}, True)
    assert refused.status_code == 422 and "not an active staff member" in refused.text
    administration.add_member(actor=ada, user=tia, group=accounts.role_group("staff"))
    administration.set_active(actor=ada, user=tia, active=False)
    refused = post(client, f"/tickets/{ticket.id}/assign", {"user": str(tia.id)}, True)
    assert refused.status_code == 422 and "not an active staff member" in refused.text


def test_comment_with_htmx_answers_just_its_entry(app, alice):
    ticket = make_ticket(alice)
    client = signed_in(app, "alice")
    data = {"body": "Still **broken**", "shown": str(ticket.version)}  # as the page sends it
    response = post(client, f"/tickets/{ticket.id}/comments", data, True)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<li class="entry entry-comment"')
    assert html.count('<li class="entry') == 1 and "<strong>broken</strong>" in html
    assert int(shown(html)) == int(data["shown"]) + 1
    assert "<form" not in html  # the page empties its form itself (tessera.js)


def test_comment_without_htmx_lands_on_it_and_says_it_is_posted(app, alice):
    ticket = make_ticket(alice)
    client = signed_in(app, "alice")
    response = post(client, f"/tickets/{ticket.id}/comments", {"body": "Still broken"})
    assert response.status_code == 303
    (note,) = ticket.comments
    assert response.location.endswith(f"/tickets/{ticket.id}#comment-{note.id}")
    page = client.get(response.location).text
    assert '<p class="alert alert-success">Comment posted.</p>' in page
    assert "Still broken" in page


def test_empty_comment_with_htmx_gets_the_form_back_with_a_message(app, alice):
    ticket = make_ticket(alice)
    response = post(signed_in(app, "alice"), f"/tickets/{ticket.id}/comments", {"body": ""}, True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#comment-form"
    assert "Write something." in response.text


def test_comments_render_markdown_safely_and_link_visible_tickets(app, alice):
    bob = make_user("bob")
    mine = make_ticket(alice)
    hidden = make_ticket(bob)
    body = f"See #{mine.id} and #{hidden.id} <script>alert(1)</script> [x](javascript:alert(1))"
    services.comment(actor=alice, ticket=mine, body=body)
    page = signed_in(app, "alice").get(f"/tickets/{mine.id}").text
    assert f'<a href="/tickets/{mine.id}" class="ticket-ref"' in page
    assert f'href="/tickets/{hidden.id}"' not in page
    assert "<script>alert(1)</script>" not in page
    assert 'href="javascript:' not in page


def test_author_edits_a_comment_and_the_page_says_edited(app, alice):
    ticket = make_ticket(alice)
    note = services.comment(actor=alice, ticket=ticket, body="It is red.").comment
    client = signed_in(app, "alice")
    url = f"/tickets/{ticket.id}/comments/{note.id}/edit"
    assert client.get(url).status_code == 200
    assert post(client, url, {"body": "It is green."}).status_code == 303
    page = client.get(f"/tickets/{ticket.id}").text
    assert "It is green." in page and "(edited)" in page


def test_edit_page_saves_and_a_stale_edit_gets_a_409_that_keeps_the_text(app, alice, sam):
    ticket = make_ticket(alice, "Printer jams")
    client = signed_in(app, "alice")
    form = {
        "summary": "Printer 3 jams",
        "description": ticket.description,
        "priority": "20",
        "version": str(ticket.version),
    }
    services.edit(actor=sam, ticket=ticket, version=ticket.version, summary="Printer 2 jams")
    response = post(client, f"/tickets/{ticket.id}/edit", form)
    assert response.status_code == 409
    assert "Changed while you were editing" in response.text
    assert 'value="Printer 3 jams"' in response.text
    form["version"] = re.search(r'name="version" type="hidden" value="(\d+)"', response.text)[1]
    assert post(client, f"/tickets/{ticket.id}/edit", form).status_code == 303
    db.session.refresh(ticket)
    assert ticket.summary == "Printer 3 jams"


def monitor_rows(client, ticket_id: int) -> list[list[str]]:
    response = client.get(f"/tickets/{ticket_id}/monitor.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_monitor_csv_lists_every_change_in_order(app, alice, sam):
    ticket = make_ticket(alice, "Printer jams")
    services.take(actor=sam, ticket=ticket)
    services.comment(actor=alice, ticket=ticket, body="Thanks!")
    table = monitor_rows(signed_in(app, "sam"), ticket.id)
    assert table[0] == ["timestamp", "actor", "action", "field", "old", "new"]
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in table[1:]] == [
        ("alice", "created", "author", "", "alice"),
        ("alice", "created", "state", "", "new"),
        ("alice", "created", "summary", "", "Printer jams"),
        ("alice", "created", "description", "", ticket.description),
        ("alice", "created", "priority", "", "20"),
        ("sam", "take", "assignee", "", "sam"),
        ("sam", "take", "state", "new", "opened"),
        ("alice", "comment", "comment", "", "Thanks!"),
        ("alice", "comment", "last_commenter", "", "alice"),
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r[0]) for r in table[1:])


def test_monitor_csv_names_the_sites_and_types_a_change_mentions(app, alice, sam):
    """The stored ids come out as names: a site and a type set at the report, then each
    changed on its own, among changes that name neither."""
    webshop, office = make_site("Webshop", alice, sam), make_site("Office", alice, sam)
    error, question = TicketType(name="Error"), TicketType(name="Question")
    db.session.add_all([error, question])
    db.session.commit()
    ticket = make_ticket(alice, site=webshop, ticket_type=error)
    services.take(actor=sam, ticket=ticket)
    services.edit(actor=sam, ticket=ticket, version=ticket.version, site=office)
    services.edit(actor=sam, ticket=ticket, version=ticket.version, ticket_type=question)
    table = monitor_rows(signed_in(app, "sam"), ticket.id)
    named = {(r[2], r[3], r[4], r[5]) for r in table[1:] if r[3] in ("site", "ticket_type")}
    assert named == {
        ("created", "site", "", "Webshop"), ("created", "ticket_type", "", "Error"),
        ("edited", "site", "Webshop", "Office"), ("edited", "ticket_type", "Error", "Question"),
    }  # fmt: skip
    # A type no longer there is named by its number.
    gone = error.id
    db.session.delete(error)
    db.session.commit()
    table = monitor_rows(signed_in(app, "sam"), ticket.id)
    assert {(r[4], r[5]) for r in table[1:] if r[3] == "ticket_type"} == {
        ("", f"type {gone}"), (f"type {gone}", "Question"),
    }  # fmt: skip


def test_monitor_csv_neutralises_formulas(app, alice):
    ticket = make_ticket(alice, '=HYPERLINK("http://evil.example")')
    for body in ("@SUM(A1)", "+1+1", "-2 apples", "\tindented"):
        services.comment(actor=alice, ticket=ticket, body=f"{body} is what I typed")
    cells = [cell for row in monitor_rows(signed_in(app, "alice"), ticket.id) for cell in row]
    assert '\'=HYPERLINK("http://evil.example")' in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_monitor_download_follows_the_settings(app, alice, sam):
    ticket = make_ticket(alice)
    app.config["MONITOR_DOWNLOAD_OWNER"] = False
    owner = signed_in(app, "alice")
    assert owner.get(f"/tickets/{ticket.id}/monitor.csv").status_code == 403
    assert "History as CSV" not in owner.get(f"/tickets/{ticket.id}").text
    assert signed_in(app, "sam").get(f"/tickets/{ticket.id}/monitor.csv").status_code == 200
