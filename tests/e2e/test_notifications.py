"""The bell in the browser: a comment on bob's site's ticket reaches him, and opening it
lands on the comment."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.steps import report_ticket, signed_in_page


def test_bob_hears_of_alices_comment_and_opens_it(browser, live_server):
    bob = signed_in_page(browser, live_server, "bob")
    ticket_url = report_ticket(bob, live_server, "Newsletter sign-up button does nothing")
    # Start from a quiet bell (the demo data left him some notifications).
    bob.locator("#bell").click()
    bob.get_by_role("button", name="Mark all read").click()
    expect(bob.locator("#bell .badge")).to_have_text("0")
    expect(bob.locator(".notification.unseen")).to_have_count(0)

    alice = signed_in_page(browser, live_server, "alice")
    alice.goto(ticket_url)
    alice.get_by_label("Comment").fill("Same for me, on the **mobile** page too.")
    alice.get_by_role("button", name="Post comment").click()
    expect(alice.locator("#timeline .entry-comment").last).to_contain_text("mobile")

    bob.goto(f"{live_server}/")
    expect(bob.locator("#bell .badge")).to_have_text("1")
    bob.locator("#bell").click()
    bob.get_by_role("button", name=re.compile("Alice Meyer commented")).first.click()
    expect(bob).to_have_url(re.compile(re.escape(ticket_url) + r"#comment-\d+$"))
    anchor = bob.url.rsplit("#", 1)[1]
    expect(bob.locator(f"#{anchor}")).to_contain_text("mobile")
    expect(bob.locator("#bell .badge")).to_have_text("0")
