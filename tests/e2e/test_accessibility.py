"""Accessibility in the browser: axe-core finds no serious or critical violation on any page,
for every kind of visitor, in the light and the dark theme; and the htmx actions keep the
keyboard's focus somewhere sensible and announce what they did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import follow, report_ticket, signed_in_page
from webapp import create_app

# axe-core 4.14.1 from the npm registry (`npm pack axe-core@4.14.1`: package/axe.min.js),
# MPL-2.0 (vendor/axe.LICENSE); sha256
# 29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c  axe-4.14.1.min.js
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SERIOUS = ("serious", "critical")

# GET routes that answer with something other than a page.
NOT_PAGES = {
    "static",
    "main.healthz",
    "notifications.bell",
    "tickets.export",
    "tickets.monitor_csv",
    "tickets.poll",
    "tickets.suggest",
}
# Downloads and thumbnails, and the JSON API: never pages.
NOT_PAGE_PREFIXES = ("/attachments/", "/api/")


# The rules a theme can change: the dark theme differs from the light one in colours only.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


def axe_violations(page, rules: list[str] | None = None) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each:
    of every rule, or of the ``rules`` named."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a <script>: the page's CSP refuses inline scripts.
        page.evaluate(AXE.read_text())
    options = {"resultTypes": ["violations"], **({"runOnly": rules} if rules else {})}
    result = page.evaluate("options => axe.run(document, options)", options)
    found = []
    for v in result["violations"]:
        if v["impact"] not in SERIOUS:
            continue
        targets = ", ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        found.append(f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}×: {targets})")
    return found


def in_both_themes(page) -> list[str]:
    """The page's findings in the light theme (every rule), then in the dark (the colour
    rules), once the colours have finished changing."""
    found = axe_violations(page)
    page.emulate_media(color_scheme="dark")
    page.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished))")
    found += [f"(dark) {v}" for v in axe_violations(page, COLOUR_RULES)]
    page.emulate_media(color_scheme="light")
    return found


def new_page(browser, live_server, username: str | None, color_scheme: str = "light", **kw):
    if username:
        return signed_in_page(browser, live_server, username, color_scheme=color_scheme, **kw)
    return browser.new_context(color_scheme=color_scheme, **kw).new_page()


def first_link(page, url: str, pattern: str) -> str:
    """The first link on the page at ``url`` whose path matches ``pattern``."""
    page.goto(url)
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    return next(h.split("?")[0].split("#")[0] for h in hrefs if re.fullmatch(pattern, h))


def own_comment_edit(page, base: str, ticket: str) -> str:
    """The edit page of a comment of the visitor's own, written now."""
    page.goto(base + ticket)
    page.get_by_label("Comment").fill("Checked again: still the same.")
    page.get_by_role("button", name="Post comment").click()
    link = page.locator("#timeline .entry-comment").last.get_by_role("link", name="Edit")
    return link.get_attribute("href")


def discover(page, base: str, who: str | None) -> dict[str, str]:
    """The ticket, site, comment and person pages this visitor may open, found by browsing."""
    if who is None:
        return {}
    found = {"ticket": first_link(page, f"{base}/tickets/?tab={MAIN_TAB[who]}", r"/tickets/\d+")}
    found["site"] = first_link(page, f"{base}/sites/", r"/sites/\d+")
    found["comment"] = own_comment_edit(page, base, found["ticket"])
    if who == "admin":
        found["user"] = first_link(page, f"{base}/admin/users", r"/admin/users/\d+")
        found["admin_site"] = first_link(page, f"{base}/admin/sites", r"/admin/sites/\d+")
        found["webhook"] = new_webhook(page, base)
    return found


def new_webhook(page, base: str) -> str:
    """The page of a webhook registered now: the demo has none."""
    page.goto(f"{base}/admin/webhooks")
    page.get_by_label("URL", exact=True).fill("https://hooks.example.com/tessera")
    page.get_by_role("button", name="Register webhook").click()
    page.wait_for_url(re.compile(r".*/admin/webhooks/\d+"))
    return "/" + page.url.split("/", 3)[3]


def pages_for(who: str | None, found: dict[str, str]) -> list[str]:
    """Every page this visitor can open, with the demo data."""
    errors = ["/no-such-page", "/tickets/999999"]
    if who is None:
        return ["/login", "/register", *errors]
    ticket = found["ticket"]
    urls = [
        "/",
        f"/tickets/?tab={MAIN_TAB[who]}",
        "/tickets/?tab=active&sort=-priority",
        "/tickets/?tab=all&q=invoice&state=new",
        "/tickets/?tab=all&private=yes&created_from=2000-01-01",
        ticket,
        "/tickets/new",
        f"{ticket}/edit",
        found["comment"],
        "/sites/",
        found["site"],
        "/notifications",
        "/account",
        "/account/password",
        "/account/tokens",
        "/statistics",
        *errors,
    ]
    if who == "alice":
        urls += ["/admin/"]  # forbidden: the 403 page
    else:
        urls += ["/tickets/?tab=triage", "/tickets/?tab=todo", "/sites/all"]
    if who == "admin":
        urls += ["/admin/", "/admin/users", found["user"], "/admin/groups", "/admin/sites"]
        urls += [found["admin_site"], "/admin/types", "/admin/states", "/admin/log"]
        urls += ["/admin/webhooks", found["webhook"]]
        urls += [f"{ticket}/delete"]
    return urls


MAIN_TAB = {"alice": "mine", "staff": "all", "admin": "all"}
VISITORS = [None, "alice", "staff", "admin"]


@pytest.mark.parametrize("who", VISITORS, ids=lambda w: w or "anonymous")
@pytest.mark.markup
def test_no_serious_axe_violation_on_any_page(browser, live_server, who):
    page = new_page(browser, live_server, who)
    problems = []
    for url in pages_for(who, discover(page, live_server, who)):
        page.goto(live_server + url)
        problems += [f"{url}: {v}" for v in in_both_themes(page)]
    if who == "staff":
        page.goto(f"{live_server}/tickets/?tab=all")
        page.locator("#ticket-list details.state-menu summary").first.click()
        page.locator("details.more-filters summary").click()
        page.keyboard.press("?")
        problems += [f"/tickets/ (menus open): {v}" for v in in_both_themes(page)]
    assert not problems, "axe-core found:\n" + "\n".join(problems)


def test_every_page_is_in_the_axe_run():
    """A new page fails here until the run above visits it (or it is not a page)."""
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
    pages = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in NOT_PAGES
        and not rule.rule.startswith(NOT_PAGE_PREFIXES)
    }
    adapter = app.url_map.bind("localhost")
    examples = {"ticket": "/tickets/1", "site": "/sites/1", "comment": "/tickets/1/comments/1/edit"}
    examples |= {"user": "/admin/users/1", "admin_site": "/admin/sites/1"}
    examples["webhook"] = "/admin/webhooks/1"
    visited = {
        adapter.match(url.split("?")[0])[0]
        for who in VISITORS
        for url in pages_for(who, examples)
        if adapter.test(url.split("?")[0])
    }
    assert pages - visited == set(), "pages the axe-core run does not visit"


def report(page, base: str, summary: str) -> str:
    """A new ticket without a site (staff may), as the id of its row in the lists."""
    return "ticket-" + report_ticket(page, base, summary, site=None).rsplit("/", 1)[1]


def state_label(button) -> str:
    """The state a button moves to, without its symbol."""
    return button.evaluate("b => b.lastChild.textContent.trim()")


def test_take_and_move_from_a_row_by_keyboard_keep_focus_and_announce(browser, live_server):
    staff = new_page(browser, live_server, "staff")
    row_id = report(staff, live_server, "Barcode scanner beeps twice")
    staff.goto(f"{live_server}/tickets/?tab=unassigned&sort=-id")
    row = staff.locator(f"#{row_id}")
    number = row_id.removeprefix("ticket-")
    row.get_by_role("button", name="Take").focus()
    staff.keyboard.press("Enter")
    expect(staff.locator("#alerts")).to_contain_text(f"Saved: #{number} is")
    expect(staff.locator("#alerts")).to_contain_text("assigned to Sam Staff")
    expect(staff.locator(f"#{row_id}")).to_be_focused()  # the new row, not <body>

    row = staff.locator(f"#{row_id}")
    row.locator("details.state-menu summary").focus()
    staff.keyboard.press("Enter")
    staff.keyboard.press("Tab")
    expect(row.locator("details.state-menu .menu-item").first).to_be_focused()
    staff.keyboard.press("Escape")  # closes the menu; the focus goes back to its button
    expect(row.locator("details.state-menu summary")).to_be_focused()
    staff.keyboard.press("Enter")
    # Not back to "New": the ticket would wait in triage, taken, and confuse other tests.
    states = row.locator("details.state-menu .menu-item").evaluate_all("bs => bs.map(b => b.value)")
    wanted = "working" if "working" in states else next(s for s in states if s != "new")
    for _ in range(states.index(wanted) + 1):
        staff.keyboard.press("Tab")
    item = row.locator(f"details.state-menu .menu-item[value={wanted}]")
    expect(item).to_be_focused()
    label = state_label(item)
    staff.keyboard.press("Enter")
    expect(staff.locator("#alerts")).to_contain_text(f"Saved: #{number} is {label}")
    expect(staff.locator(f"#{row_id}")).to_contain_text(label)
    expect(staff.locator(f"#{row_id}")).to_be_focused()


def test_state_change_on_the_ticket_page_focuses_the_header_and_announces(browser, live_server):
    staff = new_page(browser, live_server, "staff")
    staff.goto(f"{live_server}/tickets/?tab=active")
    follow(staff, staff.locator("#ticket-list tr.ticket-row td.summary a").first)
    moves = staff.get_by_role("group", name="Move to")
    target = moves.locator("button[value=working]")
    if not target.count():
        target = moves.locator("button:not([value=new])").first
    label = state_label(target)
    target.focus()
    staff.keyboard.press("Enter")
    expect(staff.locator("#ticket-state")).to_contain_text(label)
    expect(staff.locator("#alerts")).to_contain_text(f"is {label}")
    expect(staff.locator("#ticket-header")).to_be_focused()
    # A control that is still there keeps the focus: the assign chips stay.
    chip = staff.get_by_role("group", name="Assign to").get_by_role("button", name="Sam Staff")
    chip.focus()
    staff.keyboard.press("Enter")
    expect(staff.locator("#ticket-assignee")).to_have_text("Sam Staff")
    expect(staff.get_by_role("group", name="Assign to").get_by_role("button", name="Sam Staff"))\
        .to_be_focused()  # fmt: skip


def test_posting_a_comment_focuses_it_announces_it_and_empties_the_form(browser, live_server):
    owner = new_page(browser, live_server, "alice")
    owner.goto(f"{live_server}/tickets/?tab=mine")
    follow(owner, owner.locator("#ticket-list tr.ticket-row td.summary a").first)
    owner.get_by_label("Comment").fill("   ")  # refused first
    owner.get_by_role("button", name="Post comment").click()
    expect(owner.locator("#body-error")).to_have_text("Write something.")
    expect(owner.get_by_label("Comment")).to_have_attribute("aria-invalid", "true")
    owner.get_by_label("Comment").fill("Still happens after the update.")
    owner.get_by_role("button", name="Post comment").focus()
    owner.keyboard.press("Enter")
    expect(owner.locator("#alerts")).to_have_text("Comment posted.")
    comment = owner.locator("#timeline .entry-comment").last
    expect(comment).to_contain_text("Still happens after the update.")
    expect(comment).to_be_focused()
    # The page empties its form itself, and the refused try's error goes with it.
    expect(owner.get_by_label("Comment")).to_have_value("")
    expect(owner.locator("#body-error")).to_have_count(0)
    expect(owner.get_by_label("Comment")).not_to_have_attribute("aria-invalid", "true")
    expect(owner.locator("#comment-form .has-error")).to_have_count(0)


def test_bulk_selection_works_by_keyboard_and_states_are_more_than_colour(browser, live_server):
    staff = new_page(browser, live_server, "staff")
    staff.goto(f"{live_server}/tickets/?tab=all")
    boxes = staff.locator("#ticket-list tr.ticket-row input[name=ids]")
    boxes.first.focus()
    staff.keyboard.press("Space")
    expect(staff.locator("#selected-count")).to_have_text("1 selected")
    staff.keyboard.press("Space")
    expect(staff.locator("#selected-count")).to_have_text("None selected")
    # Every state badge carries a symbol and its name, not only a colour.
    badges = staff.locator("#ticket-list .state").all()
    assert badges
    for badge in badges:
        symbol = badge.locator("[aria-hidden=true]").inner_text().strip()
        assert symbol and badge.inner_text().strip() != symbol
