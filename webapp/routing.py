"""Ids in requests. Every ``<int:…>`` in a route is a database id, and ids are 32-bit
integers on PostgreSQL: a larger number, or digits other than ASCII ones, match no route
(a 404) instead of failing the query or ``int()`` with a server error. ``as_id`` applies
the same rule to ids in query strings and forms."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    regex = r"[0-9]{1,10}"

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def as_id(text: str | None) -> int | None:
    """The id a request names, or None: ASCII digits only (``int`` would take "١" and fail
    on "²"), and no larger than an id can be."""
    if text and text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_ID:
        return int(text)
    return None


def is_id(value: object) -> bool:
    """Whether a value from a JSON body can name a row."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
