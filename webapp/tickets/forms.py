"""Ticket forms. Choices come from the database and the workflow, so a form offers
nothing the services would refuse."""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from flask_wtf.file import MultipleFileField
from sqlalchemy.orm import make_transient_to_detached
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from .. import current, stamps
from ..exceptions import Invalid
from ..extensions import db
from ..forms import Form
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import Priority, Rating, ReportingType, Site, SiteState, TicketType, User
from ..routing import as_id
from ..visibility import subscribed_site_ids

EMPTY = ("", "—")
T = TypeVar("T")


class TicketForm(Form):
    summary = StringField(_l("Summary"), validators=[DataRequired(), Length(max=250)])
    description = TextAreaField(
        _l("Description"),
        validators=[DataRequired(), Length(max=100_000)],
        description=_l("What did you do, what happened, what did you expect? Markdown works."),
    )
    site = SelectField(_l("Site"), validators=[Optional()])
    ticket_type = SelectField(_l("Type"), validators=[Optional()])
    priority = SelectField(_l("Priority"), default=str(int(Priority.NORMAL)))
    private = BooleanField(
        _l("Private"), description=_l("Only you, the person working on it and staff will see it.")
    )
    end_user_name = StringField(
        _l("On behalf of"), validators=[Optional(), Length(max=200)],
        description=_l("Someone without an account who reported this, by phone for example."),
    )  # fmt: skip
    end_user_email = EmailField(
        _l("Their e-mail"),
        validators=[Optional(), Length(max=254), Email(check_deliverability=False)],
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        staff = user.is_staff
        self._sites, self._types = _offered()
        if not staff:  # owners report on the sites they follow
            followed = subscribed_site_ids(user)
            self._sites = {i: s for i, s in self._sites.items() if s.id in followed}
        self.site.choices = [EMPTY] + [(i, s.name) for i, s in self._sites.items()]
        self.ticket_type.choices = [EMPTY] + [(i, t.name) for i, t in self._types.items()]
        self.priority.choices = [(str(int(p)), p.label) for p in Priority]
        if not staff:
            del self.end_user_name
            del self.end_user_email

    def values(self) -> dict:
        """The form's data as the services take it."""
        values = {
            "summary": self.summary.data,
            "description": self.description.data,
            "site": _chosen(self._sites, Site, self.site.data),
            "ticket_type": _chosen(self._types, TicketType, self.ticket_type.data),
            "priority": int(self.priority.data),
            "private": self.private.data,
        }
        if "end_user_name" in self:
            values["end_user_name"] = self.end_user_name.data or ""
            values["end_user_email"] = self.end_user_email.data or ""
        return values


def _offered() -> tuple[dict[str, Site], dict[str, TicketType]]:
    """The exposed sites and the active types, by id and in name order, kept by the
    process until setup changes (stamps.keep): detached objects, see ``_chosen``."""
    return stamps.keep("ticket_form_choices", _read_offered)


def _read_offered() -> tuple[dict[str, Site], dict[str, TicketType]]:
    exposed = [s.value for s in SiteState if s.exposed]
    sites = sa.select(Site.__table__).where(Site.state.in_(exposed)).order_by(Site.name)
    types = sa.select(TicketType.__table__).where(TicketType.active).order_by(TicketType.name)
    return _detached(Site, sites), _detached(TicketType, types)


def _detached(model: type[T], query: sa.Select) -> dict[str, T]:
    """The rows as objects of no session (read as plain rows, so none of this session's
    own objects is taken away from it)."""
    kept = {}
    for row in db.session.execute(query).mappings():
        kept[str(row["id"])] = obj = model(**row)
        make_transient_to_detached(obj)
    return kept


def _chosen(kept: dict, model: type, value: str | None):
    """The object chosen: one of the choices kept for the form, put into this session as it
    is (merged, not read), or (an edited ticket's own site, which stays choosable) read now."""
    if not value:
        return None
    if value in kept:
        return db.session.merge(kept[value], load=False)
    return db.session.get(model, int(value))


class EditForm(TicketForm):
    version = HiddenField(validators=[
        InputRequired(), Length(max=9), Regexp(r"^[0-9]+$", message=_l("Not a version number.")),
    ])  # fmt: skip
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    waiting_for = StringField(_l("Waiting for"), validators=[Optional(), Length(max=200)],
        description=_l("What has to happen next, in one line."),
    )  # fmt: skip
    upgrade_notes = TextAreaField(_l("Resolution"), validators=[Optional(), Length(max=100_000)])
    ref = StringField(_l("Reference"), validators=[Optional(), Length(max=200)])
    reporting_type = SelectField(_l("Reporting type"), validators=[Optional()])

    STAFF_ONLY = ("deadline", "waiting_for", "upgrade_notes", "ref", "reporting_type")

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.reporting_type.choices = [EMPTY] + [(r.value, r.label) for r in ReportingType]
        # The ticket's own site stays choosable, followed or not.
        current = getattr(kwargs.get("obj"), "site_name", None)
        if current and current not in self.site.choices:
            self.site.choices.append(current)
        if not user.is_staff:
            for name in self.STAFF_ONLY:
                delattr(self, name)

    def values(self) -> dict:
        values = super().values()
        if "deadline" in self:
            values.update(
                deadline=self.deadline.data,
                waiting_for=self.waiting_for.data or "",
                upgrade_notes=self.upgrade_notes.data or "",
                ref=self.ref.data or "",
                reporting_type=self.reporting_type.data or None,
            )
        return values


class CommentForm(Form):
    body = TextAreaField(
        _l("Comment"),
        validators=[DataRequired(message=_l("Write something.")), Length(max=100_000)],
    )


def _files_hint() -> str:
    config = current.config()
    return _(
        "Several at once, up to %(file)s MB each and %(ticket)s MB per ticket; "
        "you can also drop them here.",
        file=config["MAX_UPLOAD_MB"], ticket=config["MAX_TICKET_UPLOADS_MB"],
    )  # fmt: skip


class AttachForm(Form):
    file = MultipleFileField(_l("Files"), id="attach-file")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.file.description = _files_hint()


class NewCommentForm(CommentForm):
    """A comment with files, if any: posted together, saved together."""

    file = MultipleFileField(_l("Attach files"), id="comment-file")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.file.description = _files_hint()


class StateForm(Form):
    state = StringField(_l("State"), validators=[DataRequired(), Length(max=50)])


class RatingForm(Form):
    rating = RadioField(
        _l("Rating"),
        choices=[SelectChoice(int(r), r.label) for r in Rating],
        coerce=int,
        validators=[InputRequired(message=_l("Choose one of the ratings."))],
    )

    def validate(self, extra_validators=None) -> bool:
        """One clear message for any value that is not a rating (WTForms has two)."""
        valid = super().validate(extra_validators)
        if self.rating.errors:
            names = ", ".join(r.label.lower() for r in Rating)
            self.rating.errors = [_("Choose one of the ratings: %(names)s.", names=names)]
        return valid


class AssignForm(Form):
    user = IntegerField(_l("Assign to"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])


class DuplicateForm(Form):
    original = StringField(_l("Duplicate of"), validators=[Optional(), Length(max=12)],
        description=_l("The number of the earlier ticket, like 12 or #12; empty: not a duplicate."),
    )  # fmt: skip

    def number(self) -> int | None:
        """The ticket number given, or None; an error on the field if it is not one."""
        text = (self.original.data or "").strip().lstrip("#")
        if not text:
            return None
        if as_id(text) is None:
            number = _("Give a ticket number.")
            raise Invalid(number, fields={"original": number})
        return as_id(text)


class ChildForm(Form):
    summary = StringField(_l("Summary"), validators=[DataRequired(), Length(max=250)])
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=100_000)])
