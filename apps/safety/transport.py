"""Transport guard: the HTTP and WebSocket sessions of the exchange clients refuse every
request that is not market data or a permission/fee look-up, before it leaves the process.

This layer does not trust the factory: code that reaches the raw aiohttp or requests session
and sends a trading request through it is stopped here (rules in apps.safety.rules). Code that
replaces these per-session guards is stopped by apps.safety.process_guard; the routes that
stay open in-process are listed in docs/SECURITY.md.
"""

from __future__ import annotations

import asyncio
import json
import re
import warnings
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import aiohttp
import requests
from requests.adapters import HTTPAdapter

from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.rules import (
    BINANCE,
    KUCOIN,
    binance_ws_refusal,
    kucoin_topic_refusal,
    kucoin_ws_connect_refusal,
    kucoin_ws_message_refusal,
    request_refusal,
)
from apps.safety.violations import LAYER_TRANSPORT, violation_refuse

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # kucoin-python imports the deprecated pkg_resources
    from kucoin.websocket.websocket import ConnectWebsocket
    from kucoin.ws_client import KucoinWsClient

_SECRET_QUERY_RE = re.compile(r"(signature|apiKey|api_key|passphrase)=[^&]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL without signatures or keys, for audit records and messages."""
    return _SECRET_QUERY_RE.sub(lambda m: f"{m.group(1)}=***", url)


def transport_refuse(*, exchange: str, method: str, url: str, reason: str) -> RealTradingAttemptError:
    return violation_refuse(
        layer=LAYER_TRANSPORT,
        message=reason,
        detail={"exchange": exchange, "method": method.upper(), "url": redact_url(url)},
        audit={"exchange": exchange, "action": "transport_refused", "actor_label": "exchange-client"},
    )


def transport_check(
    *, exchange: str, method: str, url: str, headers: Mapping[str, str | bytes] | None = None, body: str = ""
) -> None:
    """Raise RealTradingAttemptError (recorded) unless the request may leave the process.
    ``headers`` values may be bytes: requests allows them in a prepared request."""
    reason = request_refusal(exchange=exchange, method=method, url=url, body=body, headers=headers)
    if reason is not None:
        raise transport_refuse(exchange=exchange, method=method, url=url, reason=reason)


def websocket_check(*, exchange: str, url: str, allowed_base: str) -> None:
    reason = binance_ws_refusal(url=url, allowed_base=allowed_base) if exchange == BINANCE else None
    if exchange != BINANCE and not url.startswith(allowed_base):
        reason = f"{exchange} websocket {url} is not under the exchange's public token endpoint"
    if reason is not None:
        raise transport_refuse(exchange=exchange, method="WS", url=url, reason=reason)


# aiohttp (python-binance AsyncClient) ------------------------------------------------------


def aiohttp_guard_middleware(exchange: str) -> Any:
    """A client middleware: sees the final request of every call through the session."""

    async def guard(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
        transport_check(exchange=exchange, method=request.method, url=str(request.url), headers=request.headers)
        return await handler(request)

    return guard


def aiohttp_guard_trace(exchange: str) -> aiohttp.TraceConfig:
    """A trace hook: fires before connecting, and a per-request ``middlewares=()`` cannot
    switch it off, so the guard holds even if the middleware is bypassed."""

    async def on_request_start(session: Any, ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams) -> None:
        transport_check(exchange=exchange, method=params.method, url=str(params.url), headers=params.headers)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    trace.freeze()
    return trace


def aiohttp_guarded_session_kwargs(exchange: str) -> dict[str, Any]:
    return {"middlewares": (aiohttp_guard_middleware(exchange),), "trace_configs": [aiohttp_guard_trace(exchange)]}


# requests (kucoin-python) ------------------------------------------------------------------


def _prepared_body(request: requests.PreparedRequest) -> str:
    body = request.body
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body if isinstance(body, str) else ""


class GuardedHTTPAdapter(HTTPAdapter):
    """Mounted on the guarded session, so even ``session.get_adapter(url).send(...)`` is checked."""

    def __init__(self, exchange: str, **kwargs: Any) -> None:
        self.exchange = exchange
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        transport_check(
            exchange=self.exchange,
            method=request.method or "GET",
            url=request.url or "",
            headers=request.headers,
            body=_prepared_body(request),
        )
        return super().send(request, *args, **kwargs)


class GuardedSession(requests.Session):
    """A requests session that checks every prepared request and refuses to be re-mounted."""

    def __init__(self, exchange: str) -> None:
        self.exchange = exchange
        self._sealed = False  # requests.Session.__init__ mounts plain adapters first
        super().__init__()
        self.adapters.clear()
        super().mount("https://", GuardedHTTPAdapter(exchange))
        super().mount("http://", GuardedHTTPAdapter(exchange))
        self._sealed = True

    def mount(self, prefix: str, adapter: Any) -> None:
        if self._sealed and not isinstance(adapter, GuardedHTTPAdapter):
            raise transport_refuse(
                exchange=self.exchange, method="MOUNT", url=prefix, reason="replacing the guarded transport adapter"
            )
        super().mount(prefix, adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        transport_check(
            exchange=self.exchange,
            method=request.method or "GET",
            url=request.url or "",
            headers=request.headers,
            body=_prepared_body(request),
        )
        return super().send(request, **kwargs)


def kucoin_guarded_session() -> GuardedSession:
    return GuardedSession(KUCOIN)


# KuCoin WebSocket (kucoin-python KucoinWsClient) -------------------------------------------
# kucoin-python opens the socket in a background task with a token from bullet-public or
# bullet-private and sends subscriptions as JSON text. The guard sits on each step: no
# private connection object is built, the token source only hands out public tokens, the
# endpoint is checked before connecting, and every frame is checked before it is sent.


def kucoin_ws_send_check(*, payload: Any) -> None:
    """Raise RealTradingAttemptError (recorded) unless the frame may go out on the socket."""
    try:
        message = json.loads(payload) if isinstance(payload, str | bytes) else None
    except ValueError:
        message = None
    reason: str | None
    if not isinstance(message, dict):
        reason = "kucoin websocket frame is not a JSON object"
    else:
        reason = kucoin_ws_message_refusal(message)
    if reason is not None:
        topic = message.get("topic", "") if isinstance(message, dict) else ""
        raise transport_refuse(exchange=KUCOIN, method="WS", url=str(topic)[:200], reason=reason)


def kucoin_ws_connect_check(*, url: str, private: bool) -> None:
    reason = kucoin_ws_connect_refusal(url=url, private=private)
    if reason is not None:
        raise transport_refuse(exchange=KUCOIN, method="WS", url=url.partition("?")[0], reason=reason)


def kucoin_ws_private_check(private: Any) -> None:
    """A private KuCoin socket (bullet-private token) is refused before anything is built."""
    if private:
        kucoin_ws_connect_check(url="bullet-private", private=True)


class GuardedKucoinSocket:
    """Wraps the websockets connection: every ``send`` is checked first."""

    __slots__ = ("_ptp_socket",)

    def __init__(self, socket: Any) -> None:
        object.__setattr__(self, "_ptp_socket", socket)

    async def send(self, message: Any, *args: Any, **kwargs: Any) -> None:
        kucoin_ws_send_check(payload=message)
        await object.__getattribute__(self, "_ptp_socket").send(message, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_ptp_socket"), name)


class _PublicTokenSource:
    """What the connection asks for tokens: public ones only (bullet-private is refused here
    and, independently, by the HTTP transport guard)."""

    __slots__ = ("_ptp_client",)

    def __init__(self, client: Any) -> None:
        self._ptp_client = client

    def get_ws_token(self, is_private: bool = False) -> Any:
        kucoin_ws_private_check(is_private)
        return self._ptp_client.get_ws_token(False)


class GuardedConnectWebsocket(ConnectWebsocket):
    """kucoin-python's connection, public only. The library sets ``_private``, ``_client``
    and ``_socket`` as plain attributes; here they are guarded properties."""

    @property
    def _private(self) -> bool:
        return False

    @_private.setter
    def _private(self, value: Any) -> None:
        kucoin_ws_private_check(value)

    @property
    def _client(self) -> Any:
        return self._ptp_client

    @_client.setter
    def _client(self, client: Any) -> None:
        self._ptp_client = client if isinstance(client, _PublicTokenSource) else _PublicTokenSource(client)

    @property
    def _socket(self) -> Any:
        return self._ptp_socket

    @_socket.setter
    def _socket(self, socket: Any) -> None:
        if socket is not None and not isinstance(socket, GuardedKucoinSocket):
            socket = GuardedKucoinSocket(socket)
        self._ptp_socket = socket

    def get_ws_endpoint(self) -> str:
        url = super().get_ws_endpoint()
        kucoin_ws_connect_check(url=url, private=False)
        return url


class GuardedKucoinWsClient(KucoinWsClient):
    """KucoinWsClient on a GuardedConnectWebsocket; private topics are refused at subscribe."""

    @classmethod
    async def create(  # type: ignore[override]
        cls, loop: Any, client: Any, callback: Any, private: bool = False, sock: Any = None
    ) -> GuardedKucoinWsClient:
        kucoin_ws_private_check(private)
        self = cls()
        self._loop = loop or asyncio.get_running_loop()
        self._client = _PublicTokenSource(client)
        self._private = False
        self._callback = callback
        self._sock = sock
        self._conn = GuardedConnectWebsocket(self._loop, self._client, self._recv, False, sock)
        return self

    async def subscribe(self, topic: str) -> None:
        _topic_check(topic)
        await super().subscribe(topic)


def _topic_check(topic: str) -> None:
    reason = kucoin_topic_refusal(topic)
    if reason is not None:
        raise transport_refuse(exchange=KUCOIN, method="WS", url=topic[:200], reason=reason)
