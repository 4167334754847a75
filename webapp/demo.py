"""Demo data: a lived-in help desk, built through the same services people use, so its
history is exactly what real use would have recorded."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from . import accounts, services
from .extensions import db
from .models import (
    Priority,
    Rating,
    ReportingType,
    Site,
    SiteState,
    Subscription,
    Ticket,
    TicketType,
    User,
    clock_at,
    utcnow,
)

USERS = [
    # username, display name, role group setting or None
    ("admin", "Ada Admin", "ADMIN_GROUP"),
    ("staff", "Sam Staff", "STAFF_GROUP"),
    ("alice", "Alice Meyer", None),
    ("bob", "Bob Jansen", None),
]

SITES = [
    (
        "Webshop",
        "The public shop: catalogue, cart, checkout and customer accounts.",
        SiteState.ACTIVE,
        ["alice", "bob", "staff", "admin"],
    ),
    (
        "Accounting",
        "Invoices, payments and the yearly closing.",
        SiteState.STABLE,
        ["alice", "staff", "admin"],
    ),
    (
        "Intranet",
        "The staff wiki, calendars and the room booking.",
        SiteState.ACTIVE,
        ["bob", "staff"],
    ),
]

TICKET_TYPES = [
    ("Error", ReportingType.REGULAR),
    ("Problem", ReportingType.REGULAR),
    ("Suggestion", ReportingType.FREE),
    ("Other", ReportingType.FREE),
    ("App", ReportingType.REGULAR),
    ("Company", ReportingType.REGULAR),
]

# summary, site, type, description
TICKETS = [
    (
        "Checkout fails with a card issued abroad",
        "Webshop",
        "Error",
        "Customers with a card from outside the EU see 'payment declined' right after the "
        "3-D Secure step. Two customers phoned about it this morning.",
    ),
    (
        "Invoice PDF shows the wrong VAT rate",
        "Accounting",
        "Error",
        "Invoices for books use 19 % instead of 7 %. Seen on invoice 2026-0412 and later ones.",
    ),
    (
        "Room booking shows rooms twice",
        "Intranet",
        "Problem",
        "Since Monday every meeting room appears twice in the booking list, once without "
        "a floor number.",
    ),
    (
        "Add a dark theme to the staff wiki",
        "Intranet",
        "Suggestion",
        "Several of us read the wiki late in the evening; a dark theme would be easier to read.",
    ),
    (
        "Search finds nothing for product numbers",
        "Webshop",
        "Error",
        "Typing a product number such as 40-1183 into the shop search returns no results, "
        "although the product exists.",
    ),
    (
        "Payment reminder sent to customers who paid",
        "Accounting",
        "Error",
        "Three customers got a first reminder for invoices they paid last week by bank transfer.",
    ),
    (
        "Password reset mail arrives after an hour",
        "Webshop",
        "Problem",
        "The reset link often arrives 50 to 70 minutes late, when it has already expired.",
    ),
    (
        "Calendar export to phones stopped working",
        "Intranet",
        "Problem",
        "The ICS link gives an empty calendar on Android and iOS since the update on Friday.",
    ),
    (
        "Product images are blurry on large screens",
        "Webshop",
        "Problem",
        "The zoom view loads the small thumbnail instead of the full image.",
    ),
    (
        "Year-end closing report takes 20 minutes",
        "Accounting",
        "Problem",
        "Running the closing report for last year takes about twenty minutes and sometimes "
        "times out.",
    ),
    (
        "Allow guests to order without an account",
        "Webshop",
        "Suggestion",
        "Many first-time customers abandon the cart at the registration step.",
    ),
    (
        "Wiki page history is not shown to editors",
        "Intranet",
        "Error",
        "Editors get an empty page when they open the history of any wiki page.",
    ),
    (
        "Coupon codes are case sensitive",
        "Webshop",
        "Error",
        "SUMMER10 works but summer10 does not; customers type it in lower case.",
    ),
    (
        "Credit notes missing from the monthly export",
        "Accounting",
        "Error",
        "The export for October contains invoices only, no credit notes.",
    ),
    (
        "New employees cannot sign in to the intranet",
        "Intranet",
        "Problem",
        "Accounts created this month get 'unknown user' although HR created them.",
    ),
    (
        "Order confirmation mail has broken umlauts",
        "Webshop",
        "Error",
        "Names like Müller arrive as MÃ¼ller in the confirmation mail.",
    ),
    (
        "Export bank statements as CAMT.053",
        "Accounting",
        "Suggestion",
        "Our bank stops offering MT940 next year; we need CAMT.053 import and export.",
    ),
    (
        "Delivery time shown in days and hours",
        "Webshop",
        "Suggestion",
        "Showing '1 day 4 hours' instead of '28 hours' would be clearer for customers.",
    ),
    (
        "Printer list in the intranet is outdated",
        "Intranet",
        "Other",
        "The printer on the second floor was replaced; the list still names the old one.",
    ),
    (
        "Dunning fees not added to the second reminder",
        "Accounting",
        "Error",
        "The second reminder should add the 5 EUR fee but shows the original amount.",
    ),
    (
        "Cart empties itself after ten minutes",
        "Webshop",
        "Error",
        "Customers who leave the tab open for ten minutes find an empty cart on return.",
    ),
    (
        "Mobile app crashes when opening an order",
        "Webshop",
        "App",
        "The app closes immediately when tapping an order in the order history (Android 15).",
    ),
    (
        "Holiday calendar misses the regional holidays",
        "Intranet",
        "Problem",
        "The calendar shows national holidays only; our region has two more.",
    ),
    (
        "Add IBAN check to the supplier form",
        "Accounting",
        "Suggestion",
        "A typo in an IBAN caused a failed payment last month; a checksum test would catch it.",
    ),
    (
        "Shop footer links to the old privacy page",
        "Webshop",
        "Error",
        "The privacy link in the footer gives a 404 page.",
    ),
    (
        "Travel expense form rejects decimals",
        "Intranet",
        "Company",
        "Amounts like 12,50 are rejected; only whole euros are accepted.",
    ),
    (
        "Newsletter sign-up gives a blank page",
        "Webshop",
        "Error",
        "After entering an e-mail address and pressing sign up, the page is blank.",
    ),
    (
        "Who is on call this weekend?",
        "Intranet",
        "Other",
        "The on-call page is empty for the coming weekend.",
    ),
    (
        "Customer account page is slow",
        "Webshop",
        "Problem",
        "Opening 'My orders' takes eight seconds for customers with many orders.",
    ),
    (
        "Cost centre missing on purchase orders",
        "Accounting",
        "Error",
        "Purchase orders printed since Tuesday have no cost centre field.",
    ),
    (
        "App login forgets the user every day",
        "Webshop",
        "App",
        "The app asks for the password every morning although 'stay signed in' is checked.",
    ),
    (
        "Meeting room screens show yesterday",
        "Intranet",
        "Problem",
        "The screens beside the meeting rooms show yesterday's bookings until noon.",
    ),
    (
        "Gift cards cannot be combined with coupons",
        "Webshop",
        "Suggestion",
        "Customers ask to use a gift card and a coupon in the same order.",
    ),
    (
        "Bank import stops at the first unknown payer",
        "Accounting",
        "Error",
        "The bank statement import aborts at the first payer it cannot match.",
    ),
    (
        "Parking permit request form is gone",
        "Intranet",
        "Company",
        "The form for parking permits disappeared from the intranet start page.",
    ),
    (
        "Sort products by customer rating",
        "Webshop",
        "Suggestion",
        "A sort option 'best rated' is the most requested feature in the shop survey.",
    ),
    (
        "Wiki search ignores attachments",
        "Intranet",
        "Problem",
        "Text in attached PDF files is not found by the wiki search.",
    ),
    (
        "Tax report totals differ from the ledger",
        "Accounting",
        "Problem",
        "The quarterly tax report is 18.40 EUR lower than the ledger total.",
    ),
    (
        "Stock shown as available for sold-out items",
        "Webshop",
        "Error",
        "Sold-out items show 'in stock' on the product page until the nightly update.",
    ),
    (
        "Phone call: customer cannot download invoices",
        "Webshop",
        "Problem",
        "A customer called: the invoice download in the account page does nothing in Safari.",
    ),
]

STAFF_COMMENTS = [
    "I can reproduce this with the test account.",
    "Thanks, that helps. Could you tell us when it happened?",
    "I have a fix ready and am testing it now.",
    "Deployed to the test system; please check whether it works for you.",
    "This depends on the supplier's update, which is planned for next month.",
    "We looked at the logs: the requests time out at the payment provider.",
    "Could you attach a screenshot of the message?",
]
OWNER_COMMENTS = [
    "It happened again today at about 10:15.",
    "Works for me now, thank you!",
    "Same here in the afternoon shift.",
    "It only happens in Firefox, not in Chrome.",
    "Any news on this? The customers keep asking.",
]

# The path each Lino target state is reached by, after the ticket is reported.
LINO_PATHS = {
    "new": [],
    "talk": ["talk"],
    "opened": ["opened"],
    "working": ["opened", "working"],
    "sleeping": ["talk", "sleeping"],
    "ready": ["opened", "working", "ready"],
    "closed": ["opened", "working", "ready", "closed"],
    "cancelled": ["talk", "cancelled"],
}


def seed(*, password: str = "demo") -> str:
    """Create what is missing of the demo; say what was done."""
    users = _users(password)
    sites = _sites(users)
    types = _ticket_types()
    if db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)):
        made = 0
    else:
        made = _tickets(users, sites, types)
    lines = [
        "Demo data is ready." + (f" Reported {made} tickets." if made else ""),
        f"Sign in at http://127.0.0.1:5000 with password {password!r} as:",
        "  admin  (admin: manages staff)",
        "  staff  (staff: triages and works tickets)",
        "  alice, bob  (owners: report tickets)",
    ]
    return "\n".join(lines)


def _users(password: str) -> dict[str, User]:
    accounts.ensure_groups()
    users = {}
    for username, display_name, group_setting in USERS:
        user = accounts.find_user(username)
        if user is None:
            user = accounts.create_user(
                username=username,
                email=f"{username}@example.com",
                password=password,
                display_name=display_name,
                check_password_rules=False,
            )
        elif not user.check_password(password):
            accounts.set_password(user=user, password=password)
        if group_setting:
            group = accounts.role_group(current_app.config[group_setting])
            accounts.add_to_group(user=user, group=group)
        users[username] = user
    return users


def _sites(users: dict[str, User]) -> dict[str, Site]:
    sites = {}
    for name, description, state, members in SITES:
        site = db.session.scalar(sa.select(Site).where(Site.name == name))
        if site is None:
            site = Site(name=name, description=description, state=state.value)
            db.session.add(site)
            db.session.flush()
        for username in members:
            user = users[username]
            if not any(s.site_id == site.id for s in user.subscriptions):
                # Followed before the demo's tickets were made (over the last 60 days),
                # so their subscribers hear of them.
                followed = utcnow() - timedelta(days=90)
                db.session.add(Subscription(user=user, site=site, created=followed))
        sites[name] = site
    db.session.commit()
    return sites


def _ticket_types() -> dict[str, TicketType]:
    types = {}
    for name, reporting in TICKET_TYPES:
        ticket_type = db.session.scalar(sa.select(TicketType).where(TicketType.name == name))
        if ticket_type is None:
            ticket_type = TicketType(name=name, reporting_type=reporting.value)
            db.session.add(ticket_type)
        types[name] = ticket_type
    db.session.commit()
    return types


def _tickets(users: dict[str, User], sites: dict[str, Site], types) -> int:
    wf = services.current_workflow()
    rng = random.Random(26)
    staff_members = [users["staff"], users["admin"]]
    targets = [s.name for s in wf.states]
    priorities = list(Priority)
    start = utcnow() - timedelta(days=60)
    for i, (summary, site_name, type_name, description) in enumerate(TICKETS):
        site = sites.get(site_name)
        author = _author_for(users, site, i)
        moment = start + timedelta(hours=i * 30 + rng.randint(0, 8))
        phoned = summary.startswith("Phone call")
        with clock_at(moment):
            ticket = services.create_ticket(
                actor=author,
                summary=summary,
                description=description,
                site=site,
                ticket_type=types[type_name],
                priority=priorities[i % len(priorities)],
                private=i % 7 == 3,
                end_user_name="Marta Klein" if phoned else "",
                end_user_email="marta.klein@example.org" if phoned else "",
            )
        target = targets[i % len(targets)]
        path = LINO_PATHS[target] if wf.name == "lino" else _generic_path(wf, target)
        worker = staff_members[i % 2]
        if path:
            moment = _act(
                moment, rng, services.assign, actor=worker, ticket=ticket, assignee=worker
            )
        for step, state in enumerate(path):
            if rng.random() < 0.6 or state == "talk":
                moment = _act(
                    moment,
                    rng,
                    services.comment,
                    actor=author if step % 2 else worker,
                    ticket=ticket,
                    body=_line(OWNER_COMMENTS if step % 2 else STAFF_COMMENTS, i + step),
                )
            mover = author if (ticket.state, state) in wf.author_moves else worker
            if state == wf.ready and step == len(path) - 1:
                # Solved an hour ago: the author still has time to reopen it.
                moment = max(moment, utcnow() - timedelta(hours=1, minutes=30))
            moment = _act(
                moment, rng, services.change_state, actor=mover, ticket=ticket, state=state
            )
        if ticket.state in wf.solved_states and not author.is_staff and i % 3:
            moment = _act(
                moment, rng, services.rate, actor=author, ticket=ticket,
                rating=RATINGS[i % len(RATINGS)],
            )  # fmt: skip
        elif ticket.state in wf.active_states and i % 3 == 0:
            # Some open work has a deadline: a few of them have passed.
            deadline = (utcnow() + timedelta(days=i % 9 - 3)).date()
            moment = _act(
                moment, rng, services.edit, actor=worker, ticket=ticket,
                version=ticket.version, deadline=deadline,
            )  # fmt: skip
    return len(TICKETS)


RATINGS = [Rating.VERY_GOOD, Rating.GOOD, Rating.GOOD, Rating.SATISFYING, Rating.DEFICIENT]


def _line(lines: list[str], n: int) -> str:
    return lines[n % len(lines)]


def _author_for(users: dict[str, User], site: Site | None, i: int) -> User:
    """An owner subscribed to the site; a phoned-in ticket is filed by staff."""
    if TICKETS[i][0].startswith("Phone call"):
        return users["staff"]
    owners = [
        u
        for u in (users["alice"], users["bob"])
        if site is None or any(s.site_id == site.id for s in u.subscriptions)
    ]
    return owners[i % len(owners)]


def _act(moment: datetime, rng: random.Random, service, **kwargs) -> datetime:
    """Call a service a little later than the previous step, never in the future."""
    moment = min(
        moment + timedelta(hours=rng.randint(1, 20), minutes=rng.randint(0, 59)),
        utcnow() - timedelta(minutes=5),
    )
    with clock_at(moment):
        service(**kwargs)
    return moment


def _generic_path(wf, target: str) -> list[str]:
    names = [s.name for s in wf.states]
    return [n for n in names[1 : names.index(target) + 1] if n != wf.initial]
