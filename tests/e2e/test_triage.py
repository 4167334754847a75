"""Triage in the browser: filters in the URL, keyboard, bulk, live updates, suggestions."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.steps import signed_in_page


def settled(page) -> None:
    """Wait until htmx has swapped, settled and wired up what it brought."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def test_staff_filters_takes_with_t_and_moves_three_to_sleeping(browser, live_server):
    staff = signed_in_page(browser, live_server, "staff")
    watcher = signed_in_page(browser, live_server, "admin")
    staff.goto(f"{live_server}/tickets/?tab=all")
    watcher.goto(f"{live_server}/tickets/?tab=all")

    staff.get_by_label("Site", exact=True).select_option(label="Webshop")
    expect(staff).to_have_url(re.compile(r"site=\d+"))
    rows = staff.locator("#ticket-list tr.ticket-row")
    expect(rows.first).to_be_visible()
    expect(rows.filter(has_text="Accounting")).to_have_count(0)

    staff.get_by_label("Assigned to", exact=True).select_option(label="nobody")
    expect(staff).to_have_url(re.compile(r"assignee=none"))
    settled(staff)
    expect(rows.locator("td.assignee").filter(has_not_text="—")).to_have_count(0)
    first = rows.first
    first_id = first.get_attribute("id")
    staff.keyboard.press("j")
    expect(first).to_have_class(re.compile("is-current"))
    staff.keyboard.press("t")
    expect(staff.locator(f"#{first_id}")).to_contain_text("Sam Staff")

    staff.goto(f"{live_server}/tickets/?tab=active")
    picked = []
    for _ in range(3):
        staff.keyboard.press("j")
        current = staff.locator("#ticket-list tr.is-current")
        picked.append(current.get_attribute("id"))
        staff.keyboard.press("x")
    expect(staff.locator("#selected-count")).to_have_text("3 selected")
    staff.locator("#bulk-form select[name=state]").select_option(label="Sleeping")
    staff.locator("#bulk-form").get_by_role("button", name="Move").click()
    expect(staff.locator("#bulk-result")).to_contain_text("3 tickets changed.")
    for row_id in picked:
        expect(staff.locator(f"#{row_id}")).to_contain_text("Sleeping")

    # The admin's open list shows the change without a reload, within 15 seconds.
    expect(watcher.locator(f"#{picked[0]}")).to_contain_text("Sleeping", timeout=15_000)


def test_shortcut_help_opens_with_question_mark(browser, live_server):
    staff = signed_in_page(browser, live_server, "staff")
    staff.goto(f"{live_server}/tickets/")
    staff.keyboard.press("?")
    expect(staff.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    staff.keyboard.press("Escape")
    expect(staff.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()


def test_owner_sees_a_similar_ticket_while_typing(browser, live_server):
    owner = signed_in_page(browser, live_server, "alice")
    owner.goto(f"{live_server}/tickets/new")
    owner.get_by_label("Summary").press_sequentially("invoice vat rate", delay=20)
    suggestions = owner.get_by_role("region", name="Similar tickets")
    expect(suggestions).to_contain_text("Invoice PDF shows the wrong VAT rate")
