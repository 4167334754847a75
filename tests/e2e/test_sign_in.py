"""The first journeys: each demo user signs in and sees the page that fits their role."""

from __future__ import annotations

from playwright.sync_api import expect


def test_owner_signs_in_and_sees_their_tickets(sign_in, live_server):
    page = sign_in("alice")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", name="Hello, Alice Meyer")).to_be_visible()
    mine = page.locator("#mine")
    expect(mine.get_by_role("heading", name="Your open tickets")).to_be_visible()
    expect(mine.locator("tbody tr").first).to_be_visible()
    expect(page.locator("#triage")).to_have_count(0)
    expect(page.get_by_text("owner", exact=True)).to_be_visible()


def test_staff_sees_what_to_triage(sign_in):
    page = sign_in("staff")
    expect(page.locator("#triage").get_by_role("heading", name="To triage")).to_be_visible()
    count = int(page.locator("#triage .count").inner_text())
    assert count > 0
    expect(page.locator("#triage tbody tr")).to_have_count(min(count, 15))
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets")
    ).to_be_visible()


def test_admin_sees_the_team(sign_in):
    page = sign_in("admin")
    team = page.locator("#team")
    expect(team.get_by_text("Sam Staff")).to_be_visible()
    expect(team.get_by_text("Ada Admin")).to_be_visible()


def test_bob_signs_in_with_his_email_address(sign_in):
    page = sign_in("bob@example.com")
    expect(page.get_by_role("heading", name="Hello, Bob Jansen")).to_be_visible()


def test_wrong_password_says_so_and_keeps_the_username(sign_in, live_server):
    page = sign_in("alice", "wrong")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Username or e-mail")).to_have_value("alice")


def test_sign_out_returns_to_the_sign_in_page(sign_in, live_server):
    page = sign_in("bob")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/login?next=%2F")
