"""A session's signed CSRF token, made and checked once per worker.

Flask-WTF signs the session's CSRF token anew for every request that shows a form, with a
timestamp that changes every second. Tessera's tokens last as long as the session
(``WTF_CSRF_TIME_LIMIT`` is None), so signing again adds nothing: the worker keeps the
signed token of each session's token and gives it to the session's later requests. The
forms then carry the same token from page to page, and a page kept as drawn (pagecache)
is served to the same session as it was kept, where its tokens had to be swapped (a list
page carries 103).

For the same reason a signed token that Flask-WTF found valid once stays valid for its
session: the worker keeps what it said (the session's token) and, when a request sends
it again, compares that with the session's token instead of checking the signature anew
(its HMAC and decoding were some 2 % of the CPU of a ticket action). Anything else, a
token not seen before or one sent to another session, is checked by Flask-WTF, with its
refusals. With a time limit set, every request signs and checks its own token, as
Flask-WTF does.
"""

from __future__ import annotations

import hmac

from flask import Flask
from flask_wtf.csrf import generate_csrf

from . import current
from .extensions import csrf

# Signed tokens one worker keeps, of each kind; past this, it starts again from none.
KEEP = 10_000
_KEPT = "tessera_csrf_tokens"
_CHECKED = "tessera_csrf_checked"


def init_app(app: Flask) -> None:
    """Call after ``csrf.init_app``, whose check before every request it takes over."""
    app.extensions[_KEPT] = {}
    app.extensions[_CHECKED] = {}
    app.before_request(_reuse)
    app.after_request(_keep)
    # The templates' csrf_token(): Flask-WTF's generate_csrf, which it also gives them by
    # a context processor (that would hide this one; its csrf_meta_tag is a global too).
    app.jinja_env.globals["csrf_token"] = token
    processors = app.template_context_processors[None]
    processors[:] = [p for p in processors if p.__module__ != "flask_wtf.csrf"]
    hooks = app.before_request_funcs[None]
    # Flask-WTF's check (CSRFProtect.init_app's csrf_protect); this one takes its place.
    (check,) = (hook for hook in hooks if getattr(hook, "__name__", "") == "csrf_protect")

    def protect() -> None:
        config = current.config()
        if not (config["WTF_CSRF_ENABLED"] and config["WTF_CSRF_CHECK_DEFAULT"]):
            return
        if current.request().method not in config["WTF_CSRF_METHODS"]:
            return  # Flask-WTF checks nothing either (after seven reads through proxies)
        if _checked_before():
            current.g().csrf_valid = True  # as Flask-WTF marks a valid one
            return
        check()  # a refused token ends the request here
        _remember_checked()

    hooks[hooks.index(check)] = protect


def token() -> str:
    """The request's signed token, as Flask-WTF's ``generate_csrf`` gives it: the one the
    worker kept for the session (see _reuse), else made by Flask-WTF."""
    field = _field()
    found = current.g().__dict__.get(field) if field else None
    return found if found is not None else generate_csrf()


def _secret() -> str | bytes:
    app = current.app()
    return app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key


def _checked_before() -> bool:
    """Whether the request (of a method that is checked) sends, where Flask-WTF looks, a
    token it found valid for this session. Not over HTTPS with strict checking, where it
    checks the referrer too."""
    field, app = _field(), current.app()
    if field is None or (current.request().is_secure and app.config["WTF_CSRF_SSL_STRICT"]):
        return False
    said = app.extensions[_CHECKED].get((_secret(), csrf._get_csrf_token()))
    raw = current.session().get(field)
    return said is not None and isinstance(raw, str) and hmac.compare_digest(said, raw)


def _remember_checked() -> None:
    """Keep what the token Flask-WTF just found valid said: the session's token."""
    field = _field()
    if field is None or not current.g().get("csrf_valid"):
        return  # no token was checked (an exempt view, a method that needs none)
    _put(_CHECKED, (_secret(), csrf._get_csrf_token()), current.session()[field])


def _field() -> str | None:
    """Where the token lives in the session and on ``g``; None: tokens expire, keep none."""
    config = current.config()
    if config["WTF_CSRF_TIME_LIMIT"] is not None:
        return None
    return config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _reuse() -> None:
    field = _field()
    # A look that does not count as using the session (no "Vary: Cookie" for static files).
    raw = dict.get(current.session(), field) if field else None
    signed = current.app().extensions[_KEPT].get(raw) if raw else None
    if signed is not None:
        setattr(current.g(), field, signed)  # where generate_csrf looks first


def _keep(response):
    field = _field()
    signed = current.g().get(field) if field else None
    # A token was made: the session is in use.
    raw = current.session().get(field) if signed else None
    if raw:
        _put(_KEPT, raw, signed)
    return response


def _put(store: str, key, value) -> None:
    """Keep ``value`` in the worker's ``store``, which starts again from none when full."""
    kept = current.app().extensions[store]
    if len(kept) >= KEEP and key not in kept:
        kept.clear()
    kept[key] = value
