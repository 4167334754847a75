"""Files on tickets: upload, download, thumbnail, remove. Who may do what is the
services'; how files are served is decided here: every file only ever as a download, and
inline only the re-encoded thumbnail of a verified image."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, send_file, url_for

from .. import attachments as files
from .. import current, services
from ..exceptions import Invalid
from ..htmx import is_htmx
from ..i18n import gettext as _
from ..models import Change, Ticket
from . import bp
from .forms import AttachForm
from .reading import file_with_sign_in, visible, visible_file, with_sign_in
from .views import _detail_page, attachments_context, page_update


@bp.post("/tickets/<int:ticket_id>/attachments")
@with_sign_in(row=True, files=True)
def attach(ticket_id: int):
    """Attach the posted files (field ``file``, several allowed)."""
    ticket = visible(ticket_id, row=True, files=True)  # its files count against the limit
    form = AttachForm()
    try:
        change = services.attach(actor=current.user(), ticket=ticket, files=form.file.data or [])
    except Invalid as e:
        form.apply_errors(e.fields)
        if not is_htmx():
            return _detail_page(ticket, status=422, attach_form=form)
        context = attachments_context(ticket) | {"attach_form": form}
        return render_template("tickets/_attachments.html", ticket=ticket, **context), 422
    names = ", ".join(f.new for f in change.fields)
    return _changed(ticket, change, _("Attached %(names)s.", names=names))


@bp.get("/attachments/<int:attachment_id>")
def download(attachment_id: int):
    """The file as it was uploaded, always as a download (never shown by the browser)."""
    attachment = services.visible_attachment(current.user(), attachment_id)
    path = files.path_of(attachment.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.content_type if attachment.is_image else files.OCTET_STREAM,
        as_attachment=True,
        download_name=attachment.name,
    )
    return _guarded(response)


@bp.get("/attachments/<int:attachment_id>/thumbnail")
def thumbnail(attachment_id: int):
    """A verified image's small re-encoded copy, shown inline on the ticket page."""
    attachment = services.visible_attachment(current.user(), attachment_id)
    path = files.thumbnail_path(attachment.stored_name)
    if not attachment.is_image or not path.is_file():
        abort(404)
    mimetype = files.thumbnail_type(attachment.content_type)
    response = send_file(
        path, mimetype=mimetype, download_name=f"thumbnail-{attachment.id}.{mimetype[6:]}"
    )
    return _guarded(response)


@bp.post("/attachments/<int:attachment_id>/delete")
@file_with_sign_in
def remove_attachment(attachment_id: int):
    attachment = visible_file(attachment_id)
    ticket, name = attachment.ticket, attachment.name
    change = services.remove_attachment(actor=current.user(), attachment=attachment)
    return _changed(ticket, change, _("Removed %(name)s.", name=name))


def _changed(ticket: Ticket, change: Change, message: str):
    """Back to the ticket's files (a plain form post), or for htmx the files and, out of
    band, the change at the timeline's end (views.page_update) and the message in the
    live region."""
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for(".detail", ticket_id=ticket.id, _anchor="attachments"), 303)
    context = page_update(ticket, [change], files=True)
    return render_template(
        "tickets/_attachments_changed.html", ticket=ticket, announce=message, **context
    )


def _guarded(response: Response) -> Response:
    """Files come from anyone: the browser must never guess their type, run them, or
    keep them in a shared cache."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.cache_control.private = True
    return response
