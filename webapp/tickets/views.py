"""Ticket pages and actions. Each view parses input, calls one service, and answers with a
page, a 303 redirect, or (for htmx) the fragment that changed."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)

from .. import accounts, administration, current, markup, pagecache, rows, services, timeline
from ..exceptions import Conflict, Invalid, StaleEdit
from ..extensions import db, login_manager
from ..forms import Form
from ..htmx import is_htmx
from ..i18n import gettext as _
from ..models import Change, Comment, Ticket
from ..routing import as_id
from ..visibility import can_see, visible_tickets
from . import bp
from .forms import (
    AssignForm,
    AttachForm,
    ChildForm,
    CommentForm,
    DuplicateForm,
    EditForm,
    NewCommentForm,
    RatingForm,
    StateForm,
    TicketForm,
)
from .reading import PAGE, as_row, visible, with_linked, with_sign_in


@bp.before_request
def _signed_in():
    """Every ticket page needs a signed-in user. The list's live check is left to look at
    the session alone, so that asking "anything new?" costs one query."""
    if current.request().endpoint != "tickets.poll" and not current.user().is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.route("/tickets/new", methods=["GET", "POST"])
def new():
    form = TicketForm(user=current.user())
    ticket = form.submit(lambda: services.create_ticket(actor=current.user(), **form.values()))
    if form.done:
        reported = _(
            "Ticket #%(id)d is reported. You will see here what happens to it.", id=ticket.id
        )
        flash(reported, "success")
        return redirect(url_for(".detail", ticket_id=ticket.id), code=303)
    return render_template("tickets/new.html", form=form), form.status


@bp.get("/tickets/<int:ticket_id>")
@pagecache.kept
def detail(ticket_id: int):
    ticket, linked = with_linked(ticket_id)
    return _detail_page(ticket, linked=linked)


@bp.route("/tickets/<int:ticket_id>/edit", methods=["GET", "POST"])
@with_sign_in()
def edit(ticket_id: int):
    ticket = visible(ticket_id)
    if not services.actions_for(current.user(), ticket).edit:
        abort(403, _("You cannot edit this ticket."))
    form = EditForm(obj=_form_data(ticket), user=current.user())
    since: list = []
    status = 200
    if form.validate_on_submit():
        try:
            services.edit(
                actor=current.user(), ticket=ticket, version=int(form.version.data), **form.values()
            )
        except StaleEdit as e:
            form.apply_errors(e.fields)
            form.version.data = str(ticket.version)
            since, status = timeline.describe(e.changes, services.current_workflow()), 409
        except Invalid as e:
            form.apply_errors(e.fields)
            status = 422
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for(".detail", ticket_id=ticket.id), code=303)
    elif form.is_submitted():
        if form.version.errors:  # a hidden field: nobody could correct it on the page
            abort(400, _("This form is broken (its version is missing). Reload the page."))
        status = 422
    page = render_template("tickets/edit.html", ticket=ticket, form=form, since=since)
    return page, status


@bp.post("/tickets/<int:ticket_id>/take")
@with_sign_in(row=as_row)
def take(ticket_id: int):
    return _act(ticket_id, lambda t: services.take(actor=current.user(), ticket=t))


@bp.post("/tickets/<int:ticket_id>/steal")
@with_sign_in(row=as_row)
def steal(ticket_id: int):
    return _act(ticket_id, lambda t: services.steal(actor=current.user(), ticket=t))


@bp.post("/tickets/<int:ticket_id>/assign")
@with_sign_in(row=as_row)
def assign(ticket_id: int):
    form = _valid(AssignForm())
    assignee = accounts.assignee(form.user.data) if form.user.data is not None else None
    if form.user.data is not None and assignee is None:
        raise Invalid(_("There is no such user."), fields={"user": _("Unknown user.")})
    return _act(
        ticket_id, lambda t: services.assign(actor=current.user(), ticket=t, assignee=assignee)
    )


@bp.post("/tickets/<int:ticket_id>/state")
@with_sign_in(row=as_row)
def change_state(ticket_id: int):
    state = _valid(StateForm()).state.data
    return _act(
        ticket_id, lambda t: services.change_state(actor=current.user(), ticket=t, state=state)
    )


@bp.post("/tickets/<int:ticket_id>/rating")
@with_sign_in(row=as_row)
def rate(ticket_id: int):
    rating = _valid(RatingForm()).rating.data
    return _act(ticket_id, lambda t: services.rate(actor=current.user(), ticket=t, rating=rating))


@bp.post("/tickets/<int:ticket_id>/comments")
@with_sign_in(row=True)
def comment(ticket_id: int):
    ticket = visible(ticket_id, row=True)
    form = NewCommentForm()
    if not form.validate_on_submit():
        return _comment_form_error(ticket, form)
    try:
        change = services.comment(
            actor=current.user(), ticket=ticket, body=form.body.data, files=form.file.data or []
        )
    except Invalid as e:
        form.apply_errors(e.fields)
        return _comment_form_error(ticket, form)
    if not is_htmx():
        flash(_("Comment posted."), "success")
        anchor = f"comment-{change.comment_id}"
        return redirect(url_for(".detail", ticket_id=ticket.id, _anchor=anchor), 303)
    # The ticket's files come back only when the comment brought some; the page empties
    # its form itself (tessera.js).
    context = page_update(ticket, [change], files=bool(form.file.data))
    return render_template("tickets/_comment_posted.html", ticket=ticket, **context)


@bp.route("/tickets/<int:ticket_id>/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@with_sign_in()
def edit_comment(ticket_id: int, comment_id: int):
    ticket = visible(ticket_id)
    note = db.session.get(Comment, comment_id)
    if note is None or note.ticket_id != ticket.id:
        abort(404)
    services.require_comment_author(current.user(), note)
    form = CommentForm(obj=note)
    form.submit(
        lambda: services.edit_comment(actor=current.user(), comment=note, body=form.body.data)
    )
    if form.done:
        anchor = f"comment-{note.id}"
        return redirect(url_for(".detail", ticket_id=ticket.id, _anchor=anchor), code=303)
    page = render_template("tickets/edit_comment.html", ticket=ticket, note=note, form=form)
    return page, form.status


@bp.post("/tickets/<int:ticket_id>/duplicate")
@with_sign_in()
def mark_duplicate(ticket_id: int):
    ticket = visible(ticket_id)
    number = _valid(DuplicateForm()).number()
    original = None
    if number is not None:
        original = db.session.scalar(
            sa.select(Ticket).where(Ticket.id == number, visible_tickets(current.user()))
        )
        if original is None:
            raise Invalid(_("There is no ticket #%(id)d that you may see.", id=number))
    services.mark_duplicate(actor=current.user(), ticket=ticket, original=original)
    return redirect(url_for(".detail", ticket_id=ticket.id, _anchor="related"), code=303)


@bp.post("/tickets/<int:ticket_id>/children")
@with_sign_in()
def spawn_child(ticket_id: int):
    parent = visible(ticket_id)
    form = _valid(ChildForm())
    child = services.spawn_child(
        actor=current.user(), parent=parent, summary=form.summary.data,
        description=form.description.data,
    )  # fmt: skip
    flash(_("Child ticket #%(id)d is reported.", id=child.id), "success")
    return redirect(url_for(".detail", ticket_id=child.id), code=303)


@bp.route("/tickets/<int:ticket_id>/delete", methods=["GET", "POST"])
@with_sign_in()
def delete(ticket_id: int):
    """Admins only, after a confirmation page."""
    ticket = visible(ticket_id)
    if not services.actions_for(current.user(), ticket).delete:
        abort(403, _("Only admins can delete tickets."))
    form = Form()
    if form.validate_on_submit():
        administration.delete_ticket(actor=current.user(), ticket=ticket)
        flash(_("Ticket #%(id)d is deleted; its history is kept.", id=ticket.id), "success")
        return redirect(url_for(".index"), code=303)
    return render_template("tickets/delete.html", ticket=ticket, form=form)


@bp.get("/tickets/<int:ticket_id>/monitor.csv")
def monitor_csv(ticket_id: int):
    ticket = visible(ticket_id)
    services.require_monitor_download(current.user(), ticket)
    lines = timeline.csv_lines(ticket, services.current_workflow())
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="ticket-{ticket.id}-monitor.csv"'},
    )


def _valid(form):
    if not form.validate_on_submit():
        errors = "; ".join(
            f"{form[name].label.text}: {' '.join(msgs)}" for name, msgs in form.errors.items()
        )
        raise Invalid(errors or _("The request is not complete."))
    return form


def _act(ticket_id: int, action: Callable[[Ticket], Any]):
    """Run an action on the ticket and answer with what changed; a lost race is a 409
    that shows the ticket as it now is."""
    in_row = as_row()
    ticket = visible(ticket_id, row=in_row)
    change, message, status = None, None, 200
    try:
        change = action(ticket)
    except Conflict as e:
        message, status = e.message, 409
    if not is_htmx():
        if status == 200:
            return redirect(url_for(".detail", ticket_id=ticket.id), code=303)
        return _detail_page(ticket, conflict=message, status=status)
    if in_row:
        return rows.kit().alone(ticket, accounts.staff_choices(), message), status
    context = {"t": ticket, "ticket": ticket, "conflict": message}
    context.update(page_update(ticket, [change] if change else [], header=True))
    return render_template("tickets/_action_result.html", **context), status


# The kinds of change that leave the ticket's header as it was: a page that missed only
# these gets no new header.
_HEADER_UNTOUCHED = frozenset(
    {"comment", "comment_edited", "attachment_added", "attachment_removed", "child"}
)


def page_update(
    ticket: Ticket, changes: list[Change], *, header: bool = False, files: bool = False
) -> dict[str, Any]:
    """What an htmx answer to ``changes`` (none or one) made on the ticket's page shows of
    them: the entries the page lacks (``news``), to be appended to its timeline. Those of
    ``changes`` when the page showed the ticket as they found it; else (``stale``: its
    forms send the version it shows as ``shown``) every change since, others' first, with
    the page's header and files as they are now if those others changed them. With
    ``header`` and ``files``: those in any case."""
    shown = as_id(current.request().form.get("shown"))
    stale = shown is not None and shown < ticket.version - len(changes)
    # With what the header and files show: the page may lack them too (no statement more)
    news = timeline.since(ticket, shown, with_ticket=PAGE) if stale else changes
    own = {change.id for change in changes}
    missed = [change for change in news if change.id not in own]
    header = header or any(change.kind not in _HEADER_UNTOUCHED for change in missed)
    files = files or any(f.field == "attachment" for change in missed for f in change.fields)
    context = {"news": timeline.describe(news, services.current_workflow()), "header": header}
    if header:
        context |= _header_context(ticket)
    if files:
        context |= attachments_context(ticket)
    return context


def _detail_page(
    ticket: Ticket,
    *,
    conflict: str | None = None,
    status: int = 200,
    comment_form: CommentForm | None = None,
    attach_form: AttachForm | None = None,
    linked: list[Ticket] | None = None,
):
    context = _detail_context(ticket, linked)
    if comment_form is not None:
        context["comment_form"] = comment_form
    if attach_form is not None:
        context["attach_form"] = attach_form
    page = render_template("tickets/detail.html", ticket=ticket, conflict=conflict, **context)
    return page, status


def _detail_context(ticket: Ticket, linked: list[Ticket] | None) -> dict[str, Any]:
    files = services.all_attachments_of(ticket)
    changes = timeline.history(ticket, files)
    texts = [ticket.description] + [c.comment.body for c in changes if c.comment]
    entries, linkable = timeline.describe_linking(
        changes, services.current_workflow(), markup.referenced_ids(texts),
        visible_tickets(current.user()),
    )  # fmt: skip
    return {
        "related": _relations(ticket, linked),
        "child_form": ChildForm(formdata=None),
        "entries": entries,
        "linkable": linkable,
        "comment_form": NewCommentForm(formdata=None),
        **_header_context(ticket),
        **attachments_context(ticket, [f for f in files if f.removed is None]),
    }


def _header_context(ticket: Ticket) -> dict[str, Any]:
    """What the ticket's header shows besides the ticket: what the viewer may do."""
    user = current.user()
    return {
        "actions": services.actions_for(user, ticket),
        "rating_form": RatingForm(formdata=None, rating=ticket.rating),
        "closes_at": services.closes_at(ticket),
        "candidates": accounts.staff_choices() if user.is_staff else [],
    }


def attachments_context(ticket: Ticket, files: list | None = None) -> dict[str, Any]:
    """The ticket's files for its page (``ticket.files`` unless given), each with whether
    the viewer may remove it."""
    if files is None:
        files = ticket.files
    user = current.user()
    return {
        "attachments": files,
        "removable": {a.id for a in files if services.may_remove_attachment(user, a)},
        "attach_form": AttachForm(formdata=None),
    }


def _relations(ticket: Ticket, linked: list[Ticket] | None) -> dict[str, Any]:
    """The tickets this one is linked with, as far as the viewer may see them: the chain
    of originals up to the root of the problem, its duplicates, its parent, its children
    (``linked``: its duplicates and children, if read with it)."""
    user = current.user()
    chain, node = [], ticket.duplicate_of
    while node is not None and len(chain) < 50:
        if can_see(user, node):
            chain.append(node)
        node = node.duplicate_of
    if linked is None:
        linked = with_linked(ticket.id)[1]
    parent = ticket.parent if ticket.parent and can_see(user, ticket.parent) else None
    return {
        "chain": chain,
        "duplicates": [t for t in linked if t.duplicate_of_id == ticket.id],
        "children": [t for t in linked if t.parent_id == ticket.id],
        "parent": parent,
    }


def _comment_form_error(ticket: Ticket, form: CommentForm):
    if not is_htmx():
        return _detail_page(ticket, status=422, comment_form=form)
    html = render_template("tickets/_comment_form.html", ticket=ticket, comment_form=form)
    return html, 422, {"HX-Retarget": "#comment-form", "HX-Reswap": "outerHTML"}


def _form_data(ticket: Ticket):
    """The ticket as the edit form's initial data (ids as the select fields hold them)."""

    names = (
        "summary",
        "description",
        "private",
        "end_user_name",
        "end_user_email",
        "deadline",
        "waiting_for",
        "upgrade_notes",
        "ref",
        "reporting_type",
        "version",
    )
    return SimpleNamespace(
        **{name: getattr(ticket, name) for name in names},
        site=str(ticket.site_id or ""),
        site_name=(str(ticket.site_id), ticket.site.name) if ticket.site else None,
        ticket_type=str(ticket.ticket_type_id or ""),
        priority=str(ticket.priority),
    )
