"""Authentication backend that refuses locked (username, IP) pairs and counts failures.

Every login path (page, admin, JWT obtain) goes through django.contrib.auth.authenticate,
so enforcing the lockout here means no path can skip it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from apps.core.lockout import lockout_ip, lockout_register_failure, lockout_reset, lockout_seconds_left


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None:
            from django.contrib.auth import get_user_model

            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip = lockout_ip(request)
        if lockout_seconds_left(username=username, ip=ip):
            # PermissionDenied stops authenticate() trying any other backend.
            raise PermissionDenied("login locked")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lockout_register_failure(username=username, ip=ip)
        else:
            lockout_reset(username=username, ip=ip)
        return user
