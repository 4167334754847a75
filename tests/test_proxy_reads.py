"""Tessera's own code reads the app, the request, ``g``, the session and the signed-in user
as themselves (webapp/current.py), never through Werkzeug's proxies, on the paths people
use all day: each read through a proxy costs some 8,000 instructions, and a take used to
make a hundred of them (issue 9, the twenty-ninth round). Flask's and its extensions'
own reads are theirs."""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.local import _ProxyLookup

import webapp
from tests.conftest import csrf_token
from tests.factories import make_ticket
from tests.test_query_budget import HTMX, action_post, desk  # noqa: F401 - the fixture
from tests.test_views_lists import signed_in
from webapp import services

WEBAPP = str(Path(webapp.__file__).parent)


@contextmanager
def proxy_reads(monkeypatch):
    """Where Tessera's modules read through a proxy meanwhile, as "module.py:line"."""
    reads: list[str] = []
    lookup = _ProxyLookup.__get__

    def noted(self, instance, owner=None):
        caller = sys._getframe(1).f_code.co_filename
        if caller.startswith(WEBAPP):
            reads.append(f"{Path(caller).relative_to(WEBAPP)}:{sys._getframe(1).f_lineno}")
        return lookup(self, instance, owner)

    with monkeypatch.context() as patched:
        patched.setattr(_ProxyLookup, "__get__", noted)
        yield reads


@pytest.mark.parametrize("action", ["take", "state", "comment"])
def test_a_write_reads_nothing_through_a_proxy(app, desk, monkeypatch, action):  # noqa: F811
    client = signed_in(app, "sam")
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/tickets/")}
    url, data = action_post(action, desk)
    with proxy_reads(monkeypatch) as reads:
        response = client.post(url, data=data, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert reads == []


@pytest.mark.parametrize("kept", [False, True], ids=["drawn", "kept"])
@pytest.mark.parametrize("path", ["/", "/tickets/?tab=all", "/tickets/{ticket}"])
def test_a_page_reads_nothing_through_a_proxy(app, desk, monkeypatch, path, kept):  # noqa: F811
    app.config["PAGE_CACHE_BYTES"] = 10_000_000 if kept else 0
    client = signed_in(app, "sam")
    ticket = make_ticket(desk["alice"], "Printer jams", site=desk["site"])
    services.comment(actor=desk["alice"], ticket=ticket, body="Still jams.")
    url = path.format(ticket=ticket.id)
    client.get(url)
    with proxy_reads(monkeypatch) as reads:
        response = client.get(url)
    assert response.status_code == 200
    assert "Printer jams" in response.get_data(as_text=True)
    assert reads == []


def test_the_live_check_reads_nothing_through_a_proxy(app, desk, monkeypatch):  # noqa: F811
    """The check every open list sends every few seconds, when nothing has changed."""
    client = signed_in(app, "sam")
    make_ticket(desk["alice"], "Printer jams", site=desk["site"])
    page = client.get("/tickets/?tab=all").get_data(as_text=True)
    poll = re.search(r'id="live" hx-get="([^"]+)"', page)[1].replace("&amp;", "&")
    with proxy_reads(monkeypatch) as reads:
        response = client.get(poll, headers=HTMX)
    assert response.status_code == 204
    assert reads == []
