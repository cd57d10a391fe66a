"""WebSocket authentication, per-user connection limits, heartbeats and error frames.

A connection is authenticated by the session cookie (AuthMiddlewareStack in config/asgi.py)
or by a first frame {"type": "auth", "token": "<JWT access token>"}: never by a token in
the URL, which would end up in access logs. Until then only "auth" and "ping" are
accepted, and the socket closes after WS_AUTH_TIMEOUT_SECONDS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.cache import cache

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_MANY = 4429


def error_frame(*, code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"code": code, "message": message}}


@database_sync_to_async
def user_from_jwt(token: str) -> Any:
    """The active user of a valid access token, else None."""
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

    authenticator = JWTAuthentication()
    try:
        return authenticator.get_user(authenticator.get_validated_token(token.encode()))
    except (InvalidToken, TokenError, AuthenticationFailed):
        return None


def _connections_key(user_id: int) -> str:
    return f"ws:connections:{user_id}"


class AuthenticatedJsonConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses implement ``on_authenticated()`` and ``handle_message(content)``."""

    user: Any = None
    _counted = False
    _tasks: list[asyncio.Task]

    async def connect(self) -> None:
        self._tasks = []
        await self.accept()
        scope_user = self.scope.get("user")
        if scope_user is not None and scope_user.is_authenticated:
            await self._authenticate(scope_user)
        else:
            self._tasks.append(asyncio.create_task(self._auth_deadline()))

    async def disconnect(self, code: int) -> None:
        for task in self._tasks:
            task.cancel()
        if self._counted:
            self._counted = False
            with contextlib.suppress(ValueError):
                await cache.adecr(_connections_key(self.user.pk))
        await self.on_disconnected()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = json.loads(text_data or (bytes_data or b"").decode())
        except (ValueError, UnicodeDecodeError):
            await self.send_error(code="bad_json", message="Frames must be JSON objects.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error(code="bad_frame", message='Frames must be objects with a "type".')
            return
        kind = content["type"]
        if kind == "ping":
            await self.send_json({"type": "pong", "id": content.get("id"), "ts": int(time.time() * 1000)})
        elif kind == "pong":
            return
        elif kind == "auth":
            await self._auth_frame(content)
        elif self.user is None:
            await self.send_error(code="not_authenticated", message='Send {"type": "auth", "token": ...} first.')
        else:
            await self.handle_message(content)

    async def send_error(self, *, code: str, message: str) -> None:
        await self.send_json(error_frame(code=code, message=message))

    # Subclass hooks
    async def on_authenticated(self) -> None:
        return None

    async def on_disconnected(self) -> None:
        return None

    async def handle_message(self, content: dict[str, Any]) -> None:
        await self.send_error(code="unknown_type", message=f"Unknown message type {content['type']!r}.")

    # Internals
    async def _auth_frame(self, content: dict[str, Any]) -> None:
        if self.user is not None:
            await self.send_error(code="already_authenticated", message="This connection is already authenticated.")
            return
        token = content.get("token")
        user = await user_from_jwt(token) if isinstance(token, str) and token else None
        if user is None:
            await self.send_error(code="invalid_token", message="Token is invalid or expired.")
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self._authenticate(user)

    async def _authenticate(self, user: Any) -> None:
        if not await self._count_connection(user.pk):
            await self.send_error(
                code="too_many_connections",
                message=f"At most {settings.WS_MAX_CONNECTIONS_PER_USER} simultaneous connections per user.",
            )
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.user = user
        for task in self._tasks:
            task.cancel()
        self._tasks = [asyncio.create_task(self._heartbeat())]
        await self.send_json({"type": "authenticated", "user": user.get_username()})
        await self.on_authenticated()

    async def _count_connection(self, user_id: int) -> bool:
        key = _connections_key(user_id)
        ttl = settings.WS_HEARTBEAT_SECONDS * 3
        await cache.aadd(key, 0, timeout=ttl)
        try:
            count = await cache.aincr(key)
        except ValueError:  # expired between add and incr
            await cache.aset(key, 1, timeout=ttl)
            count = 1
        if count > settings.WS_MAX_CONNECTIONS_PER_USER:
            with contextlib.suppress(ValueError):
                await cache.adecr(key)
            return False
        self._counted = True
        return True

    async def _auth_deadline(self) -> None:
        await asyncio.sleep(settings.WS_AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            await self.send_error(code="auth_timeout", message="No authentication received in time.")
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _heartbeat(self) -> None:
        # The counter's TTL is refreshed by live connections only, so a crashed process's
        # connections stop counting after a few periods.
        period = settings.WS_HEARTBEAT_SECONDS
        while True:
            await asyncio.sleep(period)
            await cache.atouch(_connections_key(self.user.pk), timeout=period * 3)
            await self.send_json({"type": "ping", "ts": int(time.time() * 1000)})
