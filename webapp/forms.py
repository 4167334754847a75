"""The base form every Tessera form derives from."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from babel import support
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms.i18n import messages_path

from . import csrf_tokens, i18n
from .exceptions import Invalid
from .i18n import gettext as _

T = TypeVar("T")


# The most characters any field takes; each text field declares its own, smaller limit
# (tests/test_bad_input.py checks that every one does).
FIELD_LIMIT = 100_000


class _CSRF(_FlaskFormCSRF):
    def generate_csrf_token(self, csrf_token_field) -> str:
        """The session's signed token, found as csrf_tokens keeps it: Flask-WTF's own way
        reads the settings and ``g`` through Flask's proxies (see current.py), five look-ups
        for each form made."""
        return csrf_tokens.token()


class Form(FlaskForm):
    """A Flask-WTF form (so CSRF-checked) that also refuses NUL characters in any field
    (PostgreSQL cannot store them and no person types them) and any value longer than
    FIELD_LIMIT, whatever the field."""

    class Meta:
        csrf_class = _CSRF

        def get_translations(self, form):
            return _REQUEST_LANGUAGE

        def render_field(self, field, render_kw):
            """Fields as WTForms writes them, but the CSRF input without an id: every
            form's is "csrf_token", and a page with two forms had the id twice."""
            if field.type == "CSRFTokenField":
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            values = field.data if isinstance(field.data, list) else [field.data]
            texts = [v for v in values if isinstance(v, str)]
            if any("\x00" in v for v in texts):
                field.errors = [*field.errors, _("This field contains a NUL character.")]
                valid = False
            elif any(len(v) > FIELD_LIMIT for v in texts):
                message = _("Field cannot be longer than %(max)d characters.", max=FIELD_LIMIT)
                field.errors = [*field.errors, message]
                valid = False
        return valid

    def apply_errors(self, fields: dict[str, str]) -> None:
        """Show a service's field errors beside the fields they belong to."""
        for name, message in fields.items():
            if name in self:
                self[name].errors = [*self[name].errors, message]

    def submit(self, action: Callable[[], T]) -> T | None:
        """Validate a posted form and run ``action`` (a service call) on it; returns what
        it returned. Afterwards ``done`` says whether it ran, and ``status`` is the page's
        status: 422 when the input or the service refused (messages on the fields)."""
        self.done, self.status = False, 200
        if not self.validate_on_submit():
            self.status = 422 if self.is_submitted() else 200
            return None
        try:
            result = action()
        except Invalid as e:
            self.apply_errors(e.fields)
            self.status = 422
            return None
        self.done = True
        return result


class _RequestLanguage:
    """WTForms' messages in the request's language, found when a message is made: most
    forms are valid and make none, and finding the language first costs more than the
    rest of making a small form."""

    def gettext(self, string: str) -> str:
        return _wtforms_translations(str(i18n.locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_translations(str(i18n.locale())).ungettext(singular, plural, n)


_REQUEST_LANGUAGE = _RequestLanguage()


@functools.cache
def _wtforms_translations(locale: str) -> support.Translations:
    """WTForms' own messages in a language, read once per process (Flask-WTF would read
    the catalogue from disk again on every request that needs one)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")
