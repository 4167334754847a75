from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..forms import Form
from ..models import ReportingType, SiteState

LANGUAGES = [("en", "English"), ("de", "Deutsch")]


class UserForm(Form):
    username = StringField("Username", validators=[DataRequired(), Length(min=2, max=40)])
    email = EmailField(
        "E-mail", validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)]
    )
    display_name = StringField("Name", validators=[Optional(), Length(max=100)])
    language = SelectField("Language")
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=1024)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = LANGUAGES


class EditUserForm(UserForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.username
        del self.password


class PasswordForm(Form):
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=1024)])


class SiteForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    state = SelectField("State", default="active")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = [(s.value, s.label) for s in SiteState]


class TypeForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    reporting_type = SelectField("Reporting type")
    active = BooleanField("Active", default=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reporting_type.choices = [("", "—")] + [(r.value, r.label) for r in ReportingType]


class MemberForm(Form):
    user = StringField("Username or e-mail", validators=[DataRequired(), Length(max=254)])
