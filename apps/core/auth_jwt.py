"""JWT authentication without a user query (or a signature check) on every request.

simplejwt decodes the token and loads the user row for each request. API clients send many
requests a second with the same token, so this process keeps the validated token (until its
expiry, at most a minute) and the user row (API_JWT_USER_CACHE_SECONDS; 0 turns both off).
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

_MAX_ENTRIES = 10_000
_users: dict[str, tuple[float, Any]] = {}
# Raw access token -> (valid until, epoch seconds; the validated token). Validating is a pure
# function of the token, the key and the clock (access tokens have no blacklist), so a
# token checked once stays valid until its own expiry; kept at most a minute.
_tokens: dict[bytes, tuple[float, Token]] = {}
_TOKEN_KEEP_SECONDS = 60.0
_lock = threading.Lock()


def _ttl() -> float:
    return float(getattr(settings, "API_JWT_USER_CACHE_SECONDS", 5.0))


def jwt_user_cache_clear() -> None:
    with _lock:
        _users.clear()
        _tokens.clear()


def _forget(sender: Any, instance: Any, **kwargs: Any) -> None:
    with _lock:
        _users.pop(str(getattr(instance, jwt_settings.USER_ID_FIELD, None)), None)


post_save.connect(_forget, sender=settings.AUTH_USER_MODEL, dispatch_uid="api-jwt-user-cache-save")
post_delete.connect(_forget, sender=settings.AUTH_USER_MODEL, dispatch_uid="api-jwt-user-cache-delete")


class CachedUserJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        if _ttl() <= 0:
            return super().get_validated_token(raw_token)
        now = time.time()
        hit = _tokens.get(raw_token)
        if hit is not None and hit[0] > now:
            return hit[1]
        token = super().get_validated_token(raw_token)  # signature, expiry, type: or 401
        if token.get(jwt_settings.TOKEN_TYPE_CLAIM) == "access" and isinstance(token.get("exp"), int | float):
            with _lock:
                if len(_tokens) >= _MAX_ENTRIES:
                    _tokens.clear()
                _tokens[raw_token] = (min(float(token["exp"]), now + _TOKEN_KEEP_SECONDS), token)
        return token

    def get_user(self, validated_token: Token) -> Any:
        ttl = _ttl()
        # The revoke claim is checked against the password hash of the moment: never cached.
        if ttl <= 0 or jwt_settings.CHECK_REVOKE_TOKEN:
            return super().get_user(validated_token)
        user_id = str(validated_token.get(jwt_settings.USER_ID_CLAIM))  # tokens hold it as text
        now = time.monotonic()
        hit = _users.get(user_id)
        if hit is not None and hit[0] > now:
            # A copy per request: views and middleware may set attributes on request.user.
            return copy.copy(hit[1])
        user = super().get_user(validated_token)  # the query and the is_active check
        with _lock:
            if len(_users) >= _MAX_ENTRIES:
                _users.clear()
            _users[user_id] = (now + ttl, user)
        return copy.copy(user)
