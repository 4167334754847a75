"""Security headers on every response, cookies marked Secure over HTTPS, the client's
real address and scheme behind a reverse proxy (``PROXY_FIX``), and a first look at every
request's input (UTF-8, no NUL characters, well-formed forms, ids that fit the database).

The Content-Security-Policy allows nothing but Tessera's own files: no inline script or
style, no eval, no plug-ins, no framing. The templates are written for it (no ``style``
attributes, no ``<script>`` blocks: the scripts read their texts from ``data-``
attributes), and htmx is configured for it in base.html (``allowEval`` and
``allowScriptTags`` off, its indicator styles in app.css). A response that brings its
own policy keeps it: attachments are sent with a stricter, sandboxed one.
"""

from __future__ import annotations

import codecs
from urllib.parse import parse_qsl, unquote_to_bytes

import flask
from flask import Flask, abort, has_request_context, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.middleware.proxy_fix import ProxyFix

from . import current
from .i18n import gettext as _

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


# Each header with its name in lower case: which of them a response brings itself is
# seen in one pass over its headers, not one pass for each.
_ADDED = tuple((name.lower(), name, value) for name, value in HEADERS.items())


def add_headers(response: flask.Response) -> flask.Response:
    """The headers above, but for any the response brings itself (an attachment's
    stricter policy)."""
    present = {name.lower() for name in response.headers.keys()}
    response.headers.extend(
        [(name, value) for lower, name, value in _ADDED if lower not in present]
    )
    return response


class Response(flask.Response):
    """Every cookie set in answer to an HTTPS request is marked Secure, whatever the
    settings say (SESSION_COOKIE_SECURE and REMEMBER_COOKIE_SECURE force it for plain
    HTTP too, for a TLS proxy that does not say so)."""

    def set_cookie(self, key: str, *args, **kwargs) -> None:
        if has_request_context() and request.is_secure:
            kwargs["secure"] = True
        super().set_cookie(key, *args, **kwargs)


# Input: what a request may bring before any view sees it. Each text field of a form has
# its own length limit (forms.py); query string values, which no form checks, have this.
MAX_QUERY_VALUE = 2000
STRICT_UTF8 = "tessera_strict_utf_8"


def _strict_utf8(name: str) -> codecs.CodecInfo | None:
    """UTF-8 that refuses invalid bytes even when asked to replace them (as werkzeug asks
    for multipart fields): a form that is not UTF-8 is refused, not silently mangled."""
    if name != STRICT_UTF8:
        return None
    return codecs.CodecInfo(
        codecs.utf_8_encode,
        lambda data, errors="strict": codecs.utf_8_decode(data, "strict", True),
        name=STRICT_UTF8,
    )


codecs.register(_strict_utf8)


class StrictMultiPartParser(MultiPartParser):
    def get_part_charset(self, headers) -> str:
        charset = super().get_part_charset(headers)
        return STRICT_UTF8 if charset in ("utf-8", "ascii", "us-ascii") else charset


class StrictFormDataParser(FormDataParser):
    """Form bodies are UTF-8 or refused; a malformed body raises (ValueError) instead of
    leaving the form silently empty, so check_input can say what is wrong with it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.silent = False

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        text = stream.read().decode()
        if self.max_form_parts is not None and text.count("&") >= self.max_form_parts:
            raise RequestEntityTooLarge()  # as werkzeug does for multipart forms
        items = parse_qsl(text, keep_blank_values=True, errors="strict")
        return stream, self.cls(items), self.cls()

    def _parse_multipart(self, stream, mimetype, content_length, options):
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        parser = StrictMultiPartParser(
            stream_factory=self.stream_factory, max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts, cls=self.cls,
        )  # fmt: skip
        data = parser.parse(stream, boundary, content_length)
        return stream, data[0], data[1]


class Request(flask.Request):
    form_data_parser_class = StrictFormDataParser


def check_input() -> None:
    """Before anything reads the request: its query string and form must be UTF-8, free of
    NUL characters, and the query string's values short; a form body must be readable.
    Each refusal is a 400 that says why (a form field's length and NULs are its form's
    to check, with the message beside the field)."""
    asked = current.request()
    try:
        unquote_to_bytes(asked.query_string).decode()
    except UnicodeDecodeError:
        abort(400, _("The address is not valid UTF-8 text."))
    for name, value in asked.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            abort(400, _("The address contains a NUL character."))
        if len(value) > MAX_QUERY_VALUE:
            abort(400, _("A value in the address is too long (at most %(n)d characters).",
                         n=MAX_QUERY_VALUE))  # fmt: skip
    if asked.method in ("GET", "HEAD", "OPTIONS"):
        return
    # The form's limits, which Flask reads through current_app (a proxy, see current.py)
    # unless the request has its own.
    config = current.config()
    asked.max_content_length = config["MAX_CONTENT_LENGTH"]
    asked.max_form_memory_size = config["MAX_FORM_MEMORY_SIZE"]
    asked.max_form_parts = config["MAX_FORM_PARTS"]
    try:
        asked.form  # noqa: B018 - parsed now, to refuse what cannot be read
    except UnicodeDecodeError:
        abort(400, _("The form is not valid UTF-8 text."))
    except ValueError:
        abort(400, _("The form could not be read: what was sent is not well-formed."))


def init_app(app: Flask) -> None:
    app.request_class = Request
    app.before_request(check_input)
    app.response_class = Response
    app.after_request(add_headers)
    proxies = int(app.config["PROXY_FIX"] or 0)
    if proxies:
        # Trust that many proxies' X-Forwarded-For and X-Forwarded-Proto: the client's
        # address (for rate limits and logs) and whether it came over HTTPS (for cookies).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
