"""The base form every Tessera form derives from."""

from __future__ import annotations

from flask_wtf import FlaskForm


class Form(FlaskForm):
    """A Flask-WTF form (so CSRF-checked) that also refuses NUL characters in any field:
    PostgreSQL cannot store them and no person types them."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and "\x00" in field.data:
                field.errors = [*field.errors, "This field contains a NUL character."]
                valid = False
        return valid

    def apply_errors(self, fields: dict[str, str]) -> None:
        """Show a service's field errors beside the fields they belong to."""
        for name, message in fields.items():
            if name in self:
                self[name].errors = [*self[name].errors, message]
