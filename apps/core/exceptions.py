"""Errors shared across apps. API and page layers turn them into clear responses."""

from __future__ import annotations


class ApplicationError(Exception):
    """A business rule refused the request. ``code`` is machine-readable, ``fields`` maps
    input names to messages, ``status`` is the HTTP status the API returns."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class RuleError(ApplicationError):
    """The input matches the API schema but breaks a rule the schema cannot state (between
    fields, or against market data): 422, so a 400 always means "not what the schema says"."""

    status = 422


class ConflictError(ApplicationError):
    status = 409
    code = "conflict"


class NotFoundError(ApplicationError):
    status = 404
    code = "not_found"
