"""At 360 px wide: no page scrolls sideways, ticket rows are cards, and their actions are
big enough to tap and work."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_accessibility import (
    axe_violations,
    discover,
    new_page,
    pages_for,
    report,
    state_label,
)

PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True}


def overflow(page) -> str | None:
    """What sticks out of the page sideways, if anything."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return null;
          const wide = [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > width + 1)
            .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
                        (e.className && typeof e.className === "string" ? "." + e.className : ""));
          return document.documentElement.scrollWidth + "px: " + wide.slice(0, 5).join(", ");
        }"""
    )


@pytest.mark.markup
@pytest.mark.parametrize("who", [None, "alice", "admin"], ids=lambda w: w or "anonymous")
def test_no_page_scrolls_sideways_at_360_px(browser, live_server, who):
    page = new_page(browser, live_server, who, **PHONE)
    wide = {}
    for url in pages_for(who, discover(page, live_server, who)):
        page.goto(live_server + url)
        if (what := overflow(page)) is not None:
            wide[url] = what
    assert not wide


def test_ticket_rows_are_cards_whose_actions_are_tappable_and_work(browser, live_server):
    page = new_page(browser, live_server, "staff", **PHONE)
    card_id = report(page, live_server, "Receipt printer cuts too early")
    page.goto(f"{live_server}/tickets/?tab=unassigned&sort=-id")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets"))\
        .to_be_in_viewport()  # fmt: skip
    expect(page.locator("#ticket-list thead")).to_be_hidden()
    assert not axe_violations(page)
    rows = page.locator("#ticket-list tr.ticket-row")
    first = rows.first.bounding_box()
    assert rows.first.evaluate("r => getComputedStyle(r).display") == "flex"
    assert first["x"] >= 0 and first["x"] + first["width"] <= 360

    card = page.locator(f"#{card_id}")
    for button in (card.get_by_role("button", name="Take"), card.locator("summary").first):
        box = button.bounding_box()
        assert box["height"] >= 40 and box["width"] >= 40
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    card.get_by_role("button", name="Take").tap()
    card = page.locator(f"#{card_id}")
    expect(card).to_contain_text("Sam Staff")
    expect(card.get_by_role("button", name="Take")).to_have_count(0)

    card.locator("details.state-menu summary").tap()
    item = card.locator("details.state-menu .menu-item").last
    expect(item).to_be_in_viewport()
    box = item.bounding_box()
    assert box["height"] >= 40 and box["x"] + box["width"] <= 360
    label = state_label(item)
    item.tap()
    expect(page.locator(f"#{card_id}")).to_contain_text(label)
    assert overflow(page) is None
