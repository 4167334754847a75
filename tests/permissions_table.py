"""Permissions as data: for every route, the status each kind of visitor gets.

Visitors (see test_permissions.py for the scene): ``anonymous``; ``owner`` (alice, the
author of the ticket and of its comment, subscribed to its site); ``other`` (bob, an owner
who is neither author nor subscriber); ``subscriber`` (carol, who follows the ticket's
site); ``staff`` (sam); ``admin`` (ada); ``deactivated`` (dan, signed in, then
deactivated: his session is over). The ticket is public, new and unassigned.

URLs use the scene's ids: ticket, comment, site, user (bob), group (staff), type,
attachment (a PNG alice attached to the ticket) and webhook (for all sites). POST rows
carry form data that lets the allowed visitors succeed; a value starting with "@" is a
file of that name.
"""

from __future__ import annotations

VISITORS = ("anonymous", "owner", "other", "subscriber", "staff", "admin", "deactivated")
OUT = 302  # sent to the sign-in page


def signed_in(ok: int, **others: int) -> dict[str, int]:
    """Every signed-in visitor gets ``ok`` (unless named); the others are sent to sign in."""
    cells = dict.fromkeys(VISITORS, ok)
    cells.update(anonymous=OUT, deactivated=OUT)
    cells.update(others)
    return cells


def staff_only(ok: int, *, owners: int = 403, other: int | None = None) -> dict[str, int]:
    return signed_in(ok, owner=owners, subscriber=owners, other=owners if other is None else other)


def admins_only(ok: int) -> dict[str, int]:
    return signed_in(ok, owner=403, other=403, subscriber=403, staff=403)


def ticket(owner: int, subscriber: int, staff: int, admin: int | None = None) -> dict[str, int]:
    """A ticket route: ``other`` may not even see the ticket, so gets a 404."""
    return signed_in(owner, other=404, subscriber=subscriber, staff=staff,
                     admin=staff if admin is None else admin)  # fmt: skip


def api(ok: int, **others: int) -> dict[str, int]:
    """An API route: signed out (no token) or deactivated is 401."""
    return {**dict.fromkeys(VISITORS, ok), "anonymous": 401, "deactivated": 401, **others}


def api_ticket(owner: int, *, subscriber: int, staff: int) -> dict[str, int]:
    """An API route on the scene's ticket, which ``other`` may not see."""
    return api(owner, other=404, subscriber=subscriber, staff=staff, admin=staff)


ANYONE = dict.fromkeys(VISITORS, 200)
GUESTS = dict.fromkeys(VISITORS, OUT) | {"anonymous": 200, "deactivated": 200}
TICKET_FORM = {"summary": "Printer jams", "description": "It jams on every page.",
               "priority": "20", "site": "{site}", "version": "1"}  # fmt: skip

# method, endpoint, expected status per visitor, form data
TABLE: list[tuple[str, str, dict[str, int], dict[str, str] | None]] = [
    ("GET", "main.healthz", ANYONE, None),
    ("GET", "main.home", signed_in(200), None),
    ("GET", "main.statistics", signed_in(200), None),
    ("GET", "notifications.index", signed_in(200), None),
    ("GET", "notifications.bell", signed_in(200, anonymous=401, deactivated=401), None),
    # The notification is carol's (the subscriber): nobody else may even see it.
    ("POST", "notifications.open_one", signed_in(404, subscriber=303), {}),
    ("POST", "notifications.mark_read", signed_in(404, subscriber=303), {}),
    ("POST", "notifications.mark_all_read", signed_in(303), {}),
    ("GET", "auth.login", GUESTS, None),
    ("POST", "auth.login", GUESTS | {"anonymous": 422, "deactivated": 422}, {}),
    ("POST", "auth.logout", dict.fromkeys(VISITORS, 303), {}),
    ("GET", "auth.register", GUESTS, None),
    ("POST", "auth.register", GUESTS | {"anonymous": 422, "deactivated": 422}, {}),
    ("GET", "auth.settings", signed_in(200), None),
    ("POST", "auth.settings", signed_in(422), {}),
    ("GET", "auth.tokens", signed_in(200), None),
    ("POST", "auth.tokens", signed_in(201), {"name": "My script"}),
    # The token is alice's (the owner's): nobody else finds it.
    ("POST", "auth.revoke_token", signed_in(404, owner=303), {}),
    # The API, each visitor with a token of their own (tests/test_api.py shows that a
    # session cookie is refused): the same answers as the pages, 401 instead of sign-in.
    ("GET", "api.openapi_document", ANYONE, None),
    ("GET", "api.docs", ANYONE, None),
    ("GET", "api.me", api(200), None),
    ("GET", "api.list_tickets", api(200), None),
    (
        "POST",
        "api.create_ticket",
        api(201, other=422),
        {"summary": "Printer jams", "description": "It jams on every page.", "site_id": "{site}"},
    ),
    ("GET", "api.get_ticket", api_ticket(200, subscriber=200, staff=200), None),
    (
        "PATCH",
        "api.update_ticket",
        api_ticket(200, subscriber=403, staff=200),
        {"summary": "Printer jams badly", "version": "{version}"},
    ),
    ("POST", "api.take", api_ticket(403, subscriber=403, staff=200), {}),
    ("POST", "api.steal", api_ticket(403, subscriber=403, staff=409), {}),
    ("POST", "api.assign", api_ticket(403, subscriber=403, staff=200), {"user_id": "{staff_user}"}),
    (
        "POST",
        "api.change_state",
        api_ticket(200, subscriber=403, staff=200),
        {"state": "cancelled"},
    ),
    ("GET", "api.list_comments", api_ticket(200, subscriber=200, staff=200), None),
    ("POST", "api.add_comment", api_ticket(201, subscriber=201, staff=201), {"body": "Me too."}),
    ("GET", "api.changes", api_ticket(200, subscriber=200, staff=200), None),
    ("GET", "api.list_sites", api(200), None),
    ("GET", "api.get_site", api(200), None),
    ("POST", "api.subscribe", api(200), {}),
    ("POST", "api.unsubscribe", api(200), {}),
    ("GET", "api.list_types", api(200), None),
    ("GET", "api.list_notifications", api(200), None),
    ("POST", "api.mark_read", api(404, subscriber=200), {}),
    ("POST", "api.mark_all_read", api(204), {}),
    ("GET", "auth.change_password", signed_in(200), None),
    ("POST", "auth.change_password", signed_in(422), {}),
    ("GET", "tickets.index", signed_in(200), None),
    ("GET", "tickets.export", signed_in(200), None),
    ("GET", "tickets.suggest", signed_in(200), None),
    ("GET", "tickets.poll", signed_in(200, anonymous=401), None),
    ("POST", "tickets.bulk", staff_only(200), {"action": "take", "ids": "{ticket}"}),
    ("GET", "tickets.new", signed_in(200), None),
    ("POST", "tickets.new", signed_in(303, other=422), TICKET_FORM),
    ("GET", "tickets.detail", ticket(200, 200, 200), None),
    ("GET", "tickets.edit", ticket(200, 403, 200), None),
    ("POST", "tickets.edit", ticket(303, 403, 303), TICKET_FORM),
    ("POST", "tickets.take", ticket(403, 403, 303), {}),
    ("POST", "tickets.steal", ticket(403, 403, 409), {}),
    ("POST", "tickets.assign", ticket(403, 403, 303), {"user": "{staff_user}"}),
    ("POST", "tickets.change_state", ticket(303, 403, 303), {"state": "cancelled"}),
    # The scene's ticket is new: not even its author may rate it yet.
    ("POST", "tickets.rate", ticket(403, 403, 403), {"rating": "20"}),
    ("POST", "tickets.comment", ticket(303, 303, 303), {"body": "Still broken here."}),
    ("GET", "tickets.edit_comment", ticket(200, 403, 403), None),
    ("POST", "tickets.edit_comment", ticket(303, 403, 403), {"body": "It is green."}),
    ("POST", "tickets.mark_duplicate", ticket(403, 403, 303), {"original": ""}),
    (
        "POST",
        "tickets.spawn_child",
        ticket(303, 403, 303),
        {"summary": "Follow-up", "description": "Check the other printers too."},
    ),
    ("GET", "tickets.delete", ticket(403, 403, 403, admin=200), None),
    ("POST", "tickets.delete", ticket(403, 403, 403, admin=303), {}),
    ("GET", "tickets.monitor_csv", ticket(200, 200, 200), None),
    ("POST", "tickets.attach", ticket(303, 303, 303), {"file": "@notes.txt"}),
    ("GET", "tickets.download", ticket(200, 200, 200), None),
    ("GET", "tickets.thumbnail", ticket(200, 200, 200), None),
    # Alice attached it: she and staff may remove it, carol (who sees it) may not.
    ("POST", "tickets.remove_attachment", ticket(303, 403, 303), {}),
    ("GET", "sites.mine", signed_in(200), None),
    ("GET", "sites.everything", staff_only(200), None),
    ("GET", "sites.detail", signed_in(200), None),
    ("POST", "sites.subscribe", signed_in(303), {}),
    ("POST", "sites.unsubscribe", signed_in(303), {}),
    ("GET", "admin.index", admins_only(200), None),
    ("GET", "admin.log", admins_only(200), None),
    ("GET", "admin.users", admins_only(200), None),
    (
        "POST",
        "admin.users",
        admins_only(303),
        {
            "username": "erin",
            "email": "erin@example.com",
            "language": "en",
            "password": "long-enough",
        },
    ),
    ("GET", "admin.user", admins_only(200), None),
    (
        "POST",
        "admin.user",
        admins_only(303),
        {"display_name": "Bob J.", "email": "bob@example.com", "language": "en"},
    ),
    ("POST", "admin.set_active", admins_only(303), {"active": "no"}),
    ("POST", "admin.reset_password", admins_only(303), {"password": "a-new-password"}),
    ("GET", "admin.groups", admins_only(200), None),
    ("POST", "admin.add_member", admins_only(303), {"user": "bob"}),
    ("POST", "admin.remove_member", admins_only(303), {}),
    ("GET", "admin.sites", admins_only(200), None),
    ("POST", "admin.sites", admins_only(303), {"name": "Intranet", "state": "active"}),
    ("GET", "admin.site", admins_only(200), None),
    ("POST", "admin.site", admins_only(303), {"name": "Web shop", "state": "active"}),
    ("POST", "admin.add_subscriber", admins_only(303), {"user": "bob"}),
    ("POST", "admin.remove_subscriber", admins_only(303), {}),
    ("GET", "admin.types", admins_only(200), None),
    (
        "POST",
        "admin.types",
        admins_only(303),
        {"name": "Question", "reporting_type": "", "active": "y"},
    ),
    (
        "POST",
        "admin.edit_type",
        admins_only(303),
        {"name": "Bug", "reporting_type": "free", "active": "y"},
    ),
    ("GET", "admin.states", admins_only(200), None),
    ("GET", "admin.webhooks", admins_only(200), None),
    (
        "POST",
        "admin.webhooks",
        admins_only(303),
        {"url": "https://hooks.example.com/tessera", "site": "", "events": "created"},
    ),
    ("GET", "admin.webhook", admins_only(200), None),
    ("POST", "admin.deactivate_webhook", admins_only(303), {}),
]
