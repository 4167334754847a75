from flask import Blueprint, current_app, request

from ..api_tokens import digest
from ..extensions import limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _token_key() -> str:
    """Each token has its own budget (its digest names it; the secret is never stored)."""
    return "api:" + digest(request.headers.get("Authorization", ""))


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_token_key)(bp)

from . import notifications, sites, tickets, views  # noqa: E402,F401 - register the routes on bp
