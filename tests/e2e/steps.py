"""Steps the browser journeys share: signing in as a demo user, reporting a ticket."""

from __future__ import annotations

from playwright.sync_api import expect


def signed_in_page(browser, live_server, username: str, **context):
    """A new browser context (``context`` are its options) signed in as ``username``."""
    page = browser.new_context(**context).new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello")).to_be_visible()
    # The heading shows while the page still parses; htmx and the app's scripts (defer)
    # have run once the document is loaded.
    page.wait_for_load_state("domcontentloaded")
    return page


def follow(page, link) -> None:
    """Click a link and wait until the page it opens has loaded: a button pressed before
    htmx (defer) has run would post the whole form, not the fragment the test expects."""
    with page.expect_navigation():
        link.click()


def report_ticket(page, live_server, summary: str, *, site: str | None = "Webshop") -> str:
    """Report a new ticket (a fresh one leaves the demo's tickets to the other tests);
    returns its page's URL."""
    page.goto(f"{live_server}/tickets/new")
    page.get_by_label("Summary").fill(summary)
    page.get_by_label("Description").fill("Reported by a browser test, with a few words.")
    if site:
        page.get_by_label("Site").select_option(label=site)
    page.get_by_role("button", name="Report").click()
    expect(page.get_by_role("heading", name=summary)).to_be_visible()
    # The page's scripts (deferred) are loaded too: a form clicked before htmx has taken
    # it over is sent as a plain form, and the page navigates instead of swapping.
    page.wait_for_load_state("load")
    return page.url
