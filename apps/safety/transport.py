"""Transport guard: the HTTP and WebSocket sessions of the exchange clients refuse every
request that is not market data or a permission/fee look-up, before it leaves the process.

This layer does not trust the factory: even code that reaches the raw aiohttp or requests
session and sends a trading request by hand is stopped here (rules in apps.safety.rules).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import aiohttp
import requests
from requests.adapters import HTTPAdapter

from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.rules import BINANCE, KUCOIN, binance_ws_refusal, request_refusal
from apps.safety.violations import LAYER_TRANSPORT, violation_refuse

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
    *, exchange: str, method: str, url: str, headers: Mapping[str, str] | None = None, body: str = ""
) -> None:
    """Raise RealTradingAttemptError (recorded) unless the request may leave the process."""
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
