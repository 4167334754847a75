"""A session's signed CSRF token, made once per worker.

Flask-WTF signs the session's CSRF token anew for every request that shows a form, with a
timestamp that changes every second. Tessera's tokens last as long as the session
(``WTF_CSRF_TIME_LIMIT`` is None), so signing again adds nothing: the worker keeps the
signed token of each session's token and gives it to the session's later requests. The
forms then carry the same token from page to page, and a page kept as drawn (pagecache)
is served to the same session as it was kept, where its tokens had to be swapped (a list
page carries 103). With a time limit set, every request signs its own token, as
Flask-WTF does.
"""

from __future__ import annotations

from flask import Flask, current_app, g, session

# Signed tokens one worker keeps; past this, it starts again from none.
KEEP = 10_000
_KEPT = "tessera_csrf_tokens"


def init_app(app: Flask) -> None:
    app.extensions[_KEPT] = {}
    app.before_request(_reuse)
    app.after_request(_keep)


def _field() -> str | None:
    """Where the token lives in the session and on ``g``; None: tokens expire, keep none."""
    config = current_app.config
    if config["WTF_CSRF_TIME_LIMIT"] is not None:
        return None
    return config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _reuse() -> None:
    field = _field()
    # A look that does not count as using the session (no "Vary: Cookie" for static files).
    raw = dict.get(session._get_current_object(), field) if field else None
    signed = current_app.extensions[_KEPT].get(raw) if raw else None
    if signed is not None:
        setattr(g, field, signed)  # what flask_wtf.csrf.generate_csrf looks for first


def _keep(response):
    field = _field()
    signed = g.get(field) if field else None
    raw = session.get(field) if signed else None  # a token was made: the session is in use
    if raw:
        kept = current_app.extensions[_KEPT]
        if len(kept) >= KEEP and raw not in kept:
            kept.clear()
        kept[raw] = signed
    return response
