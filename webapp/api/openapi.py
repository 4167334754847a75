"""The API's OpenAPI 3.1 document, built from the code so it cannot drift: the paths and
their parameters come from the URL map, the list's query parameters from listing.py, the
field lists from the views' own tables. What is written by hand here is what a reader
needs that the code cannot say: summaries and the shapes of the answers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app

from .. import listing, services, timeline
from ..models import Priority, Rating, SiteState
from ..routing import MAX_ID
from . import tickets

JSON = "application/json"
PROBLEM = "application/problem+json"
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
KEY = {"type": "integer", "minimum": 0, "maximum": MAX_ID}  # an id in a query string
TEXT = {"type": "string"}
STAMP = {"type": "string", "format": "date-time"}
URI = {"type": "string", "format": "uri"}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": TEXT,
            "description": "The ticket's version, when it is not in the body."}  # fmt: skip
NULLABLE_TEXT = {"type": ["string", "null"]}
NULLABLE_ID = {"type": ["integer", "null"]}
JSON_TYPES = {str: "string", int: "integer", bool: "boolean"}
NO_NUL = "^[^\\u0000]*$"
SOME_WORDS = r"\w+[^\w\u0000]+" * (services.MIN_DESCRIPTION_WORDS - 1) + r"\w+"
PATTERNS = {
    "summary": "^[^\\u0000]*\\S[^\\u0000]*$",  # something besides spaces
    "description": f"^[^\\u0000]*{SOME_WORDS}[^\\u0000]*$",
}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _items(name: str, **more: Any) -> dict[str, Any]:
    return _object({"items": {"type": "array", "items": _ref(name)}, **more})


def _text(limit: int, *, pattern: str = "") -> dict[str, Any]:
    """Text as the services take it: at most ``limit`` characters, no NUL."""
    return {"type": "string", "maxLength": limit, "pattern": pattern or NO_NUL}


def _editable(names: Iterable[str], nullable: bool) -> dict[str, Any]:
    """The ticket fields a report or an update may carry (tickets.EDITABLE), with the
    services' limits (services.TEXT_LIMITS, MIN_DESCRIPTION_WORDS)."""
    fields = {}
    for name, kind in tickets.EDITABLE.items():
        if name not in names:
            continue
        schema: dict[str, Any] = {"type": JSON_TYPES[kind]}
        if kind is str:
            schema = _text(services.TEXT_LIMITS.get(name, 250), pattern=PATTERNS.get(name, ""))
        if name == "deadline":
            schema = {"type": "string", "format": "date"}
        if name in ("site_id", "type_id"):
            schema = dict(ID)
        if name == "priority":
            schema = {"type": "integer", "enum": [p.value for p in Priority]}
        if nullable and name in tickets.NULLABLE:
            schema = {"anyOf": [schema, {"type": "null"}]}
        fields[name] = schema
    return fields


def _schemas(states: list[str]) -> dict[str, dict[str, Any]]:
    return {
        "Problem": {
            "type": "object",
            "description": "An error (RFC 9457); `errors` names the fields that are not valid.",
            "properties": {
                "type": TEXT, "title": TEXT, "status": {"type": "integer"}, "detail": TEXT,
                "errors": {"type": "object", "additionalProperties": TEXT},
            },
            "required": ["type", "title", "status", "detail"],
        },
        "Me": _object({
            "id": ID, "username": TEXT, "name": TEXT, "email": TEXT,
            "role": {"enum": ["owner", "staff", "admin"]}, "language": TEXT, "timezone": TEXT,
        }),
        "Ticket": _object({
            "id": ID, "url": URI, "summary": TEXT,
            "description": TEXT, "state": TEXT, "state_label": TEXT,
            "priority": {"type": "integer"}, "private": {"type": "boolean"},
            "author": TEXT, "assignee": NULLABLE_TEXT, "site_id": NULLABLE_ID,
            "type_id": NULLABLE_ID, "deadline": {"type": ["string", "null"], "format": "date"},
            "waiting_for": TEXT, "ref": NULLABLE_TEXT,
            "rating": {"enum": [r.value for r in Rating] + [None]},
            "created": STAMP, "modified": STAMP,
            "version": {"type": "integer", "description": "Send it back with an update."},
        }),
        "TicketList": _items("Ticket", next_after={
            "type": ["string", "null"], "description": "Pass as `after` for the next page.",
        }),
        "NewTicket": _object(
            _editable(tickets.CREATABLE, nullable=False), required=["summary", "description"]
        ),
        "TicketUpdate": _object(
            {**_editable(tickets.EDITABLE, nullable=True), "version": {"type": "integer"}},
            required=[],
        ),
        "Comment": _object({
            "id": ID, "author": TEXT, "body": TEXT, "created": STAMP,
            "edited": {"type": ["string", "null"], "format": "date-time"},
        }),
        "CommentList": _items("Comment"),
        "NewComment": _object({
            "body": _text(services.TEXT_LIMITS["body"], pattern=PATTERNS["summary"]),
        }),
        "Change": _object(
            {name: TEXT for name in timeline.CSV_HEADER},
        ),
        "ChangeList": _items("Change"),
        "Assignment": _object({"user_id": {"anyOf": [ID, {"type": "null"}]}}),
        "StateChange": _object({"state": {"enum": states}}),
        "Site": _object({
            "id": ID, "name": TEXT, "description": TEXT,
            "state": {"enum": [s.value for s in SiteState]}, "following": {"type": "boolean"},
        }),
        "SiteList": _items("Site"),
        "TicketType": _object({
            "id": ID, "name": TEXT, "reporting_type": NULLABLE_TEXT, "active": {"type": "boolean"},
        }),
        "TicketTypeList": _items("TicketType"),
        "Notification": _object({
            "id": ID, "ticket_id": ID, "change_id": ID, "reason": TEXT, "headline": TEXT,
            "created": STAMP, "seen": {"type": ["string", "null"], "format": "date-time"},
            "url": URI, "ticket": URI,
        }),
        "NotificationList": _items("Notification", next_before=NULLABLE_ID),
    }  # fmt: skip


def _list_parameters(states: list[str]) -> list[dict[str, Any]]:
    """The list page's query parameters (listing.py), plus the page size."""

    def query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": schema,
                "description": description}  # fmt: skip

    yes_no = {"enum": list(listing.YES_NO)}
    return [
        query("tab", {"enum": [t.key for t in listing.TABS]},
              "A tab of the list page (staff have more)."),
        query("q", _text(200), "Words to search for."),
        query("state", {"enum": states}, "A state of the workflow."),
        query("priority", {"type": "integer", "enum": [p.value for p in Priority]}),
        query("rating", {"anyOf": [{"enum": [r.value for r in Rating]}, {"const": "none"}]}),
        query("site", KEY),
        query("type", KEY),
        query("assignee", {"anyOf": [KEY, {"enum": ["me", "none"]}]}, "A user, `me` or `none`."),
        query("author", _text(200), "A username."),
        query("end_user", _text(200)),
        *(query(name, yes_no) for name in listing.FLAG_FILTERS),
        *(query(name, {"type": "string", "format": "date"}) for name in listing.DATE_FILTERS),
        query("sort", {"enum": [f"{d}{k}" for k in listing.SORTABLE for d in ("", "-")]}),
        query("after", TEXT, "The `next_after` of the previous page."),
        query("limit", {"type": "integer", "minimum": 1, "maximum": tickets.PAGE_LIMIT}),
    ]  # fmt: skip


# Per endpoint: summary, request body schema, answers (status: schema, None for no body),
# and which problems it can answer with besides 400, 401 and 429.
OPERATIONS: dict[str, dict[str, Any]] = {
    "me": {"summary": "Who the token acts for", "ok": {200: "Me"}},
    "list_tickets": {"summary": "The ticket list: tabs, filters, search, cursor",
                     "ok": {200: "TicketList"}, "problems": [422]},
    "create_ticket": {"summary": "Report a ticket", "body": "NewTicket",
                      "ok": {201: "Ticket"}, "problems": [403, 422]},
    "get_ticket": {"summary": "One ticket", "ok": {200: "Ticket"}, "problems": [404]},
    "update_ticket": {"summary": "Change a ticket's fields (version or If-Match required)",
                      "body": "TicketUpdate", "ok": {200: "Ticket"},
                      "problems": [403, 404, 409, 422]},
    "take": {"summary": "Take the ticket (staff)", "ok": {200: "Ticket"},
             "problems": [403, 404, 409, 422]},
    "steal": {"summary": "Take the ticket from its assignee (staff)", "ok": {200: "Ticket"},
              "problems": [403, 404, 409, 422]},
    "assign": {"summary": "Assign the ticket, or unassign it with null (staff)",
               "body": "Assignment", "ok": {200: "Ticket"},
               "problems": [403, 404, 409, 422]},
    "change_state": {"summary": "Move the ticket to another state", "body": "StateChange",
                     "ok": {200: "Ticket"}, "problems": [403, 404, 409, 422]},
    "list_comments": {"summary": "The ticket's comments, oldest first",
                      "ok": {200: "CommentList"}, "problems": [404]},
    "add_comment": {"summary": "Comment on the ticket", "body": "NewComment",
                    "ok": {201: "Comment"}, "problems": [403, 404, 409, 422]},
    "changes": {"summary": "The ticket's change monitor (the rows of its CSV)",
                "ok": {200: "ChangeList"}, "problems": [403, 404]},
    "list_sites": {"summary": "The sites one may open", "ok": {200: "SiteList"},
                   "query": [{"name": "following", "in": "query", "required": False,
                              "schema": {"enum": ["1"]},
                              "description": "Only the sites one follows."}]},
    "get_site": {"summary": "One site", "ok": {200: "Site"}, "problems": [404]},
    "subscribe": {"summary": "Follow a site", "ok": {200: "Site"}, "problems": [403, 404]},
    "unsubscribe": {"summary": "Stop following a site", "ok": {200: "Site"},
                    "problems": [404]},
    "list_types": {"summary": "Ticket types", "ok": {200: "TicketTypeList"}},
    "list_notifications": {"summary": "One's notifications, newest first",
                           "ok": {200: "NotificationList"},
                           "query": [{"name": "before", "in": "query", "required": False,
                                      "schema": KEY,
                                      "description": "The `next_before` of the last page."}]},
    "mark_read": {"summary": "Mark a notification read", "ok": {200: "Notification"},
                  "problems": [404]},
    "mark_all_read": {"summary": "Mark all one's notifications read", "ok": {204: None}},
}  # fmt: skip
PUBLIC = {"openapi_document", "docs"}  # served without a token


def document(app: Flask | None = None) -> dict[str, Any]:
    """The OpenAPI document for every route of the API blueprint."""
    app = app or current_app
    states = [state.name for state in services.current_workflow().states]
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        blueprint, _, name = rule.endpoint.partition(".")
        if blueprint != "api" or name in PUBLIC:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = _operation(name, rule.arguments)
            if name == "list_tickets":
                operation["parameters"] += _list_parameters(states)
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{app.config['SITE_NAME']} API",
            "version": "1",
            "description": (
                "Everything a person can do in the help desk, with the same rules. "
                "Authenticate with a personal token: `Authorization: Bearer <token>` "
                "(make one under Account → API tokens). Errors are problem documents."
            ),
        },
        "security": [{"token": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": _schemas(states),
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(name: str, arguments: set[str]) -> dict[str, Any]:
    spec = OPERATIONS[name]  # a KeyError here: a new route needs its entry above
    responses: dict[str, Any] = {}
    for status, schema in spec["ok"].items():
        answer: dict[str, Any] = {"description": "Done."}
        if schema:
            answer["content"] = {JSON: {"schema": _ref(schema)}}
        responses[str(status)] = answer
    # Any request may be a 400 (not UTF-8, a NUL, a value too long: security.check_input),
    # a 401 or a 429.
    for status in sorted({400, 401, 429, *spec.get("problems", [])}):
        responses[str(status)] = {
            "description": "A problem.",
            "content": {PROBLEM: {"schema": _ref("Problem")}},
        }
    operation: dict[str, Any] = {
        "operationId": name,
        "summary": spec["summary"],
        "parameters": [
            {"name": arg, "in": "path", "required": True, "schema": ID} for arg in sorted(arguments)
        ]
        + spec.get("query", []),
        "responses": responses,
    }
    if name == "update_ticket":
        operation["parameters"].append(IF_MATCH)
    if "body" in spec:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": _ref(spec["body"])}},
        }
    return operation
