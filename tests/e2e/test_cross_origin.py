"""A real page on another origin tries to make a signed-in staff member's browser take a
ticket and comment on it: with a plain form post and with fetch(). Tessera refuses both
(no CSRF token) and the ticket stays as it was."""

from __future__ import annotations

import http.server
import threading
from functools import partial

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import report_ticket, signed_in_page

ATTACK = """<!doctype html><html><body>
<form id="f" method="post" action="{target}/take"><input name="x" value="1"></form>
<script>
  fetch("{target}/comments", {{method: "POST", credentials: "include",
        headers: {{"Content-Type": "application/x-www-form-urlencoded"}},
        body: "body=pwned+by+a+forged+request"}})
    .catch(() => "the answer is not for this origin to read")
    .finally(() => document.getElementById("f").submit());
</script></body></html>"""


@pytest.fixture
def attacker(tmp_path):
    """A web server on another origin (another port) that serves the attack page."""

    def serve(target: str) -> str:
        (tmp_path / "index.html").write_text(ATTACK.format(target=target))
        handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/index.html"

    servers: list = []
    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_origin_cannot_act_for_a_signed_in_user(browser, live_server, attacker):
    owner = signed_in_page(browser, live_server, "alice")
    ticket_url = report_ticket(owner, live_server, "Forged take target")
    staff = signed_in_page(browser, live_server, "staff")
    staff.goto(attacker(ticket_url))
    expect(staff.get_by_text("missing its security token")).to_be_visible()
    staff.goto(ticket_url)
    expect(staff.get_by_role("button", name="Take", exact=True)).to_be_visible()  # not taken
    expect(staff.locator("#timeline")).not_to_contain_text("pwned")
