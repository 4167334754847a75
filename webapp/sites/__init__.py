from flask import Blueprint

bp = Blueprint("sites", __name__, url_prefix="/sites")

from . import views  # noqa: E402,F401 - registers the routes on bp
