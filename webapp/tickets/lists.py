"""The ticket list: tabs, filters, pages, live updates, bulk actions, CSV export and
duplicate suggestions. The view state lives in the query string (see listing.View)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask import Response, abort, render_template, request, stream_with_context, url_for
from flask_login import login_required
from jinja2_fragments.flask import render_block

from .. import accounts, csvexport, current, i18n, listing, pagecache, search, services, setup_names
from ..exceptions import DomainError, Forbidden, Invalid
from ..extensions import db
from ..htmx import is_htmx
from ..i18n import gettext as _
from ..models import Change, Ticket, User
from ..routing import as_id
from ..rows import name_assignees
from ..visibility import visible_tickets
from . import bp

BULK_CAP = 1000
SUGGESTIONS = 5
CSV_HEADER = (
    "number", "summary", "state", "priority", "site", "type", "author", "assignee",
    "end_user", "created", "modified", "deadline", "private", "reference", "rating",
)  # fmt: skip


@bp.get("/tickets/")
@pagecache.kept
def index():
    wf, asked = services.current_workflow(), current.request()
    view = listing.View.from_args(asked.args, current.user(), wf)
    context = _list_context(view)
    status = 422 if view.errors else 200
    if asked.args.get("part") == "rows":
        return render_template("tickets/_rows.html", **context), status
    if is_htmx() and not asked.headers.get("HX-History-Restore-Request"):
        return render_block("tickets/list.html", "results", **context), status
    return render_template("tickets/list.html", **context), status


# The newest change's id: all a live check asks when nothing changed (built once).
_LATEST = sa.select(sa.func.max(Change.id))


@bp.get("/tickets/poll")
def poll():
    """What changed since the list was drawn. Nothing new costs one small query and an
    empty answer; otherwise the changed rows come back to be swapped in place."""
    if "_user_id" not in current.session():
        return "", 401
    latest = db.session.connection().scalar(_LATEST) or 0
    since = current.request().args.get("since", "0")
    if as_id(since) is None:
        abort(400, _("That link is broken: 'since' must be a change number."))
    since = as_id(since)
    if latest <= since:
        return "", 204
    return _changes_since(since, latest)


@login_required
def _changes_since(since: int, latest: int):
    wf, user = services.current_workflow(), current.user()
    view = listing.View.from_args(current.request().args, user, wf)
    changed_ids = sa.select(Change.ticket_id).where(Change.id > since).distinct().limit(200)
    changed = db.session.scalars(
        sa.select(Ticket).where(Ticket.id.in_(changed_ids), visible_tickets(user))
    ).all()
    name_assignees(changed)
    created = sa.select(Change.ticket_id).where(Change.id > since, Change.kind == "created")
    new = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(Ticket.id.in_(created), listing.in_view(user, wf, view))
    )
    return render_template(
        "tickets/_live.html",
        view=view,
        since=latest,
        changed=changed,
        new=new,
        candidates=_candidates(user),
    )


@bp.post("/tickets/bulk")
def bulk():
    """Take, assign or move many tickets; each one is its own change, and every ticket
    that could not be changed is listed back with the reason."""
    if not current.user().is_staff:
        raise Forbidden(_("Only staff can change many tickets at once."))
    wf = services.current_workflow()
    action = request.form.get("action", "")
    ids = _bulk_ids(wf)
    act = _bulk_action(action)
    results = []
    for ticket_id in ids:
        ticket = db.session.get(Ticket, ticket_id)
        try:
            if ticket is None:
                raise Invalid(_("There is no such ticket."))
            change = act(ticket)
        except DomainError as e:
            results.append((ticket_id, ticket, e.message))
        else:
            results.append((ticket_id, ticket, None if change else _("Nothing to change.")))
    context = {
        "results": results,
        "done": [t for _, t, failure in results if failure is None],
        "failed": [(i, msg) for i, _, msg in results if msg is not None],
        "candidates": _candidates(current.user()),
        "back": request.form.get("view", ""),
    }
    template = "tickets/_bulk_result.html" if is_htmx() else "tickets/bulk_result.html"
    return render_template(template, **context)


@bp.get("/tickets.csv")
def export():
    wf = services.current_workflow()
    view = listing.View.from_args(request.args, current.user(), wf)
    if view.errors:
        raise Invalid("; ".join(view.errors.values()))
    query = listing.export_query(current.user(), wf, view)
    lines = csvexport.written(query, CSV_HEADER)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="tickets.csv"'},
    )


@bp.get("/tickets/suggest")
def suggest():
    """While someone types a summary: up to five tickets they may see that look alike,
    sleeping ones included, so they find the one they forgot about."""
    text = request.args.get("summary", "")[:250]
    found = search.parse(db.session.get_bind().dialect.name, text, any_term=True)
    tickets = []
    if found is not None and len(text.strip()) >= 4:
        best = found.best(visible_tickets(current.user()), SUGGESTIONS)
        tickets = db.session.scalars(
            sa.select(Ticket)
            .join(best, best.c.ticket_id == Ticket.id)
            .order_by(best.c.rank.desc(), Ticket.id.desc())
            .limit(SUGGESTIONS)
        ).all()
    return render_template("tickets/_suggestions.html", tickets=tickets)


def _list_context(view: listing.View) -> dict:
    wf = services.current_workflow()
    user = current.user()
    counts = listing.counts(user, wf, view)
    page = listing.page(user, wf, view)
    name_assignees(page.tickets)
    return {
        "view": view,
        "tabs": listing.tabs_for(user, wf),
        "counts": counts,
        "page": page,
        "candidates": _candidates(user),
        "since": counts["since"],
        "filter_choices": setup_names.filter_choices,
        "cap": listing.COUNT_CAP,
        "list_url": _list_url(view),
        "view_query": urlencode(view.args(after=None)),
        "filter_form": lambda: _filter_form(view),
    }


def _filter_form(view: listing.View):
    """The filter form, kept per language, role and view while the setup is the same."""
    user = current.user()
    key = (i18n.language(), user.is_staff, urlencode(view.args(after=None)))
    return pagecache.Pieces("tessera_filters").get(
        key,
        lambda: render_template(
            "tickets/_filters.html", view=view, candidates=_candidates(user),
            filter_choices=setup_names.filter_choices,
        ),
    )  # fmt: skip


# The characters url_for leaves as they are in a query string: the same URLs, built
# without routing (a list page links to itself some thirty times).
_QUERY_SAFE = "!$'()*,/:;?@"


def _list_url(view: listing.View):
    base = url_for(".index")

    def list_url(**changes) -> str:
        args = view.args(**changes)
        return f"{base}?{urlencode(args, safe=_QUERY_SAFE)}" if args else base

    return list_url


def _candidates(user: User) -> list[User]:
    return accounts.staff_choices() if user.is_staff else []


def _bulk_ids(wf) -> list[int]:
    if request.form.get("all") == "yes":
        args = dict(parse_qsl(request.form.get("view", "")))
        view = listing.View.from_args(args, current.user(), wf)
        return listing.matching_ids(current.user(), wf, view, BULK_CAP)
    ids = request.form.getlist("ids")
    if not ids:
        raise Invalid(_("Select at least one ticket."))
    if len(ids) > BULK_CAP or any(as_id(i) is None for i in ids):
        raise Invalid(_("Select between 1 and %(n)d tickets.", n=BULK_CAP))
    return [as_id(i) for i in ids]


def _bulk_action(action: str):
    if action == "take":
        return lambda t: services.take(actor=current.user(), ticket=t)
    if action == "state":
        state = request.form.get("state", "")
        return lambda t: services.change_state(actor=current.user(), ticket=t, state=state)
    if action == "assign":
        value = request.form.get("user", "")
        assignee = db.session.get(User, as_id(value)) if as_id(value) else None
        if value and assignee is None:
            raise Invalid(_("There is no such user."))
        return lambda t: services.assign(actor=current.user(), ticket=t, assignee=assignee)
    raise Invalid(_("Choose take, assign or state."))
