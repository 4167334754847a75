"""Sign-in, registration, sign-out, a person's own settings and password change."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from .. import accounts, api_tokens
from ..extensions import login_manager
from ..models import User
from . import bp
from .forms import ChangePasswordForm, LoginForm, RegisterForm, SettingsForm, TokenForm

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The cookie holds ``id:session_token``; a changed token ends the session."""
    uid, _, token = user_id.partition(":")
    if not uid.isdigit():
        return None
    # A page (any GET) shows the bell: its count comes with the user, in one statement.
    user = accounts.signed_in_user(int(uid), with_unread=request.method == "GET")
    if user is None or not token or user.session_token != token or not user.active:
        return None
    return user


def safe_next(target: str | None) -> str:
    """Only a local path is followed after sign-in; anything else goes home."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200
    user = accounts.authenticate(form.username.data, form.password.data)
    if user is None:
        error = _("Wrong username or password.")
        return render_template("auth/login.html", form=form, error=error), 401
    session.clear()
    login_user(user, remember=form.remember.data)
    return redirect(safe_next(request.args.get("next")), code=303)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if not current_app.config["REGISTRATION_ENABLED"]:
        abort(403, _("Registration is turned off here. Ask an administrator for an account."))
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    user = form.submit(lambda: accounts.create_user(
        username=form.username.data, email=form.email.data, password=form.password.data,
        display_name=form.display_name.data or "",
    ))  # fmt: skip
    if form.done:
        login_user(user)
        flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
        return redirect(url_for("main.home"), code=303)
    return render_template("auth/register.html", form=form), form.status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    form.submit(lambda: accounts.change_password(
        user=current_user, current=form.current.data, new=form.new.data
    ))  # fmt: skip
    if form.done:
        # This session gets the new token; every other one still holds the old.
        login_user(current_user._get_current_object())
        flash(_("Your password is changed. Your other sessions are signed out."), "success")
        return redirect(url_for("main.home"), code=303)
    return render_template("auth/password.html", form=form), form.status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm(obj=current_user)
    form.submit(lambda: accounts.update_settings(
        user=current_user, display_name=form.display_name.data or "",
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
    made = form.submit(lambda: api_tokens.create(user=current_user, name=form.name.data))
    secret = made[1] if made else None
    page = render_template(
        "auth/tokens.html", form=TokenForm(formdata=None) if made else form, secret=secret,
        tokens=api_tokens.tokens_of(current_user),
    )  # fmt: skip
    return page, 201 if made else form.status


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = api_tokens.revoke(user=current_user, token_id=token_id)
    flash(_("The token %(name)s is revoked.", name=token.name), "success")
    return redirect(url_for("auth.tokens"), code=303)
