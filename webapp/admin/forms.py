from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .. import i18n
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..models import ReportingType, SiteState, WebhookEvent

LANGUAGES = list(i18n.LANGUAGES.items())


class UserForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=40)])
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    language = SelectField(_l("Language"))
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=1024)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = LANGUAGES


class EditUserForm(UserForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.username
        del self.password


class PasswordForm(Form):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=8, max=1024)]
    )


class SiteForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    state = SelectField(_l("State"), default="active")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = [(s.value, s.label) for s in SiteState]


class TypeForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    reporting_type = SelectField(_l("Reporting type"))
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reporting_type.choices = [("", "—")] + [(r.value, r.label) for r in ReportingType]


class MemberForm(Form):
    user = StringField(_l("Username or e-mail"), validators=[DataRequired(), Length(max=254)])


class WebhookForm(Form):
    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=2000)])
    site = SelectField(_l("Site"), default="")
    events = SelectMultipleField(
        _l("Events"),
        default=[e.value for e in WebhookEvent],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def __init__(self, *args, sites=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.site.choices = [("", _l("All sites"))] + [(str(s.id), s.name) for s in sites]
        self.events.choices = [(e.value, e.label) for e in WebhookEvent]
