"""Rate limits are worked out only for the views that have one.

Before every request Flask-Limiter works out which of its limits apply to it and checks
them: some 2 % of the CPU of a ticket action, for an answer that is "none" but on
sign-in and the API, the only views Tessera gives limits to (it sets no default or
application-wide limit). So once the app's views are all known, those that no limit can
apply to are noted, and Flask-Limiter's hooks are skipped for them: its check before a
request, its look for rate-limit headers after it and the clearing of its state at the
end (together some 1 % of a ticket action's instructions even so). A view added later,
or a limit set for every view, is checked as Flask-Limiter checks it."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask
from flask_limiter.util import get_qualified_name

from . import current
from .extensions import limiter


def init_app(app: Flask) -> None:
    """Skip the limiter's hooks for the views no limit applies to: call it once every
    blueprint is registered (and after ``limiter.init_app``, which adds the hooks)."""
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
    # The hooks limiter.init_app added: the check before a request, the headers after it
    # (a limit's deductions that depend on the answer, and its figures when asked for),
    # and the request's limiter state cleared when it ends. Each has nothing to do for a
    # request that was not checked.
    for hooks in (app.before_request_funcs, app.after_request_funcs,
                  app.teardown_request_funcs):  # fmt: skip
        hooks[None] = [_where_limited(hook, unlimited) for hook in hooks[None]]


def _where_limited(hook: Callable, unlimited: frozenset[str]) -> Callable:
    """The limiter's ``hook``, run only for requests to views not ``unlimited``; any other
    hook as it is. An after-request hook passes the response on."""
    # The limiter's hooks are its bound methods, or functools.partial(..., limiter).
    if getattr(hook, "__self__", None) is not limiter and getattr(hook, "args", ()) != (limiter,):
        return hook

    @functools.wraps(hook)
    def where_limited(*args):
        if current.request().endpoint in unlimited:
            return args[0] if args else None  # after a request, the response unchanged
        return hook(*args)

    return where_limited
