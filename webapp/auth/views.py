"""Sign-in, registration, sign-out, a person's own settings and password change."""

from __future__ import annotations

import hashlib
import ipaddress
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user

from .. import accounts, api_tokens, current
from ..extensions import limiter, login_manager
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import User
from ..routing import as_id
from . import bp
from .forms import ChangePasswordForm, LoginForm, RegisterForm, SettingsForm, TokenForm

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"
MAX_LOGIN = 254  # the longest username or e-mail address the form takes


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The cookie holds ``id:secret`` of a sign-in (models.UserSession); once the sign-in
    has ended, every copy of the cookie leads nowhere."""
    uid, _, secret = user_id.partition(":")
    if as_id(uid) is None or not secret or len(secret) > 100:
        return None
    # A page (any GET) shows the bell: its count comes with the user, in one statement;
    # and so does what the view says it reads first (its ``read_with_sign_in``).
    asked = current.request()
    view = current.app().view_functions.get(asked.endpoint or "")
    wanted = getattr(view, "read_with_sign_in", None)
    also = wanted(**asked.view_args) if wanted is not None else None
    get = asked.method == "GET"
    return accounts.signed_in_user(as_id(uid), secret, with_unread=get, also=also)


def _named_user() -> User | None:
    """The account the sign-in form names (looked up once a request: the rate limit's key
    and the password check both need it)."""
    if "named_user" not in g:
        login = request.form.get("username", "")
        valid = 0 < len(login) <= MAX_LOGIN and "\x00" not in login
        g.named_user = accounts.find_user(login) if valid else None
    return g.named_user


def _account_key() -> str:
    """Failed sign-ins count against the account, whether it is named by its username or its
    e-mail address; a name that is nobody's counts under itself."""
    user = _named_user()
    if user is not None:
        return f"login-account:{user.id}"
    login = request.form.get("username", "")[:MAX_LOGIN].strip().lower()
    return "login-name:" + hashlib.sha256(login.encode(errors="replace")).hexdigest()


def _address_key() -> str:
    """Failed sign-ins count against the client's address; an IPv6 client against its /64,
    which is what one household or server gets."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"login-address:{address}"
    if ip.version == 6:
        return f"login-address:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"login-address:{ip}"


def _failed(response) -> bool:
    return response.status_code == 401


def _too_many_message() -> str:
    return _(
        "Too many failed sign-ins in a short time, for this account or from your address. "
        "For your safety, signing in is paused for a while: please wait a few minutes, then "
        "try again. If you forgot your password, ask an administrator to set a new one."
    )


def safe_next(target: str | None) -> str:
    """Only a local path is followed after sign-in; anything else goes home."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
# Failed sign-ins (401) count, per account and per address; past either limit, sign-in
# answers 429 without looking at the password.
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"], key_func=_account_key,
    methods=["POST"], deduct_when=_failed, error_message=_too_many_message,
)  # fmt: skip
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_ADDRESS"], key_func=_address_key,
    methods=["POST"], deduct_when=_failed, error_message=_too_many_message,
)  # fmt: skip
def login():
    if current.user().is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200
    # Unknown, wrong and deactivated get the same answer after the same work.
    user = accounts.check_credentials(_named_user(), form.password.data)
    if user is None:
        error = _("Wrong username or password.")
        return render_template("auth/login.html", form=form, error=error), 401
    session.clear()  # nothing from before signing in carries over (session fixation)
    accounts.start_session(user)
    login_user(user, remember=form.remember.data)
    return redirect(safe_next(request.args.get("next")), code=303)


@bp.post("/logout")
def logout():
    if current.user().is_authenticated:
        accounts.end_session(current.user())
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if not current_app.config["REGISTRATION_ENABLED"]:
        abort(403, _("Registration is turned off here. Ask an administrator for an account."))
    if current.user().is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    user = form.submit(lambda: accounts.create_user(
        username=form.username.data, email=form.email.data, password=form.password.data,
        display_name=form.display_name.data or "",
    ))  # fmt: skip
    if form.done:
        session.clear()
        accounts.start_session(user)
        login_user(user)
        flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
        return redirect(url_for("main.home"), code=303)
    return render_template("auth/register.html", form=form), form.status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    form.submit(lambda: accounts.change_password(
        user=current.user(), current=form.current.data, new=form.new.data
    ))  # fmt: skip
    if form.done:
        # Every sign-in of the user ended with the old password; this browser gets a new
        # one (and keeps being remembered if it was).
        user = current.user()
        remembered = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME",
                                                                 "remember_token"))  # fmt: skip
        accounts.start_session(user)
        login_user(user, remember=bool(remembered))
        flash(_("Your password is changed. Your other sessions are signed out."), "success")
        return redirect(url_for("main.home"), code=303)
    return render_template("auth/password.html", form=form), form.status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm(obj=current.user())
    form.submit(lambda: accounts.update_settings(
        user=current.user(), display_name=form.display_name.data or "",
        language=form.language.data, timezone=form.timezone.data, mail_mode=form.mail_mode.data,
    ))  # fmt: skip
    if form.done:
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("auth.settings"), code=303)
    return render_template("auth/settings.html", form=form), form.status


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """Personal API tokens: make one (its secret is shown this once), see and revoke them."""
    form = TokenForm()
    made = form.submit(lambda: api_tokens.create(user=current.user(), name=form.name.data))
    secret = made[1] if made else None
    page = render_template(
        "auth/tokens.html", form=TokenForm(formdata=None) if made else form, secret=secret,
        tokens=api_tokens.tokens_of(current.user()),
    )  # fmt: skip
    return page, 201 if made else form.status


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = api_tokens.revoke(user=current.user(), token_id=token_id)
    flash(_("The token %(name)s is revoked.", name=token.name), "success")
    return redirect(url_for("auth.tokens"), code=303)
