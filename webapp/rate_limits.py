"""Rate limits are worked out only for the views that have one.

Before every request Flask-Limiter works out which of its limits apply to it: some 2 %
of the instructions of a ticket action, for an answer that is "none" but on sign-in and
the API, the only views Tessera gives limits to (it sets no default or application-wide
limit). So once the app's views are all known, those that no limit can apply to are
noted, and a request to one of them passes the limiter at once (a request filter). A
view added later, or a limit set for every view, is checked as Flask-Limiter checks it."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter.util import get_qualified_name

from .extensions import limiter

_UNLIMITED = "tessera_unlimited_endpoints"


@limiter.request_filter
def _unlimited() -> bool:
    return request.endpoint in current_app.extensions.get(_UNLIMITED, ())


def init_app(app: Flask) -> None:
    """Note the views no limit applies to: call it once every blueprint is registered."""
    limits = limiter.limit_manager
    with app.app_context():  # a limit may be read from the settings
        if limits.application_limits or limits.default_limits:
            unlimited = frozenset()
        else:
            unlimited = frozenset(
                endpoint
                for endpoint, view in app.view_functions.items()
                if not limits.decorated_limits(get_qualified_name(view))
                and not limits.has_hints(endpoint)
                and not limits.blueprint_limits(app, endpoint.rpartition(".")[0])
            )
    app.extensions[_UNLIMITED] = unlimited
