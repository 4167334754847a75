"""Nobody reads a ticket they may not see, by any route. A private ticket and a deleted one
carry unique markers in every field that is shown somewhere (summary, description,
comments, waiting for, end user, attachment name); each visitor who may not see them walks
every route of the app — pages, fragments, CSV exports, attachments, search, suggestions,
notifications, the API — with that ticket's ids, and with searches for the markers. Every
answer about those objects is a 401, 403, 404 or a redirect to sign in, and no answer
contains a marker. POSTs on them are refused and change nothing."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage

from tests.conftest import csrf_token
from tests.factories import make_site, make_ticket, make_user
from tests.permissions_table import TABLE
from tests.test_permissions import USERNAMES, visitor_client
from webapp import accounts, administration, api_tokens, services, webhooks
from webapp.extensions import db
from webapp.models import Attachment, Change, Comment, Notification, Ticket, TicketType

PRIVATE = "zqxprivatemarker"
DELETED = "zqxdeletedmarker"
REFUSED = {302, 401, 403, 404}
# Who may not see the private ticket: an owner who is neither author nor assignee, a
# subscriber of its site (private tickets are not shared with subscribers), a deactivated
# account, and nobody signed in. Nobody at all sees the deleted one.
OUTSIDERS = ("anonymous", "other", "subscriber", "deactivated")
OBJECT_ARGS = {"ticket_id", "comment_id", "attachment_id", "notification_id"}


def _png(name: str) -> FileStorage:
    data = io.BytesIO()
    Image.new("RGB", (8, 8)).save(data, "PNG")
    data.seek(0)
    return FileStorage(data, filename=name)


def _marked_ticket(author, sam, site, marker: str, *, private: bool) -> dict[str, int]:
    ticket = make_ticket(author, f"Salary list {marker}", site=site, private=private,
                         description=f"The file {marker} holds every salary.")  # fmt: skip
    services.edit(actor=sam, ticket=ticket, version=ticket.version,
                  waiting_for=f"HR {marker}", end_user_name=f"Erin {marker}")  # fmt: skip
    change = services.comment(actor=author, ticket=ticket, body=f"See {marker} again.")
    services.comment(actor=sam, ticket=ticket, body=f"Looking at {marker}.")
    services.attach(actor=author, ticket=ticket, files=[_png(f"{marker}.png")])
    attachment = db.session.scalar(
        sa.select(Attachment.id).where(Attachment.ticket_id == ticket.id)
    )
    note = db.session.scalar(
        sa.select(Notification.id).join(Change).where(Change.ticket_id == ticket.id)
    )
    return {"ticket": ticket.id, "comment": change.comment.id, "attachment": attachment,
            "notification": note, "version": ticket.version, "staff_user": sam.id}  # fmt: skip


@pytest.fixture
def scene(app):
    alice, carol = make_user("alice"), make_user("carol")
    make_user("bob")
    sam, ada = make_user("sam", role="staff"), make_user("ada", role="admin")
    make_user("dan")
    site = make_site("Payroll", alice, carol)
    kind = TicketType(name="Question")
    db.session.add(kind)
    db.session.commit()
    private = _marked_ticket(alice, sam, site, PRIVATE, private=True)
    deleted = _marked_ticket(alice, sam, site, DELETED, private=False)
    administration.delete_ticket(actor=ada, ticket=db.session.get(Ticket, deleted["ticket"]))
    hook = webhooks.create(url="https://hooks.example.com/", site=None, events=["created"])
    db.session.commit()
    others = {"site": site.id, "user": alice.id, "type": kind.id,
              "token": api_tokens.create(user=alice, name="alice's")[0].id, "webhook": hook.id,
              "group": accounts.role_group(app.config["STAFF_GROUP"]).id}  # fmt: skip
    return {"private": private | others, "deleted": deleted | others}


def _urls(app, ids: dict[str, int]) -> list[tuple[str, str, str]]:
    """(method, endpoint, URL) of every route, with the marked ticket's ids."""
    values = {"ticket_id": ids["ticket"], "comment_id": ids["comment"],
              "attachment_id": ids["attachment"], "notification_id": ids["notification"],
              "site_id": ids["site"], "user_id": ids["user"], "type_id": ids["type"],
              "token_id": ids["token"], "webhook_id": ids["webhook"],
              "group_id": ids["group"]}  # fmt: skip
    found = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, rule.endpoint, url))
    return found


# Searches for words of the marked tickets (not the marker: a page may repeat its query).
SEARCHES = [
    "/tickets/?tab=all&q=salary", "/tickets/?tab=all", "/tickets/?tab=all&__htmx",
    "/tickets.csv?tab=all", "/tickets.csv?tab=all&q=salary", "/tickets/suggest?summary=salary",
    "/tickets/poll?tab=all&since=0", "/notifications", "/statistics", "/",
]  # fmt: skip
API_SEARCHES = ["/api/v1/tickets?tab=all&q=salary", "/api/v1/tickets?tab=all",
                "/api/v1/notifications"]  # fmt: skip


def _snapshot(ticket_id: int) -> tuple:
    """What a refused request must leave as it was: the marked ticket and all it has.
    (Routes without its ids, like reporting a new ticket, may well succeed.)"""
    ticket = sa.select(Ticket.version, Ticket.deleted).where(Ticket.id == ticket_id)
    counts = tuple(
        db.session.scalar(sa.select(sa.func.count()).where(model.ticket_id == ticket_id))
        for model in (Comment, Change, Notification, Attachment)
    )
    state = (db.session.execute(ticket).one(), counts)
    db.session.rollback()
    return state


@pytest.mark.parametrize("visitor", OUTSIDERS)
@pytest.mark.parametrize("which", ["private", "deleted"])
def test_a_ticket_one_may_not_see_leaks_by_no_route(app, scene, visitor, which):
    marker = PRIVATE if which == "private" else DELETED
    ids = scene[which]
    client = visitor_client(app, visitor, ids)
    api = app.test_client()
    if visitor != "anonymous":
        user = accounts.find_user(USERNAMES[visitor])
        api.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + api_tokens.create(
            user=user, name="probe")[1]  # fmt: skip
    forms = {(m, e): data for m, e, _cells, data in TABLE}
    before = _snapshot(ids["ticket"])
    token_page = "/login" if visitor in ("anonymous", "deactivated") else "/"
    token = csrf_token(client, token_page)
    leaks, answered = [], []
    for method, endpoint, url in _urls(app, ids):
        if endpoint == "auth.logout":
            continue  # would end the visitor's session for the routes after it
        caller = api if endpoint.startswith("api.") else client
        if method == "GET":
            response = caller.get(url)
        elif endpoint.startswith("api."):
            response = caller.open(url, method=method, json=forms.get((method, endpoint)) or {})
        else:
            form = {k: v.format(**ids) for k, v in (forms.get((method, endpoint)) or {}).items()
                    if not v.startswith("@")}  # fmt: skip
            response = caller.open(url, method=method, data={**form, "csrf_token": token})
            if response.status_code == 400:  # a route before this one reset the session
                token = csrf_token(client, token_page)
                response = caller.open(url, method=method, data={**form, "csrf_token": token})
        body = response.get_data()
        response.close()
        if marker.encode() in body:
            leaks.append(f"{method} {url}")
        rule_args = next(r.arguments for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        if rule_args & OBJECT_ARGS and response.status_code not in REFUSED:
            answered.append(f"{method} {url}: {response.status_code}")
    for path in SEARCHES:
        response = client.get(path)
        if marker.encode() in response.get_data():
            leaks.append(f"GET {path}")
    for path in API_SEARCHES:
        if marker.encode() in api.get(path).get_data():
            leaks.append(f"GET {path}")
    assert leaks == [], "the marker was in these answers"
    assert answered == [], "these answered about a ticket the visitor may not see"
    assert _snapshot(ids["ticket"]) == before, "a refused request changed something"


def test_the_markers_are_there_for_those_who_may_see_them(app, scene):
    """The probe above can fail: the author and staff do read the private marker."""
    for visitor in ("owner", "staff"):
        client = visitor_client(app, visitor, scene["private"])
        page = client.get(f"/tickets/{scene['private']['ticket']}").get_data(as_text=True)
        assert PRIVATE in page
        listed = client.get("/tickets/?tab=all&q=salary").get_data(as_text=True)
        assert PRIVATE in listed
        attachment = client.get(f"/attachments/{scene['private']['attachment']}")
        assert attachment.status_code == 200
        attachment.close()
    staff = visitor_client(app, "staff", scene["deleted"])
    assert staff.get(f"/tickets/{scene['deleted']['ticket']}").status_code == 404
