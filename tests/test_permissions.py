"""Every cell of the permissions table (tests/permissions_table.py), and a check that no
route is missing from it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app
from PIL import Image
from werkzeug.datastructures import FileStorage

from tests import dbstate
from tests.conftest import AuthActions, csrf_token
from tests.factories import make_site, make_ticket, make_user
from tests.permissions_table import TABLE, VISITORS
from webapp import accounts, administration, api_tokens, create_app, notify, services, webhooks
from webapp.extensions import db
from webapp.models import Attachment, Notification, TicketType

USERNAMES = {"owner": "alice", "other": "bob", "subscriber": "carol", "staff": "sam",
             "admin": "ada", "deactivated": "dan"}  # fmt: skip


_SCENES: dict[str, tuple[dict[str, int], dbstate.Rows, dict[str, bytes]]] = {}


def scene(app) -> dict[str, int]:
    """Everything the table's rows act on, in the test's empty database; their ids.
    Built once per database and test process, then put back: some 90 ms less a cell."""
    files = Path(app.config["ATTACHMENTS_DIR"])
    kind = db.engine.dialect.name
    if kind not in _SCENES:
        ids = _build_scene(app)
        kept = {path.name: path.read_bytes() for path in files.iterdir()}
        _SCENES[kind] = (ids, dbstate.rows(), kept)
        return ids
    ids, rows, kept = _SCENES[kind]
    dbstate.put_back(rows)
    files.mkdir(parents=True, exist_ok=True)
    for name, content in kept.items():
        (files / name).write_bytes(content)
    return ids


def _build_scene(app) -> dict[str, int]:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    sam = make_user("sam", role="staff")
    make_user("ada", role="admin")
    make_user("dan")
    site = make_site("Webshop", alice, carol)
    kind = TicketType(name="Error")
    db.session.add(kind)
    db.session.commit()
    ticket = make_ticket(alice, "The printer jams", site=site)
    change = services.comment(actor=alice, ticket=ticket, body="It is red.")
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    png.seek(0)
    attached = services.attach(
        actor=alice, ticket=ticket, files=[FileStorage(png, filename="shot.png")]
    )
    attachment = db.session.scalar(
        sa.select(Attachment.id).where(Attachment.ticket_id == attached.ticket_id)
    )
    notify.catch_up(carol)  # she looks: hers, as she follows the site
    told = db.session.scalar(sa.select(Notification.id).where(Notification.change_id == change.id))
    hook = webhooks.create(url="https://hooks.example.com/", site=None, events=["created"])
    db.session.commit()
    staff_group = accounts.role_group(app.config["STAFF_GROUP"])
    return {"ticket": ticket.id, "comment": change.comment.id, "site": site.id, "user": bob.id,
            "group": staff_group.id, "type": kind.id, "staff_user": sam.id,
            "notification": told, "attachment": attachment,
            "token": api_tokens.create(user=alice, name="alice's")[0].id,
            "webhook": hook.id,
            "version": ticket.version}  # fmt: skip


def visitor_client(app, visitor: str, ids: dict[str, int]):
    client = app.test_client()
    if visitor == "anonymous":
        return client
    AuthActions(client).login(USERNAMES[visitor])
    if visitor == "deactivated":
        ada, dan = accounts.find_user("ada"), accounts.find_user("dan")
        administration.set_active(actor=ada, user=dan, active=False)
    return client


def url_for_row(app, endpoint: str, ids: dict[str, int]) -> str:
    values = {"ticket_id": ids["ticket"], "comment_id": ids["comment"], "site_id": ids["site"],
              "user_id": ids["user"], "group_id": ids["group"], "type_id": ids["type"],
              "notification_id": ids["notification"],
              "attachment_id": ids["attachment"], "token_id": ids["token"],
              "webhook_id": ids["webhook"]}  # fmt: skip
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = {k: v for k, v in values.items() if k in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **args)


def api_call(method: str, url: str, visitor: str, data: dict | None, ids: dict):
    """An API call as the visitor: with their own token (a deactivated user's too), in
    JSON; numbers in the row's data are sent as numbers."""
    headers = {}
    if visitor != "anonymous":
        user = accounts.find_user(USERNAMES[visitor])
        headers["Authorization"] = "Bearer " + api_tokens.create(user=user, name="t")[1]
        if visitor == "deactivated":
            administration.set_active(actor=accounts.find_user("ada"), user=user, active=False)
    body = {k: v.format(**ids) for k, v in (data or {}).items()}
    body = {k: int(v) if v.isdigit() else v for k, v in body.items()}
    client = current_app.test_client()
    return client.open(url, method=method, headers=headers, json=None if data is None else body)


CELLS = [(method, endpoint, visitor) for method, endpoint, cells, _ in TABLE for visitor in cells]


@pytest.mark.parametrize(("method", "endpoint", "visitor"), CELLS)
def test_permission_cell(app, method, endpoint, visitor):
    ids = scene(app)
    row = next(r for r in TABLE if r[0] == method and r[1] == endpoint)
    expected, data = row[2][visitor], row[3]
    url = url_for_row(app, endpoint, ids)
    if endpoint.startswith("api."):
        response = api_call(method, url, visitor, data, ids)
        assert response.status_code == expected, f"{method} {url} as {visitor}"
        return
    client = visitor_client(app, visitor, ids)
    if method == "GET":
        response = client.get(url + ("?since=0" if endpoint == "tickets.poll" else ""))
    else:
        form = {k: v.format(**ids) for k, v in (data or {}).items()}
        form.update({k: (io.BytesIO(b"x"), v[1:]) for k, v in form.items() if v.startswith("@")})
        signed_out = visitor in ("anonymous", "deactivated")
        form["csrf_token"] = csrf_token(client, "/login" if signed_out else "/")
        response = client.open(url, method=method, data=form)
    response.close()  # a download holds its file open until then
    assert response.status_code == expected, f"{method} {url} as {visitor}"


def test_every_route_has_a_row_for_every_visitor():
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
    routes = {(m, r.endpoint) for r in app.url_map.iter_rules() if r.endpoint != "static"
              for m in r.methods - {"HEAD", "OPTIONS"}}  # fmt: skip
    table = {(method, endpoint) for method, endpoint, _, _ in TABLE}
    assert routes - table == set(), "routes without a row in tests/permissions_table.py"
    assert table - routes == set(), "rows for routes that do not exist"
    for method, endpoint, cells, _ in TABLE:
        assert set(cells) == set(VISITORS), f"{method} {endpoint} misses a visitor"
