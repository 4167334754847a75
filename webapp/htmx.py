"""htmx helpers: tell htmx requests apart and answer them with fragments."""

from __future__ import annotations

from flask import Response, redirect, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def fragment_or_redirect(fragment: str, location: str, status: int = 200) -> Response | str:
    """A fragment for htmx, a 303 redirect for a plain form post."""
    if is_htmx():
        return Response(fragment, status=status)
    return redirect(location, code=303)


def vary_on_htmx(response: Response) -> Response:
    """Pages and fragments share URLs: caches must keep them apart."""
    response.vary.add("HX-Request")
    return response
