"""bench/page_floor, the stack's floor that bench/run.py measures Tessera's pages drawn
anew and its writes against, draws the same content as those pages (the All tab's first
page, and a ticket's timeline) and writes what Tessera's take, unassign, state change and
comment write, as Tessera reads them."""

from __future__ import annotations

import re

import sqlalchemy as sa

from bench.page_floor import create_app as create_stack_floor
from tests.conftest import AuthActions

ROW = re.compile(r'<tr id="ticket-(\d+)"')
ENTRY = re.compile(r'<li class="entry [^"]*" id="((?:comment|change)-\d+)"')
ASSIGNEE = re.compile(r'<dd id="ticket-assignee">([^<]*)</dd>')


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


def test_stack_floor_writes_as_tessera_writes(app, runner, client, database_url):
    result = runner.invoke(args=["generate-data", "--tickets", "20", "--comments-per-ticket", "1"])
    assert result.exit_code == 0, result.output
    assert AuthActions(client).login("gen-staff-0", "demo").status_code == 303
    floor_app = create_stack_floor(database_url)
    engine = floor_app.extensions["page_floor_engine"]
    floor = floor_app.test_client()
    try:
        with engine.connect() as c:
            ticket = c.scalar(
                sa.text("SELECT min(id) FROM tickets WHERE assignee_id IS NULL AND deleted IS NULL")
            )

        def entries() -> list[str]:
            return ENTRY.findall(client.get(f"/tickets/{ticket}").get_data(as_text=True))

        before = entries()
        taken = floor.post(f"/tickets/{ticket}/take?as=row").get_data(as_text=True)
        assert ROW.findall(taken) == [str(ticket)]
        assert '<td class="assignee" data-label="Assigned to">Gen-Staff-0</td>' in taken
        page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
        assert ASSIGNEE.findall(page) == ["Gen-Staff-0"]
        moved = floor.post(f"/tickets/{ticket}/state?as=row", data={"state": "working"})
        assert '<span class="state c-working">' in moved.get_data(as_text=True)
        floor.post(f"/tickets/{ticket}/assign?as=row", data={"user": ""})
        said = floor.post(f"/tickets/{ticket}/comments", data={"body": "From <the> floor"})
        assert "From &lt;the&gt; floor" in said.get_data(as_text=True)
        page = client.get(f"/tickets/{ticket}").get_data(as_text=True)
        assert ASSIGNEE.findall(page) != ["Gen-Staff-0"]
        assert "From &lt;the&gt; floor" in page
        after = entries()
        assert after[: len(before)] == before
        assert len(after) == len(before) + 4  # three changes and the comment
        assert ENTRY.findall(floor.get(f"/tickets/{ticket}").get_data(as_text=True)) == after
        assert floor.post(f"/tickets/{ticket}/state", data={"state": "nowhere"}).status_code == 400
        assert floor.post("/tickets/999999/take").status_code == 404
    finally:
        engine.dispose()
