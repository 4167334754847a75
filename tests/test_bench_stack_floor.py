"""bench/page_floor, the stack's floor that bench/run.py measures Tessera's pages drawn
anew against, draws the same content as those pages: the All tab's first page, and a
ticket's timeline."""

from __future__ import annotations

import re

from bench.page_floor import create_app as create_stack_floor
from tests.conftest import AuthActions

ROW = re.compile(r'<tr id="ticket-(\d+)"')
ENTRY = re.compile(r'<li class="entry [^"]*" id="((?:comment|change)-\d+)"')


def test_stack_floor_draws_the_all_tab_and_a_ticket_as_tessera_does(
    app, runner, client, database_url
):
    result = runner.invoke(args=["generate-data", "--tickets", "60", "--comments-per-ticket", "2"])
    assert result.exit_code == 0, result.output
    assert AuthActions(client).login("gen-staff-0", "demo").status_code == 303
    floor_app = create_stack_floor(database_url)
    floor = floor_app.test_client()
    try:
        rows = ROW.findall(client.get("/tickets/?tab=all").get_data(as_text=True))
        assert len(rows) == 50
        assert ROW.findall(floor.get("/tickets/").get_data(as_text=True)) == rows
        ticket = rows[0]
        page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
        floor_page = floor.get(f"/tickets/{ticket}").get_data(as_text=True)
        assert len(ENTRY.findall(page)) >= 3  # created, and two comments
        assert ENTRY.findall(floor_page) == ENTRY.findall(page)
        assert floor.get("/tickets/999999").status_code == 404
    finally:
        floor_app.extensions["page_floor_engine"].dispose()
