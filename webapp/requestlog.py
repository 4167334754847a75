"""Structured logs: one JSON line per request on the ``tessera.request`` logger (time,
request id, user id, method, path, route, endpoint, status, duration in ms, client
address), and a server error's traceback on ``tessera.error`` with the same request id,
which the error page shows so that people can quote it.

Every response carries the id in ``X-Request-Id``. Behind a trusted proxy (``PROXY_FIX``)
an id the proxy sent (nginx: ``proxy_set_header X-Request-Id $request_id;``) is kept, so
the proxy's log and the app's tell of the same request under one id.

When logging is not configured otherwise (the root logger has no handler, as under
gunicorn or ``flask run``), the lines go to standard error, one JSON object each.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from flask import Flask
from flask.logging import wsgi_errors_stream

from . import current

logger = logging.getLogger("tessera.request")
error_logger = logging.getLogger("tessera.error")
REQUEST_ID_HEADER = "X-Request-Id"
# What an id from the proxy may look like: nothing that could break a log line.
SAFE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, the record's ``fields``
    and, for an exception, its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def request_id() -> str:
    """This request's id (made on first use)."""
    here = current.g()
    found = here.get("request_id")
    if found is None:
        sent = current.request().headers.get(REQUEST_ID_HEADER, "")
        trusted = current.config()["PROXY_FIX"] and SAFE_ID.fullmatch(sent)
        found = here.request_id = sent if trusted else secrets.token_hex(8)
    return found


def _start() -> None:
    current.g().request_started = time.perf_counter()
    request_id()


def _user_id() -> int | None:
    """The signed-in user, if this request looked them up (never a query of its own)."""
    here = current.g()
    user = here.get("_login_user") or here.get("api_user")
    return getattr(user, "id", None) if user is not None and user.is_authenticated else None


def _fields(status: int | None = None) -> dict:
    asked = current.request()
    rule = asked.url_rule
    fields = {
        "request_id": request_id(),
        "user_id": _user_id(),
        "method": asked.method,
        "path": asked.path,
        "route": rule.rule if rule else None,
        "endpoint": asked.endpoint,
        "remote_addr": asked.remote_addr,
    }
    if status is not None:
        started = current.g().get("request_started")
        elapsed = (time.perf_counter() - started) * 1000 if started else None
        fields["status"] = status
        fields["duration_ms"] = round(elapsed, 1) if elapsed is not None else None
    return fields


def _finish(response):
    response.headers[REQUEST_ID_HEADER] = request_id()
    if logger.isEnabledFor(logging.INFO):
        fields = _fields(response.status_code)
        # The record made here, not by logger.info: that would look through the stack
        # for the caller's file and line, which every request paid for and no line shows.
        args = (fields["method"], fields["path"], fields["status"], fields["duration_ms"])
        record = logger.makeRecord(
            logger.name, logging.INFO, __file__, 0, "%s %s %s %sms", args, None,
            extra={"fields": fields},
        )  # fmt: skip
        logger.handle(record)
    return response


def log_exception(exc_info) -> None:
    """Flask's hook for an unhandled exception: its traceback, with the request id."""
    fields = _fields()
    error_logger.error(
        "Exception on %s %s [request %s]", fields["method"], fields["path"],
        fields["request_id"], exc_info=exc_info, extra={"fields": fields},
    )  # fmt: skip


def _default_handler() -> None:
    """Log to standard error unless the application's logging is configured."""
    parent = logging.getLogger("tessera")
    if parent.level == logging.NOTSET:
        parent.setLevel(logging.INFO)
    if parent.handlers or logging.getLogger().handlers:
        return
    handler = _ErrorStreamHandler()
    handler.setFormatter(JsonFormatter())
    parent.addHandler(handler)


class _ErrorStreamHandler(logging.StreamHandler):
    """Each line to the error stream of the request at hand (the WSGI server's), else to
    standard error: Flask's ``wsgi_errors_stream``, looked up once a line rather than
    through the proxy on each write and flush."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = wsgi_errors_stream._get_current_object()  # under the handler's lock
        super().emit(record)


def init_app(app: Flask) -> None:
    _default_handler()
    app.before_request(_start)
    # after_request functions run last to first: registered first, this sees the final
    # status, after every other hook.
    app.after_request(_finish)
