"""Bad input, as a table: each case says what it gets (a 4xx, never a 5xx), the message
that explains it, and that nothing in the database changed. Signed in as staff."""

from __future__ import annotations

import pytest

from tests.conftest import AuthActions, csrf_token
from tests.dbstate import changed, snapshot
from tests.factories import make_site, make_ticket, make_user
from webapp.extensions import db

HUGE = "9" * 30  # beyond any integer column
BOUNDARY = "tessera-test-boundary"


def multipart(fields: dict[str, bytes], boundary: str = BOUNDARY) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


# name: (method, path, form fields or raw body, content type, status, message)
# Paths and fields name {ticket}, {newer} (a later ticket) and {csrf}; a raw body is bytes.
CASES = {
    # Text fields: limits, NUL, missing
    "summary too long": ("POST", "/tickets/new", {"summary": "x" * 251, "description": "d"},
                         None, 422, "Field cannot be longer than 250 characters."),
    "description too long": ("POST", "/tickets/new",
                             {"summary": "s", "description": "x" * 100_001},
                             None, 422, "Field cannot be longer than 100000 characters."),
    "summary missing": ("POST", "/tickets/new", {"description": "d"},
                        None, 422, "This field is required."),
    "NUL in a summary": ("POST", "/tickets/new", {"summary": "a\x00b", "description": "d"},
                         None, 422, "This field contains a NUL character."),
    "NUL in a comment": ("POST", "/tickets/{ticket}/comments", {"body": "a\x00b"},
                         None, 422, "This field contains a NUL character."),
    "NUL in a state name": ("POST", "/tickets/{ticket}/state", {"state": "a\x00b"},
                            None, 422, "State: This field contains a NUL character."),
    "comment too long": ("POST", "/tickets/{ticket}/comments", {"body": "x" * 100_001},
                         None, 422, "Field cannot be longer than 100000 characters."),
    "state name too long": ("POST", "/tickets/{ticket}/state", {"state": "x" * 1000},
                            None, 422, "Field cannot be longer than"),
    "version too long": ("POST", "/tickets/{ticket}/edit",
                         {"summary": "s", "description": "d", "priority": "20",
                          "version": "1" * 1000},
                         None, 400, "This form is broken"),
    "version not a number": ("POST", "/tickets/{ticket}/edit",
                             {"summary": "s", "description": "d", "priority": "20",
                              "version": "\u00b2"},
                             None, 400, "This form is broken"),
    "duplicate of a superscript": ("POST", "/tickets/{ticket}/duplicate", {"original": "\u00b2"},
                                   None, 422, "Give a ticket number."),
    "filter by a superscript priority": ("GET", "/tickets/?priority=\u00b2", None, None, 422,
                                         "Unknown priority."),
    "waiting for too long": ("POST", "/tickets/{ticket}/edit",
                             {"summary": "s", "description": "d", "priority": "20",
                              "version": "1", "waiting_for": "x" * 201},
                             None, 422, "Field cannot be longer than 200 characters."),
    "token name too long": ("POST", "/account/tokens", {"name": "x" * 101},
                            None, 422, "Field cannot be longer than 100 characters."),
    "site name too long (admin)": ("POST", "/admin/sites", {"name": "x" * 101, "state": "active"},
                                   None, 422, "Field cannot be longer than 100 characters."),
    # Workflow and references
    "unknown state": ("POST", "/tickets/{ticket}/state", {"state": "nonsense"},
                      None, 422, "nonsense"),
    "ticket that does not exist": ("POST", "/tickets/999999/take", {}, None, 404, "nothing here"),
    "ticket id not a number": ("POST", "/tickets/abc/take", {}, None, 404, "nothing here"),
    "ticket id beyond any integer": ("GET", f"/tickets/{HUGE}", None, None, 404, "nothing here"),
    "ticket id in other digits": ("GET", "/tickets/\u0661", None, None, 404, "nothing here"),
    "duplicate of itself": ("POST", "/tickets/{ticket}/duplicate", {"original": "{ticket}"},
                            None, 422, "itself"),
    "duplicate of a newer ticket": ("POST", "/tickets/{ticket}/duplicate", {"original": "{newer}"},
                                    None, 422, "newer"),
    "assignee beyond any integer": ("POST", "/tickets/{ticket}/assign", {"user": HUGE},
                                    None, 422, "Assign to"),
    "assignee not a number": ("POST", "/tickets/{ticket}/assign", {"user": "\u00b2"},
                              None, 422, "Assign to"),
    "bulk ids in other digits": ("POST", "/tickets/bulk", {"action": "take", "ids": "\u00b2"},
                                 None, 422, "Select between 1 and"),
    "bulk ids beyond any integer": ("POST", "/tickets/bulk", {"action": "take", "ids": HUGE},
                                    None, 422, "Select between 1 and"),
    "bulk assignee beyond any integer": ("POST", "/tickets/bulk",
                                         {"action": "assign", "ids": "{ticket}", "user": HUGE},
                                         None, 422, "There is no such user."),
    # Query strings
    "filter by a superscript site": ("GET", "/tickets/?site=\u00b2", None, None, 422,
                                     "Site must be a number."),
    "filter by a huge site id": ("GET", f"/tickets/?site={HUGE}", None, None, 422,
                                 "Site must be a number."),
    "filter by a huge assignee": ("GET", f"/tickets/?assignee={HUGE}", None, None, 422,
                                  "Assignee must be"),
    "export with a huge type": ("GET", f"/tickets.csv?type={HUGE}", None, None, 422,
                                "Type must be a number."),
    "poll since a huge change": ("GET", f"/tickets/poll?since={HUGE}", None, None, 400,
                                 "since"),
    "notifications before a superscript": ("GET", "/notifications?before=\u00b2", None, None,
                                           400, "must be a number"),
    "notifications before a huge id": ("GET", f"/notifications?before={HUGE}", None, None, 400,
                                       "must be a number"),
    "NUL in a query": ("GET", "/tickets/?q=a%00b", None, None, 400, "NUL character"),
    "NUL in a query's name": ("GET", "/tickets/?a%00b=1", None, None, 400, "NUL character"),
    "query value too long": ("GET", "/tickets/?q=" + "x" * 3000, None, None, 400, "too long"),
    "query not UTF-8 (escaped)": ("GET", "/tickets/?q=%ff%fe", None, None, 400, "UTF-8"),
    "query not UTF-8 (raw)": ("GET", b"/tickets/?q=\xff\xfe", None, None, 400, "UTF-8"),
    "sign-in target with NUL": ("GET", "/login?next=/%00", None, None, 400, "NUL character"),
    # Form bodies
    "form not UTF-8 (escaped)": ("POST", "/tickets/new",
                                 b"csrf_token={csrf}&summary=%ff&description=d",
                                 "application/x-www-form-urlencoded", 400, "UTF-8"),
    "form not UTF-8 (raw)": ("POST", "/tickets/new",
                             b"csrf_token={csrf}&summary=\xff\xfe&description=d",
                             "application/x-www-form-urlencoded", 400, "UTF-8"),
    "multipart field not UTF-8": ("POST", "/tickets/{ticket}/comments",
                                  multipart({"csrf_token": b"{csrf}", "body": b"\xff\xfe"}),
                                  f"multipart/form-data; boundary={BOUNDARY}", 400, "UTF-8"),
    "multipart without a boundary": ("POST", "/tickets/{ticket}/comments",
                                     multipart({"csrf_token": b"{csrf}", "body": b"hi"}),
                                     "multipart/form-data", 400, "could not be read"),
    "multipart cut short": ("POST", "/tickets/{ticket}/comments",
                            multipart({"csrf_token": b"{csrf}", "body": b"hi"})[:-30],
                            f"multipart/form-data; boundary={BOUNDARY}", 400,
                            "could not be read"),
    "multipart with a wrong boundary": ("POST", "/tickets/{ticket}/comments",
                                        multipart({"csrf_token": b"{csrf}", "body": b"hi"}),
                                        "multipart/form-data; boundary=other", 400,
                                        "could not be read"),
    "JSON to a form": ("POST", "/tickets/{ticket}/comments", b'{"body": "hi"}',
                       "application/json", 400, "security token"),
    "no CSRF token": ("POST", "/tickets/{ticket}/take", b"", "application/x-www-form-urlencoded",
                      400, "security token"),
    "too many form fields": ("POST", "/tickets/{ticket}/comments",
                             "&".join(f"f{i}=x" for i in range(1200)).encode()
                             + b"&csrf_token={csrf}&body=hi",
                             "application/x-www-form-urlencoded", 413, "too large"),
}  # fmt: skip


@pytest.fixture
def desk(app):
    app.config["REQUIRE_SITE"] = False
    alice = make_user("alice")
    make_user("sam", role="staff")
    make_user("ada", role="admin")
    site = make_site("Webshop", alice)
    ticket = make_ticket(alice, "The printer jams", site=site)
    newer = make_ticket(alice, "The scanner jams", site=site)
    return {"ticket": ticket.id, "newer": newer.id}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(app, desk, case):
    method, path, data, content_type, status, message = CASES[case]
    client = app.test_client()
    admin = isinstance(path, str) and path.startswith("/admin")
    AuthActions(client).login("ada" if admin else "sam")
    token = csrf_token(client, "/")
    values = {"ticket": desk["ticket"], "newer": desk["newer"], "csrf": token}
    if isinstance(path, str):
        path = path.format(**values)
    kwargs = {}
    if isinstance(data, bytes):
        kwargs["data"] = data.replace(b"{csrf}", token.encode()).replace(
            b"{ticket}", str(desk["ticket"]).encode()
        )
        kwargs["content_type"] = content_type
    elif data is not None:
        form = {k: v.format(**values) for k, v in data.items()}
        kwargs["data"] = {"csrf_token": token, **form}
    before = snapshot()
    if isinstance(path, bytes):  # not a str: bytes a client could send but not encode
        environ = {"PATH_INFO": path.split(b"?")[0].decode("latin-1"),
                   "QUERY_STRING": path.split(b"?")[1].decode("latin-1")}  # fmt: skip
        response = client.open(method=method, environ_overrides=environ)
    else:
        response = client.open(path, method=method, **kwargs)
    body = response.get_data(as_text=True)
    assert response.status_code == status, f"{case}: {response.status_code} {body[-500:]}"
    assert message in body, f"{case}: {message!r} not in the answer"
    assert not changed(before, snapshot()), case
    db.session.rollback()


def all_forms() -> list[type]:
    import webapp.admin.forms
    import webapp.auth.forms
    import webapp.tickets.forms  # noqa: F401 - their forms join the subclasses
    from webapp.forms import Form

    found, todo = [], [Form]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


def test_every_text_field_of_every_form_has_a_length_limit():
    from wtforms import StringField
    from wtforms.fields.core import UnboundField
    from wtforms.validators import Length

    checked = []
    for form in all_forms():
        for name in dir(form):
            field = getattr(form, name)
            if isinstance(field, UnboundField) and issubclass(field.field_class, StringField):
                validators = field.kwargs.get("validators") or (
                    field.args[1] if len(field.args) > 1 else []
                )
                limits = [v.max for v in validators if isinstance(v, Length) and v.max > 0]
                assert limits, f"{form.__name__}.{name} has no length limit"
                checked.append(f"{form.__name__}.{name}")
    assert len(checked) >= 30, checked
