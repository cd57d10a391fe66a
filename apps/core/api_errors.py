"""One error shape for the whole API: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.core.dependency_errors import RETRY_AFTER_SECONDS, dependency_message, failed_dependency
from apps.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)


def error_body(*, code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": _readable(message), "fields": fields or {}}}


def _readable(message: str) -> str:
    """A message may quote what the client sent (an unknown field's name): control characters
    (NUL...) become U+FFFD, so the message stays the printable text the schema documents."""
    text = "".join("\ufffd" if unicodedata.category(ch) == "Cc" else ch for ch in message)
    return text if text.strip() else "Invalid input."


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _validation_message(fields: Any) -> str:
    if isinstance(fields, dict) and fields:
        name, messages = next(iter(fields.items()))
        first = messages[0] if isinstance(messages, list) and messages else messages
        if name == "non_field_errors":
            return str(first)
        return f"{name}: {first}"
    if isinstance(fields, list) and fields:
        return str(fields[0])
    return "Invalid input."


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        body = error_body(code=exc.code, message=exc.message, fields=exc.fields)
        return Response(body, status=exc.status, headers=headers)
    dependency = failed_dependency(exc)
    if dependency is not None:
        logger.warning("%s unavailable: %s: %s", dependency, type(exc).__name__, exc)
        body = error_body(code="dependency_unavailable", message=dependency_message(dependency))
        body["error"]["dependency"] = dependency
        return Response(body, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        response.data = error_body(code="invalid", message=_validation_message(fields), fields=fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.APIException):
        code, message = _code_and_message(exc)
        response.data = error_body(code=code, message=message)
    return response


def _code_and_message(exc: exceptions.APIException) -> tuple[str, str]:
    # simplejwt's InvalidToken carries a dict detail: {"detail", "code", "messages"}.
    if isinstance(exc.detail, dict):
        return str(exc.detail.get("code", "error")), str(exc.detail.get("detail", exc.default_detail))
    codes = exc.get_codes()
    return (codes if isinstance(codes, str) else "error"), str(exc.detail)
