"""The JSON API, ``/api/v1/``. Calls authenticate with a personal token only (``Authorization:
Bearer <token>``), never with the session cookie, so no page can make a browser call it (no
CSRF exposure). A token acts with its user's rights, through the same services and the same
visibility rule as the pages. Errors are ``application/problem+json`` (see errors.py)."""

from __future__ import annotations

from flask import abort, g, render_template, request

from .. import api_tokens, security
from ..extensions import limiter
from ..i18n import gettext as _
from . import bp, openapi


@bp.before_request
def _authenticate():
    if request.blueprint == "api" and request.endpoint[4:] in openapi.PUBLIC:
        return
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    user = api_tokens.user_for(secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        abort(401, _("Send a valid API token: Authorization: Bearer <token>."))
    g.api_user = user


@bp.get("/me")
def me():
    user = g.api_user
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "language": user.language,
        "timezone": user.timezone,
    }


@bp.get("/openapi.json")
@limiter.exempt
def openapi_document():
    """The OpenAPI 3.1 description of this API (no token needed)."""
    return openapi.document()


@bp.get("/docs")
@limiter.exempt
def docs():
    """The API's reference, rendered in the browser from the OpenAPI document (Swagger UI
    draws its icons from data: images, which this one page's policy allows)."""
    policy = security.CONTENT_SECURITY_POLICY.replace("img-src 'self'", "img-src 'self' data:")
    return render_template("api/docs.html"), {"Content-Security-Policy": policy}
