"""Request context (request id, user id, client IP) for every log record, and the middleware that sets it."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core.client_ip import client_ip

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
user_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="-")
# By the trusted-proxy rule (apps/core/client_ip.py), the same address lockout and audit use.
client_ip_var: contextvars.ContextVar[str] = contextvars.ContextVar("client_ip", default="-")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.user_id = user_id_var.get()
        record.client_ip = client_ip_var.get()
        return True


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy when well-formed, else makes one; echoes it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        user = getattr(request, "user", None)
        user_token = user_id_var.set(str(user.pk) if user is not None and user.is_authenticated else "-")
        ip_token = client_ip_var.set(client_ip(request) or "-")
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            user_id_var.reset(user_token)
            client_ip_var.reset(ip_token)
        response["X-Request-ID"] = request_id
        return response
