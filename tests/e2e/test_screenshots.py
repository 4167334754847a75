"""The screenshots in the README and docs/screenshots.md, taken anew by every browser run so
they show the app as it is. One test, a modest viewport, the visible part of each page only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_accessibility import new_page

DOCS = Path(__file__).resolve().parents[2] / "docs"
DESKTOP = {"viewport": {"width": 1200, "height": 760}}
PHONE = {"viewport": {"width": 360, "height": 740}}


def shoot(page, url: str, path: Path) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=path, animations="disabled", caret="hide")
    assert path.stat().st_size < 400_000


@pytest.mark.markup
def test_screenshots_of_the_main_pages(browser, live_server):
    shots = DOCS / "screenshots"
    shots.mkdir(exist_ok=True)
    staff = new_page(browser, live_server, "staff", **DESKTOP)
    shoot(staff, f"{live_server}/", DOCS / "screenshot.png")
    shoot(staff, f"{live_server}/tickets/?tab=active", shots / "tickets.png")
    shoot(staff, f"{live_server}/tickets/1", shots / "ticket.png")
    shoot(staff, f"{live_server}/notifications", shots / "notifications.png")
    shoot(staff, f"{live_server}/statistics", shots / "statistics.png")
    admin = new_page(browser, live_server, "admin", **DESKTOP)
    shoot(admin, f"{live_server}/admin/", shots / "admin.png")
    phone = new_page(browser, live_server, "staff", **PHONE)
    shoot(phone, f"{live_server}/tickets/?tab=active#ticket-list", shots / "tickets-360.png")
    dark = new_page(browser, live_server, "staff", "dark", **DESKTOP)
    shoot(dark, f"{live_server}/tickets/1", shots / "ticket-dark.png")
