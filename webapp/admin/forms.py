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
    language = SelectField("Language", choices=LANGUAGES)
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=1024)])


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
    state = SelectField("State", choices=[(s.value, s.label) for s in SiteState], default="active")


class TypeForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    reporting_type = SelectField(
        "Reporting type", choices=[("", "—")] + [(r.value, r.label) for r in ReportingType]
    )
    active = BooleanField("Active", default=True)


class MemberForm(Form):
    user = StringField("Username or e-mail", validators=[DataRequired(), Length(max=254)])
