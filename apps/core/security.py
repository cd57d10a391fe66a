"""Security headers the stock middleware does not set: CSP and Permissions-Policy."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def csp_header_value(policy: dict[str, list[str]]) -> str:
    return "; ".join(f"{directive} {' '.join(sources)}" for directive, sources in policy.items())


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy, Permissions-Policy and Cross-Origin-Opener-Policy.

    X-Frame-Options, X-Content-Type-Options, Referrer-Policy and HSTS come from Django's
    own SecurityMiddleware/XFrameOptionsMiddleware and the settings."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.csp = csp_header_value(settings.SECURITY_CSP)
        self.permissions_policy = settings.SECURITY_PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
