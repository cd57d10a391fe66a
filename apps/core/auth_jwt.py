"""JWT authentication without a user query on every request.

simplejwt loads the user row for each request. API clients send many requests a second with
the same token, so the row is kept in this process for a few seconds (API_JWT_USER_CACHE_SECONDS).
Saving or deleting a user forgets it at once in this process; other processes see a
deactivation within that many seconds (an access token is valid for minutes anyway)."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

_MAX_USERS = 10_000
_users: dict[Any, tuple[float, Any]] = {}
_lock = threading.Lock()


def _ttl() -> float:
    return float(getattr(settings, "API_JWT_USER_CACHE_SECONDS", 5.0))


def jwt_user_cache_clear() -> None:
    with _lock:
        _users.clear()


def _forget(sender: Any, instance: Any, **kwargs: Any) -> None:
    with _lock:
        _users.pop(getattr(instance, jwt_settings.USER_ID_FIELD, None), None)


post_save.connect(_forget, sender=settings.AUTH_USER_MODEL, dispatch_uid="api-jwt-user-cache-save")
post_delete.connect(_forget, sender=settings.AUTH_USER_MODEL, dispatch_uid="api-jwt-user-cache-delete")


class CachedUserJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> Any:
        ttl = _ttl()
        # The revoke claim is checked against the password hash of the moment: never cached.
        if ttl <= 0 or jwt_settings.CHECK_REVOKE_TOKEN:
            return super().get_user(validated_token)
        user_id = validated_token.get(jwt_settings.USER_ID_CLAIM)
        now = time.monotonic()
        hit = _users.get(user_id)
        if hit is not None and hit[0] > now:
            # A copy per request: views and middleware may set attributes on request.user.
            return copy.copy(hit[1])
        user = super().get_user(validated_token)  # the query and the is_active check
        with _lock:
            if len(_users) >= _MAX_USERS:
                _users.clear()
            _users[user_id] = (now + ttl, user)
        return copy.copy(user)
