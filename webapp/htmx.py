"""htmx helpers: tell htmx requests apart and answer them with fragments."""

from __future__ import annotations

from flask import Response

from . import current


def is_htmx() -> bool:
    return current.request().headers.get("HX-Request") == "true"


def vary_on_htmx(response: Response) -> Response:
    """Pages and fragments share URLs: caches must keep them apart."""
    response.vary.add("HX-Request")
    return response
