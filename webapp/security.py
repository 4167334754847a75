"""Security headers on every response, cookies marked Secure over HTTPS, and the
client's real address and scheme behind a reverse proxy (``PROXY_FIX``).

The Content-Security-Policy allows nothing but Tessera's own files: no inline script or
style, no eval, no plug-ins, no framing. The templates are written for it (no ``style``
attributes, no ``<script>`` blocks: the scripts read their texts from ``data-``
attributes), and htmx is configured for it in base.html (``allowEval`` and
``allowScriptTags`` off, its indicator styles in app.css). A response that brings its
own policy keeps it: attachments are sent with a stricter, sandboxed one.
"""

from __future__ import annotations

import flask
from flask import Flask, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])  # fmt: skip

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # For browsers that predate frame-ancestors.
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_headers(response: flask.Response) -> flask.Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class Response(flask.Response):
    """Every cookie set in answer to an HTTPS request is marked Secure, whatever the
    settings say (SESSION_COOKIE_SECURE and REMEMBER_COOKIE_SECURE force it for plain
    HTTP too, for a TLS proxy that does not say so)."""

    def set_cookie(self, key: str, *args, **kwargs) -> None:
        if has_request_context() and request.is_secure:
            kwargs["secure"] = True
        super().set_cookie(key, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.response_class = Response
    app.after_request(add_headers)
    proxies = int(app.config["PROXY_FIX"] or 0)
    if proxies:
        # Trust that many proxies' X-Forwarded-For and X-Forwarded-Proto: the client's
        # address (for rate limits and logs) and whether it came over HTTPS (for cookies).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
