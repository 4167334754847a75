"""Rate limits are worked out only for the views that have one.

Before every request Flask-Limiter works out which of its limits apply to it and checks
them: some 2 % of the CPU of a ticket action, for an answer that is "none" but on
sign-in and the API, the only views Tessera gives limits to (it sets no default or
application-wide limit). So once the app's views are all known, those that no limit can
apply to are noted, and Flask-Limiter's check before a request is skipped for them. A
view added later, or a limit set for every view, is checked as Flask-Limiter checks it."""

from __future__ import annotations

from flask import Flask, request
from flask_limiter.util import get_qualified_name

from .extensions import limiter


def init_app(app: Flask) -> None:
    """Skip the limiter's check for the views no limit applies to: call it once every
    blueprint is registered (and after ``limiter.init_app``, which adds the check)."""
    limits = limiter.limit_manager
    with app.app_context():  # a limit may be read from the settings
        if limits.application_limits or limits.default_limits:
            return
        unlimited = frozenset(
            endpoint
            for endpoint, view in app.view_functions.items()
            if not limits.decorated_limits(get_qualified_name(view))
            and not limits.has_hints(endpoint)
            and not limits.blueprint_limits(app, endpoint.rpartition(".")[0])
        )
    check = limiter._check_request_limit  # the hook limiter.init_app added

    def check_limits() -> None:
        if request.endpoint not in unlimited:
            check()

    hooks = app.before_request_funcs[None]
    hooks[hooks.index(check)] = check_limits
