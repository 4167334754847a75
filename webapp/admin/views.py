"""The admin area: people, groups, sites, ticket types, the workflow's states, webhooks,
and the record of what admins did. Every change goes through webapp.administration."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from .. import accounts, administration, current
from ..exceptions import Conflict, Invalid
from ..extensions import db, login_manager
from ..htmx import is_htmx
from ..i18n import gettext as _
from ..models import Group, Site, Subscription, TicketType, User, Webhook
from ..services import current_workflow
from ..webhooks import SIGNATURE_HEADER, deliveries
from . import bp
from .forms import (
    EditUserForm,
    MemberForm,
    PasswordForm,
    SiteForm,
    TypeForm,
    UserForm,
    WebhookForm,
)


@bp.before_request
def _admins_only():
    """Signed-in admins only: others are sent to sign in, or refused."""
    if not current.user().is_authenticated:
        return login_manager.unauthorized()
    if not current.user().is_admin:
        abort(403, _("The admin area is for admins."))
    return None


@bp.get("/")
def index():
    return render_template("admin/index.html", actions=administration.recent(15))


@bp.get("/log")
def log():
    return render_template("admin/log.html", actions=administration.recent(500))


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = UserForm()
    user = form.submit(lambda: administration.create_user(
        actor=current.user(), username=form.username.data, email=form.email.data,
        password=form.password.data, display_name=form.display_name.data or "",
        language=form.language.data,
    ))  # fmt: skip
    if form.done:
        flash(f"{user.username} can sign in now.", "success")
        return redirect(url_for(".user", user_id=user.id), code=303)
    q = request.args.get("q", "").strip().lower()[:100]
    # Their groups (each row says the person's role) in one statement more, not one each.
    query = sa.select(User).options(selectinload(User.groups)).order_by(User.username).limit(500)
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(User.username.like(like), User.email.like(like),
                                   sa.func.lower(User.display_name).like(like)))  # fmt: skip
    people = db.session.scalars(query).all()
    return render_template("admin/users.html", people=people, form=form, q=q), form.status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    person = _get(User, user_id)
    form = EditUserForm(obj=person)
    form.submit(lambda: administration.update_user(
        actor=current.user(), user=person, display_name=form.display_name.data or "",
        email=form.email.data, language=form.language.data,
    ))  # fmt: skip
    if form.done:
        flash(_("Saved."), "success")
        return redirect(url_for(".user", user_id=person.id), code=303)
    page = render_template(
        "admin/user.html", person=person, form=form, password_form=PasswordForm(formdata=None)
    )
    return page, form.status


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int):
    person = _get(User, user_id)
    active = request.form.get("active") == "yes"
    administration.set_active(actor=current.user(), user=person, active=active)
    flash(f"{person.username} is {'active again' if active else 'deactivated'}.", "success")
    return redirect(url_for(".user", user_id=person.id), code=303)


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    person = _get(User, user_id)
    form = PasswordForm()
    if not form.validate_on_submit():
        raise Invalid(_("Use at least 8 characters for the new password."))
    administration.reset_password(actor=current.user(), user=person, password=form.password.data)
    flash(f"{person.username} has a new password; their sessions have ended.", "success")
    return redirect(url_for(".user", user_id=person.id), code=303)


@bp.get("/groups")
def groups():
    return render_template("admin/groups.html", groups=_role_groups())


@bp.post("/groups/<int:group_id>/members")
def add_member(group_id: int):
    group = _get(Group, group_id, joinedload(Group.members))
    form = MemberForm()
    person = _named(form, joinedload(User.groups))
    if person is None:
        error = _("There is no user %(user)r.", user=form.user.data or "")
        return _members(group, error=error, status=422)
    administration.add_member(actor=current.user(), user=person, group=group)
    return _members(group)


@bp.post("/groups/<int:group_id>/members/<int:user_id>/remove")
def remove_member(group_id: int, user_id: int):
    group = _get(Group, group_id, joinedload(Group.members))
    person = _get(User, user_id, joinedload(User.groups))
    try:
        administration.remove_member(actor=current.user(), user=person, group=group)
    except Conflict as e:
        return _members(group, error=e.message, status=409)
    return _members(group)


@bp.route("/sites", methods=["GET", "POST"])
def sites():
    form = SiteForm()
    site = form.submit(lambda: administration.save_site(
        actor=current.user(), site=None, name=form.name.data,
        description=form.description.data or "", state=form.state.data,
    ))  # fmt: skip
    if form.done:
        return redirect(url_for(".site", site_id=site.id), code=303)
    all_sites = db.session.scalars(sa.select(Site).order_by(Site.name)).all()
    return render_template("admin/sites.html", sites=all_sites, form=form), form.status


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
def site(site_id: int):
    place = _get(Site, site_id)
    form = SiteForm(obj=place)
    form.submit(lambda: administration.save_site(
        actor=current.user(), site=place, name=form.name.data,
        description=form.description.data or "", state=form.state.data,
    ))  # fmt: skip
    if form.done:
        flash(_("Saved."), "success")
        return redirect(url_for(".site", site_id=place.id), code=303)
    subscribers = db.session.scalars(
        sa.select(User).join(Subscription).where(Subscription.site_id == place.id)
        .order_by(User.username)
    ).all()  # fmt: skip
    page = render_template(
        "admin/site.html", site=place, form=form, subscribers=subscribers,
        member_form=MemberForm(formdata=None),
    )  # fmt: skip
    return page, form.status


@bp.post("/sites/<int:site_id>/subscribers")
def add_subscriber(site_id: int):
    place = _get(Site, site_id)
    form = MemberForm()
    person = _named(form, joinedload(User.subscriptions))
    if person is None:
        raise Invalid(_("There is no user %(user)r.", user=form.user.data or ""))
    administration.set_subscribed(actor=current.user(), site=place, user=person, subscribed=True)
    return redirect(url_for(".site", site_id=place.id), code=303)


@bp.post("/sites/<int:site_id>/subscribers/<int:user_id>/remove")
def remove_subscriber(site_id: int, user_id: int):
    place, person = _get(Site, site_id), _get(User, user_id)
    administration.set_subscribed(actor=current.user(), site=place, user=person, subscribed=False)
    return redirect(url_for(".site", site_id=place.id), code=303)


@bp.route("/types", methods=["GET", "POST"])
def types():
    form = TypeForm()
    form.submit(lambda: administration.save_ticket_type(
        actor=current.user(), ticket_type=None, name=form.name.data,
        reporting_type=form.reporting_type.data, active=form.active.data,
    ))  # fmt: skip
    if form.done:
        return redirect(url_for(".types"), code=303)
    all_types = db.session.scalars(sa.select(TicketType).order_by(TicketType.name)).all()
    return render_template("admin/types.html", types=all_types, form=form), form.status


@bp.post("/types/<int:type_id>")
def edit_type(type_id: int):
    ticket_type = _get(TicketType, type_id)
    form = TypeForm()
    if not form.validate_on_submit():
        raise Invalid(_("A type needs a name."))
    administration.save_ticket_type(
        actor=current.user(), ticket_type=ticket_type, name=form.name.data,
        reporting_type=form.reporting_type.data, active=form.active.data,
    )  # fmt: skip
    return redirect(url_for(".types"), code=303)


@bp.get("/states")
def states():
    return render_template("admin/states.html", wf=current_workflow())


@bp.route("/webhooks", methods=["GET", "POST"])
def webhooks():
    all_sites = db.session.scalars(sa.select(Site).order_by(Site.name)).all()
    form = WebhookForm(sites=all_sites)
    webhook = form.submit(lambda: administration.create_webhook(
        actor=current.user(), url=form.url.data,
        site=_get(Site, int(form.site.data)) if form.site.data else None,
        events=form.events.data or [],
    ))  # fmt: skip
    if form.done:
        flash(_("The webhook is registered. Its secret is shown below."), "success")
        return redirect(url_for(".webhook", webhook_id=webhook.id), code=303)
    hooks = db.session.scalars(sa.select(Webhook).order_by(Webhook.id.desc())).all()
    return render_template("admin/webhooks.html", webhooks=hooks, form=form), form.status


@bp.get("/webhooks/<int:webhook_id>")
def webhook(webhook_id: int):
    hook = _get(Webhook, webhook_id)
    page = render_template(
        "admin/webhook.html", webhook=hook, log=deliveries(hook), signature_header=SIGNATURE_HEADER
    )
    return page


@bp.post("/webhooks/<int:webhook_id>/deactivate")
def deactivate_webhook(webhook_id: int):
    hook = _get(Webhook, webhook_id)
    administration.deactivate_webhook(actor=current.user(), webhook=hook)
    flash(_("The webhook is deactivated: it is told nothing more."), "success")
    return redirect(url_for(".webhook", webhook_id=hook.id), code=303)


def _get(model, ident: int, *options: ORMOption):
    obj = db.session.get(model, ident, options=options)
    if obj is None:
        abort(404)
    return obj


def _named(form: MemberForm, *options: ORMOption) -> User | None:
    """The person a valid MemberForm names, with what ``options`` load, or None."""
    return accounts.find_user(form.user.data or "", *options) if form.validate_on_submit() else None


def _role_groups() -> list[tuple[Group, list[User]]]:
    return [(g, administration.group_members(g)) for g in accounts.ensure_groups()]


def _members(group: Group, *, error: str | None = None, status: int = 200):
    context = {"group": group, "members": administration.group_members(group), "error": error}
    if is_htmx():
        return render_template("admin/_members.html", **context), status
    if error:
        return render_template("admin/groups.html", groups=_role_groups(), error=error), status
    return redirect(url_for(".groups"), code=303)
