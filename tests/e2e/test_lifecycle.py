"""A ticket's life in the browser: reported, commented, taken, worked, confirmed, exported."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.steps import signed_in_page


def test_a_ticket_from_report_to_closed(browser, live_server):
    owner = signed_in_page(browser, live_server, "alice")
    owner.get_by_role("link", name="Report a problem").click()
    owner.get_by_label("Summary").fill("Label printer prints blank labels")
    owner.get_by_label("Description").fill("Since this morning every label comes out blank.")
    owner.get_by_label("Site").select_option(label="Webshop")
    owner.get_by_role("button", name="Report").click()
    expect(owner.get_by_role("heading", name="Label printer prints blank labels")).to_be_visible()
    ticket_url = owner.url

    owner.get_by_label("Comment").fill("It is the printer in the **warehouse**.")
    owner.get_by_role("button", name="Post comment").click()
    comment = owner.locator("#timeline .entry-comment").last
    expect(comment.locator("strong", has_text="warehouse")).to_be_visible()
    expect(owner.get_by_label("Comment")).to_have_value("")
    assert owner.url == ticket_url  # appended in place, no reload

    staff = signed_in_page(browser, live_server, "staff")
    staff.goto(ticket_url)
    staff.locator("#ticket-header").get_by_role("button", name="Take", exact=True).click()
    expect(staff.locator("#ticket-assignee")).to_have_text("Sam Staff")
    expect(staff.locator("#ticket-state")).to_contain_text("Open")
    staff.get_by_role("button", name="Working").click()
    expect(staff.locator("#ticket-state")).to_contain_text("Working")
    staff.get_by_role("button", name="Ready").click()
    expect(staff.locator("#ticket-state")).to_contain_text("Ready")
    last = staff.locator("#timeline .entry-state").last
    expect(last).to_contain_text(re.compile(r"State\s+Working\s+→\s*to\s+Ready"))
    # Each answer appended its own entry: reported, the comment, taken, Working, Ready.
    expect(staff.locator("#timeline > li.entry")).to_have_count(5)

    # The owner's page still shows the ticket before the staff's changes: a comment posted
    # from it brings theirs too, the comment last, and the header as it is now.
    owner.get_by_label("Comment").fill("Thank you, it was the roll.")
    owner.get_by_role("button", name="Post comment").click()
    expect(owner.locator("#timeline > li.entry")).to_have_count(6)
    expect(owner.locator("#timeline .entry-state").last).to_contain_text("Ready")
    expect(owner.locator("#timeline > li.entry").last).to_contain_text("it was the roll")
    expect(owner.locator("#ticket-state")).to_contain_text("Ready")
    owner.reload()
    expect(owner.locator("#ticket-state")).to_contain_text("Ready")
    owner.get_by_role("button", name="Closed").click()
    expect(owner.locator("#ticket-state")).to_contain_text("Closed")
    expect(owner.get_by_role("button", name="Open", exact=True)).to_have_count(0)

    with staff.expect_download() as download:
        staff.get_by_role("link", name="History as CSV").click()
    assert download.value.suggested_filename.endswith("-monitor.csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    steps = [(r["actor"], r["action"], r["field"], r["old"], r["new"]) for r in rows]
    assert ("alice", "created", "summary", "", "Label printer prints blank labels") in steps
    assert ("alice", "comment", "comment", "", "It is the printer in the **warehouse**.") in steps
    assert ("staff", "take", "assignee", "", "staff") in steps
    states = [(a, old, new) for a, action, field, old, new in steps if field == "state" and old]
    assert states == [
        ("staff", "new", "opened"),
        ("staff", "opened", "working"),
        ("staff", "working", "ready"),
        ("alice", "ready", "closed"),
    ]


def test_take_from_the_triage_list_swaps_the_row(browser, live_server):
    staff = signed_in_page(browser, live_server, "staff")
    row = staff.locator("#triage tbody tr").first
    row_id = row.get_attribute("id")
    row.get_by_role("button", name="Take").click()
    taken = staff.locator(f"#{row_id}")
    expect(taken).to_contain_text("Sam Staff")
    expect(taken).to_contain_text("Open")
    expect(taken.get_by_role("button", name="Take")).to_have_count(0)


def test_staff_marks_a_duplicate_and_spawns_a_child(browser, live_server):
    staff = signed_in_page(browser, live_server, "staff")
    staff.goto(f"{live_server}/tickets/5")
    staff.get_by_label("Duplicate of").fill("#1")
    staff.locator("#related").get_by_role("button", name="Save").click()
    related = staff.locator("#related")
    expect(related).to_contain_text("Checkout fails with a card issued abroad")
    staff.goto(f"{live_server}/tickets/1")
    expect(staff.locator("#related")).to_contain_text("Search finds nothing for product numbers")

    staff.locator("#related summary", has_text="Spawn child ticket").click()
    staff.locator("#related").get_by_label("Summary").fill("Ask the payment provider")
    staff.locator("#related").get_by_label("Description").fill("Open a case with their support.")
    staff.locator("#related").get_by_role("button", name="Spawn child ticket").click()
    expect(staff.get_by_role("heading", name="Ask the payment provider")).to_be_visible()
    expect(staff.locator("#related")).to_contain_text("Checkout fails with a card issued abroad")
