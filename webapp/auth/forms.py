from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..forms import Form


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
