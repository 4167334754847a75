"""The admin's journey: staff, sites, subscriptions, and ending someone's access."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.steps import signed_in_page


def sign_in_attempt(browser, live_server, username: str, password: str):
    page = browser.new_context().new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_admin_makes_bob_staff_sets_up_a_site_and_ends_access(browser, live_server):
    admin = signed_in_page(browser, live_server, "admin")
    admin.get_by_role("link", name="Admin", exact=True).click()
    admin.get_by_role("navigation", name="Admin").get_by_role("link", name="Groups").click()
    staff_group = admin.locator("section", has=admin.get_by_role("heading", name="staff"))
    staff_group.get_by_label("Add to staff").fill("bob")
    staff_group.get_by_role("button", name="Add").click()
    expect(staff_group).to_contain_text("@bob")  # swapped in place

    admin.get_by_role("navigation", name="Admin").get_by_role("link", name="Sites").click()
    admin.get_by_label("Name").fill("Warehouse")
    admin.get_by_role("button", name="Create site").click()
    subscribers = admin.get_by_role("region", name="Subscribers")
    subscribers.get_by_role("textbox", name="Subscribe").fill("alice")
    subscribers.get_by_role("button", name="Add").click()
    expect(admin.get_by_role("region", name="Subscribers")).to_contain_text("@alice")

    alice = signed_in_page(browser, live_server, "alice")
    alice.get_by_role("link", name="Report a problem").first.click()
    alice.get_by_label("Summary").fill("Forklift battery does not charge")
    alice.get_by_label("Description").fill("The charger light stays red all night.")
    alice.get_by_label("Site", exact=True).select_option(label="Warehouse")
    alice.get_by_role("button", name="Report").click()
    expect(alice.get_by_role("heading", name="Forklift battery does not charge")).to_be_visible()

    bob = signed_in_page(browser, live_server, "bob")
    bob.goto(f"{live_server}/tickets/?tab=triage")
    expect(bob.locator("#ticket-list")).to_contain_text("Forklift battery does not charge")

    admin.get_by_role("navigation", name="Admin").get_by_role("link", name="People").click()
    admin.get_by_label("Username").fill("erin")
    admin.get_by_label("E-mail").fill("erin@example.com")
    admin.get_by_label("Password").fill("erins-password")
    admin.get_by_role("button", name="Add", exact=True).click()
    expect(sign_in_attempt(browser, live_server, "erin", "erins-password")
           .get_by_role("heading", name="Hello")).to_be_visible()  # fmt: skip
    admin.get_by_role("button", name="Deactivate").click()
    expect(admin.get_by_text("erin is deactivated.")).to_be_visible()
    refused = sign_in_attempt(browser, live_server, "erin", "erins-password")
    expect(refused.get_by_role("alert")).to_have_text("Wrong username or password.")
