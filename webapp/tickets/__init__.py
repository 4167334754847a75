from flask import Blueprint

bp = Blueprint("tickets", __name__)

from . import attachments, lists, views  # noqa: E402,F401 - register the routes on bp
