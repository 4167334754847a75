from __future__ import annotations

from zoneinfo import available_timezones

from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional

from .. import i18n
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..models import MailMode


class LoginForm(Form):
    username = StringField(_l("Username or e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Keep me signed in"))


class RegisterForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=40)])
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )
    display_name = StringField(_l("Your name"), validators=[Optional(), Length(max=100)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=8, max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Password again"),
        render_kw={"autocomplete": "new-password"},
        validators=[
            DataRequired(),
            Length(max=1024),
            EqualTo("password", message=_l("The passwords differ.")),
        ],
    )


class ChangePasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=1024)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            Length(max=1024),
            EqualTo("new", message=_l("The passwords differ.")),
        ],
    )


class SettingsForm(Form):
    display_name = StringField(_l("Your name"), validators=[Optional(), Length(max=100)],
        description=_l("Shown to others instead of your username."),
    )  # fmt: skip
    language = SelectField(
        _l("Language"), validators=[InputRequired()],
        choices=[SelectChoice(code, name) for code, name in i18n.LANGUAGES.items()],
    )  # fmt: skip
    timezone = SelectField(_l("Timezone"), validators=[InputRequired()],
        description=_l("Times are shown, and mailed, in this zone."),
    )  # fmt: skip
    mail_mode = RadioField(
        _l("E-mail about notifications"),
        choices=[SelectChoice(m.value, m.label) for m in MailMode],
        validators=[InputRequired()],
        description=_l("Every notification is also under the bell, whatever you choose here."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = sorted(available_timezones() | {"UTC"})


class TokenForm(Form):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, such as the script that uses it."),
    )  # fmt: skip
