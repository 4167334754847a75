"""The app, the request, ``g``, the session and the user being served, as the objects
themselves.

Flask's ``current_app``, ``request``, ``g`` and ``session``, and Flask-Login's
``current_user``, are Werkzeug proxies, and on Python 3.11 reading an attribute through
one costs some 8,000 instructions: the proxy's class has no such attribute, so Python
makes an AttributeError, formats its message and drops it, and then the proxy finds the
object through two calls in Python (``current_user`` through two more proxies). Finding
the object here costs about 1,400 instructions, and reading from it nothing more. Before
the twenty-ninth round of issue 9, a take or a state change read through the proxies
some 130 times, nearly a tenth of its instructions. The hooks every request runs, and
the writes and pages people use all day, read from these (tests/test_proxy_reads.py);
code that runs less often may keep the proxies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask
from flask_login import current_user

if TYPE_CHECKING:
    from flask.ctx import _AppCtxGlobals
    from flask.sessions import SessionMixin

    from .models import User


def app() -> flask.Flask:
    return flask.current_app._get_current_object()


def config() -> flask.Config:
    return app().config


def request() -> flask.Request:
    return flask.request._get_current_object()


def g() -> _AppCtxGlobals:
    return flask.g._get_current_object()


def session() -> SessionMixin:
    return flask.session._get_current_object()


def user() -> User:
    """The signed-in user (Flask-Login's anonymous user if there is none)."""
    found = g().__dict__.get("_login_user")  # where Flask-Login keeps it
    return found if found is not None else current_user._get_current_object()
