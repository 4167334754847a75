"""The API reference page: the vendored Swagger UI renders the OpenAPI document, and a
call made from it with a token answers."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.steps import signed_in_page
from tests.e2e.test_accessibility import axe_violations


def test_the_api_reference_renders_and_calls_with_a_token(browser, live_server):
    page = signed_in_page(browser, live_server, "staff")
    page.goto(f"{live_server}/account/tokens")
    page.get_by_label("Name").fill("reference page")
    page.get_by_role("button", name="Make a token").click()
    secret = page.locator("#new-token").inner_text()
    page.get_by_role("link", name="Read the API reference.").click()
    expect(page.get_by_role("heading", name="API reference")).to_be_visible()
    expect(page.get_by_text("Report a ticket")).to_be_visible()
    found = axe_violations(page)
    assert found == [], "\n".join(found)
    page.get_by_role("button", name="Authorize").click()
    page.locator("input[aria-label='auth-bearer-value']").fill(secret)
    dialog = page.locator(".dialog-ux")
    dialog.locator(".auth-btn-wrapper .authorize").click()
    dialog.locator(".btn-done").click()
    page.get_by_text("Who the token acts for").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    answer = page.locator(".live-responses-table")
    expect(answer.locator("tbody .response-col_status").first).to_have_text("200")
    expect(answer).to_contain_text('"username": "staff"')
