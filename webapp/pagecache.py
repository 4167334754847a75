"""Pages kept as drawn: a signed-in person who views the same ticket list or ticket again,
while nothing it shows has changed, gets the page they got before, without a query for
its data or a template rendered.

A page is kept per worker process, under everything that went into it: the viewer (and
their language, timezone, today's date, unread count and whether their bell is to catch
up), the URL with its query string,
how htmx asked for it, and the data stamps (``stamps.py``), which move with every write to
tickets or to the people, sites and types they show. A write anywhere in what a page shows
moves a stamp, so the next view draws the page anew; nothing has to be told to forget
anything, on any worker or server. The CSRF token is the only thing in a page that changes
from session to session (``csrf_tokens``): a kept page's token is swapped for the request's
own where they differ.

Not kept: pages with a flashed message to show, answers other than 200, pages of a request
that wrote, and anything for a visitor who is not signed in.

The kept views only read, so on PostgreSQL they read outside a transaction
(``_read_without_transaction``): a page served kept is then one round trip to the
database, its one statement, with no BEGIN and ROLLBACK around it.

Pieces of pages are kept the same way (``Pieces``): a ticket's row until the ticket changes,
the list's filter form until the setup does. A list drawn anew after one change draws one
row and the counts, not fifty rows and sixty options."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import Flask, make_response
from markupsafe import Markup

from . import csrf_tokens, current, i18n, stamps
from .extensions import SAFE_METHODS, db
from .htmx import is_htmx
from .templating import local_today, viewer_zone

# Headers a kept answer brings back; the rest are the request's own (security, logging).
_KEPT_HEADERS = ("Content-Type", "HX-Trigger", "HX-Push-Url", "HX-Retarget", "HX-Reswap")


class Kept(NamedTuple):
    body: bytes | Markup  # a page: the bytes it is sent as; a piece: what it puts into a page
    token: str | bytes  # the CSRF token in it, of the same kind
    headers: list[tuple[str, str]]


class Pages:
    """A worker's kept pages: least recently used first out, at most ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.entries: OrderedDict[tuple, Kept] = OrderedDict()

    def get(self, key: tuple) -> Kept | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple, kept: Kept) -> None:
        size = len(kept.body)
        if size > self.limit:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self.entries[key] = kept
        self.size += size
        while self.size > self.limit:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)


def store(name: str) -> Pages | None:
    """The worker's kept pages (or rows) of one kind; None when PAGE_CACHE_BYTES is 0."""
    app = current.app()
    pages = app.extensions.get(name)
    if pages is None:
        limit = app.config["PAGE_CACHE_BYTES"]
        if limit <= 0:
            return None
        pages = app.extensions[name] = Pages(limit)
    return pages


class Pieces:
    """The kept pieces of one kind (ticket rows, filter forms), as one request draws them:
    the worker's store and the setup stamp are looked up once, not per piece (a list
    draws fifty rows). Made after the request's writes, if any: a request that wrote
    keeps nothing."""

    def __init__(self, kind: str, token: str = "") -> None:
        self.store = store(kind)
        found = None if self.store is None else stamps.current()
        self.setup = None if found is None or stamps.wrote() else found.setup
        self.token = token  # the request's CSRF token, if the pieces have forms that carry it

    def get(self, key: tuple, draw: Callable[[], str]) -> Markup:
        """The piece kept under ``key``, which the caller makes of everything the piece
        shows (the setup stamp is added here), else drawn and kept."""
        if self.setup is None:
            return Markup(draw())
        key = (*key, self.setup)
        found = self.store.get(key)
        if found is not None:
            if self.token and self.token != found.token:
                return found.body.replace(found.token, self.token)
            return found.body
        html = Markup(draw())
        self.store.put(key, Kept(html, self.token, []))
        return html


def _key() -> tuple | None:
    """Everything the page about to be drawn depends on, or None: draw it, keep nothing."""
    user = current.user()
    if not user.is_authenticated or "_flashes" in current.session() or stamps.wrote():
        return None
    found = stamps.current()
    if found is None:
        return None
    asked, here = current.request(), current.g()
    return (
        asked.endpoint, asked.full_path, is_htmx(),
        bool(asked.headers.get("HX-History-Restore-Request")),
        user.id, i18n.language(), viewer_zone().key, local_today(),
        here.get("unread"), here.get("notifications_behind"), found,
    )  # fmt: skip


def kept(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the view's page from the worker's kept pages when nothing in it has changed."""

    @functools.wraps(view)
    def serve(*args, **kwargs):
        pages = store("tessera_pages")
        key = None if pages is None else _key()
        if key is None:
            return view(*args, **kwargs)
        token = csrf_tokens.token().encode()
        found = pages.get(key)
        if found is not None:
            body = found.body if found.token == token else found.body.replace(found.token, token)
            return body, 200, found.headers
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not stamps.wrote():
            headers = [(k, v) for k, v in response.headers.items() if k in _KEPT_HEADERS]
            pages.put(key, Kept(response.get_data(), token, headers))
        return response

    serve.reads_only = True  # type: ignore[attr-defined]
    return serve


def init_app(app: Flask) -> None:
    app.before_request(_read_without_transaction)


def _read_without_transaction() -> None:
    """Before anything reads (the sign-in first), give a kept view's request a PostgreSQL
    connection in autocommit. Under READ COMMITTED each statement sees what was committed
    when it began, in a transaction or not, so the page is the same; what goes is the BEGIN
    and the ROLLBACK, two of the three round trips of a page served kept. (Writes are
    never made there, and SQLite's transactions cost no round trip.)"""
    asked = current.request()
    view = current.app().view_functions.get(asked.endpoint or "")
    if (
        getattr(view, "reads_only", False)
        and asked.method in SAFE_METHODS
        and db.engine.dialect.name == "postgresql"
    ):
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
