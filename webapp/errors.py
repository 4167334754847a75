"""Error pages: a whole page for a browser, a small fragment for htmx requests."""

from __future__ import annotations

import time

from flask import Flask, jsonify, make_response, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from .exceptions import DomainError
from .extensions import db, limiter
from .htmx import is_htmx
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .requestlog import request_id

API_PREFIX = "/api/"
MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please sign in first."),
    403: _l("You are not allowed to do this."),
    404: _l("There is nothing here, or you may not see it."),
    405: _l("This address does not accept that kind of request."),
    409: _l("Someone else changed this in the meantime."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests in a short time. Please wait a moment and try again."),
    422: _l("Some of what you entered is not valid."),
    500: _l("Something went wrong on our side. Nothing you saved is lost; please try again."),
}

TITLES = {
    400: _l("Bad request"), 401: _l("Please sign in"), 403: _l("Not allowed"),
    404: _l("Not found"), 405: _l("Method not allowed"), 409: _l("Conflict"),
    413: _l("Too large"), 422: _l("Not valid"), 429: _l("Too many requests"),
    500: _l("Server error"), 503: _l("Unavailable"),
}  # fmt: skip


def render_error(status: int, message: str | None = None, fields: dict | None = None):
    """The error page; for htmx, an alert that goes into the page's alert area
    instead of the element the request meant to replace; for the API, a problem."""
    context = {
        "status": status,
        "title": TITLES.get(status) or HTTP_STATUS_CODES.get(status, "Error"),
        "message": message or MESSAGES.get(status, ""),
        # Quoted by people who report a server error; the log has it with the traceback.
        "request_id": request_id() if status >= 500 else None,
    }
    if request.path.startswith(API_PREFIX):
        return _problem(status, str(context["title"]), str(context["message"]), fields)
    if is_htmx():
        headers = {"HX-Retarget": "#alerts", "HX-Reswap": "innerHTML"}
        return render_template("errors/_error.html", **context), status, headers
    return render_template("errors/error.html", **context), status


def _problem(status: int, title: str, detail: str, fields: dict | None):
    """An RFC 9457 problem document, as every API error is answered."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if fields:
        body["errors"] = {name: str(message) for name, message in fields.items()}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tessera"'
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError):
        return render_error(
            400,
            _(
                "This form has expired or is missing its security token. "
                "Reload the page and try again."
            ),
        )

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        db.session.rollback()
        return render_error(e.status, e.message, e.fields)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code is None or e.code < 400:
            return e
        return render_error(e.code, _own_description(e))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(e: RequestEntityTooLarge):
        return render_error(
            413,
            _(
                "What you sent is too large: a file may have %(file)s MB, and the files of "
                "a ticket %(ticket)s MB together.",
                file=app.config["MAX_UPLOAD_MB"],
                ticket=app.config["MAX_TICKET_UPLOADS_MB"],
            ),
        )

    @app.errorhandler(RateLimitExceeded)
    def too_many(e: RateLimitExceeded):
        # A limit with a message of its own (sign-in's) explains itself.
        message = e.description if e.limit.error_message else None
        response = make_response(render_error(429, message))
        reset_at = limiter.current_limit.reset_at if limiter.current_limit else time.time()
        response.headers["Retry-After"] = str(max(1, int(reset_at - time.time())))
        return response

    @app.errorhandler(IntegrityError)
    def lost_race(e: IntegrityError):
        """Two people made the same thing at the same moment (an account with one name, a
        subscription): the checks before the write saw neither, the database let one
        in. The other gets a 409, as a lost race on a ticket does; logged, in case it
        was a bug instead."""
        db.session.rollback()
        app.logger.warning("refused by the database: %s", e.orig, exc_info=e)
        return render_error(
            409,
            _(
                "Someone else saved the same at the same moment, so this was not saved. "
                "Reload the page to see what is there now, then try again."
            ),
        )

    @app.errorhandler(InternalServerError)
    def server_error(e: InternalServerError):
        db.session.rollback()
        return render_error(500)


def _own_description(e: HTTPException) -> str | None:
    """Our own abort messages are shown; werkzeug's stock English ones are replaced."""
    stock = type(e).description
    return None if e.description == stock else e.description
