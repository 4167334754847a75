from __future__ import annotations

from zoneinfo import available_timezones

from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional

from ..forms import Form
from ..models import MailMode


class LoginForm(Form):
    username = StringField("Username or e-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in")


class RegisterForm(Form):
    username = StringField("Username", validators=[DataRequired(), Length(min=2, max=40)])
    email = EmailField(
        "E-mail", validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)]
    )
    display_name = StringField("Your name", validators=[Optional(), Length(max=100)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=8, max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Password again",
        render_kw={"autocomplete": "new-password"},
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )


class ChangePasswordForm(Form):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=1024)])
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", message="The passwords differ.")],
    )


class SettingsForm(Form):
    display_name = StringField(
        "Your name", validators=[Optional(), Length(max=100)],
        description="Shown to others instead of your username.",
    )  # fmt: skip
    timezone = SelectField(
        "Timezone", validators=[InputRequired()],
        description="Times are shown, and mailed, in this zone.",
    )  # fmt: skip
    mail_mode = RadioField(
        "E-mail about notifications",
        choices=[SelectChoice(m.value, m.label) for m in MailMode],
        validators=[InputRequired()],
        description="Every notification is also under the bell, whatever you choose here.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = sorted(available_timezones() | {"UTC"})
