"""Domain errors raised by the services; the web layer maps each to its HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """A refused action, with a message a person understands."""

    status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    """Input that breaks a rule; ``fields`` maps a form field to its message."""

    status = 422


class StaleEdit(Conflict):
    """An edit made on an old version clashes with changes made since; ``changes`` are
    those changes, so the person can see what happened meanwhile."""

    def __init__(self, message: str, *, changes: list, fields: dict[str, str] | None = None):
        super().__init__(message, fields=fields)
        self.changes = changes
