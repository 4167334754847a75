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


def test_a_ticket_on_bobs_site_reaches_his_bell_as_soon_as_he_looks(browser, live_server):
    """Bob follows the Webshop: Alice's new ticket there is written for him when he
    looks, by the bell's refresh the page asks for at once (htmx, hx-trigger load)."""
    bob = signed_in_page(browser, live_server, "bob")
    bob.locator("#bell").click()
    bob.get_by_role("button", name="Mark all read").click()
    expect(bob.locator("#bell .badge")).to_have_text("0")

    alice = signed_in_page(browser, live_server, "alice")
    report_ticket(alice, live_server, "Gift cards are refused at checkout")

    with bob.expect_response(re.compile(r"/notifications/bell$")):
        bob.goto(f"{live_server}/tickets/")
    expect(bob.locator("#bell .badge")).to_have_text("1")
    expect(bob.locator("#bell")).to_have_attribute("hx-trigger", "every 30s")
    bob.locator("#bell").click()
    headline = re.compile(r"^#\d+ Gift cards are refused at checkout: Alice Meyer reported")
    bob.get_by_role("button", name=headline).click()
    expect(bob.get_by_role("heading", name="Gift cards are refused at checkout")).to_be_visible()
    expect(bob.locator("#bell .badge")).to_have_text("0")
