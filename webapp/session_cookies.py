"""The session cookie, checked once per worker rather than once per request.

Flask checks the session cookie's signature and decodes it for every request (two
HMACs, base64 and tagged JSON). A browser sends the same cookie with every request until
its contents change, so each worker keeps what the last cookies it checked said, with
when they were signed, and gives each request a copy; a cookie past its lifetime is
refused as Flask refuses it. A cookie is the very bytes that were checked, so what it
says stays what was checked; a new secret key checks every cookie anew."""

from __future__ import annotations

import copy
import time
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

KEEP = 1024  # cookies one worker keeps; all are forgotten when it has as many
_PLAIN = (str, int, float, bool, type(None))


class KeptCookieSessions(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._kept: dict[tuple[Any, str], tuple[dict, float]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (app.secret_key, value)
        kept = self._kept.get(key)
        if kept is None:
            serializer = self.get_signing_serializer(app)
            if serializer is None:
                return None
            try:
                data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            if len(self._kept) >= KEEP:
                self._kept.clear()
            kept = self._kept[key] = (data, signed.timestamp())
        data, signed_at = kept
        if time.time() - signed_at > max_age:
            return self.session_class()
        return self.session_class(_copy(data))


def _copy(data: dict) -> dict:
    """A copy the request may change without changing what is kept."""
    if all(type(value) in _PLAIN for value in data.values()):
        return dict(data)
    return copy.deepcopy(data)
