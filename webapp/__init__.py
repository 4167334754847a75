"""Tessera, a help desk. ``create_app`` wires configuration, extensions, blueprints,
CLI commands and error handlers; everything else lives in its own module."""

from __future__ import annotations

import gc
from inspect import CO_COROUTINE
from pathlib import Path
from types import FunctionType, MethodType
from typing import Any

from flask import Flask

from . import (  # noqa: F401
    accounts,
    cli,
    csrf_tokens,
    errors,
    i18n,
    monitor,
    notify,
    pagecache,
    rate_limits,
    requestlog,
    security,
    session_cookies,
    stamps,
    template_engine,
    templating,
    webhooks,
)
from .config import load_config
from .extensions import csrf, db, limiter, login_manager, migrate
from .htmx import vary_on_htmx
from .pooling import ping_after_idle
from .routing import IdConverter

PACKAGE = Path(__file__).parent


def resource_dir(name: str) -> str:
    """``templates``, ``static`` or ``migrations``: beside the package in a checkout,
    inside it when installed from a wheel."""
    checkout = PACKAGE.parent / name
    return str(checkout if checkout.is_dir() else PACKAGE / name)


class Tessera(Flask):
    jinja_environment = template_engine.Environment

    def ensure_sync(self, func):
        """Flask asks this of every hook of every request (some 20), and the standard
        answer looks a function over from the start each time: a plain function that is
        not a coroutine, or a method of one, is answered at once."""
        plain = func.__func__ if type(func) is MethodType else func
        if type(plain) is FunctionType and not plain.__code__.co_flags & CO_COROUTINE:
            return func
        return super().ensure_sync(func)

    def log_exception(self, exc_info) -> None:
        """An unhandled exception's traceback, logged with the request's id."""
        requestlog.log_exception(exc_info)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Tessera(
        __name__,
        template_folder=resource_dir("templates"),
        static_folder=resource_dir("static"),
        instance_relative_config=True,
    )
    app.url_map.converters["int"] = IdConverter  # before any route is added
    load_config(app, test_config)
    app.session_interface = session_cookies.KeptCookieSessions()
    requestlog.init_app(app)  # first: it times the whole request
    security.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        connect_args = {**options.get("connect_args", {})}
        connect_args["timeout"] = app.config["SQLITE_BUSY_TIMEOUT"]
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}

    db.init_app(app)
    pagecache.init_app(app)  # before the sign-in reads anything
    with app.app_context():
        ping_after_idle(db.engine, float(app.config["DB_PING_AFTER_IDLE_SECONDS"]))
    # Runs before Flask-SQLAlchemy's own teardown (they run last to first).
    app.teardown_appcontext(accounts.touch_session)
    migrate.init_app(app, db, directory=resource_dir("migrations"))
    csrf.init_app(app)
    csrf_tokens.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)

    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .main import bp as main_bp
    from .notifications import bp as notifications_bp
    from .sites import bp as sites_bp
    from .tickets import bp as tickets_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(sites_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # tokens, not cookies, authenticate the API: nothing to forge
    rate_limits.init_app(app)  # once every view is known
    errors.init_app(app)
    cli.init_app(app)
    templating.init_app(app)
    app.after_request(vary_on_htmx)
    # What start-up made lives as long as the process: keep it out of the garbage
    # collector's full sweeps, which would otherwise cost a page tens of milliseconds.
    gc.freeze()
    # A request makes thousands of objects that die with it: look for cycles among the
    # young ones every 10,000 objects made, not every 700 (a ticket action 0.8 % fewer
    # instructions; the memory it lets wait is a few megabytes at most).
    gc.set_threshold(10_000, *gc.get_threshold()[1:])
    return app
