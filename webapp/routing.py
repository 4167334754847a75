"""URL converters. Every ``<int:…>`` in a route is a database id, and ids are 32-bit
integers on PostgreSQL: a larger number matches no route (a 404) instead of failing the
query with a server error."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def is_id(value: object) -> bool:
    """Whether a value from a JSON body can name a row."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def id_from(text: str) -> int | None:
    """The id a query-string value names, or None when it is not one."""
    return int(text) if text.isdigit() and int(text) <= MAX_ID else None
