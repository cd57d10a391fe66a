"""Process-wide transport guard: below the per-session guards of apps.safety.transport.

The per-session guards (middleware, trace hook, guarded adapter) live on objects that code
inside the process can replace. This layer is bound to the classes every client goes through
(aiohttp.ClientSession._request, requests' HTTPAdapter.send, urllib3's connection pool,
websockets' connect) and, as the last line, to Python audit hooks, which cannot be removed:
"http.client.send" sees the request line of everything built on http.client (requests,
urllib3, urllib), and "socket.connect" refuses to open a socket to an exchange endpoint once
any of the class-level wrappers has been taken off. Installed once, from SafetyConfig.ready.

A request is checked when its host is an exchange endpoint: the real exchanges' domains, and
every base URL the factory has built a client for (the simulator in tests). Routes that stay
open in-process are listed in docs/SECURITY.md.
"""

from __future__ import annotations

import contextvars
import re
import sys
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import requests.adapters
import urllib3.connectionpool
import websockets.asyncio.client
from yarl import URL

from apps.safety import transport
from apps.safety.endpoints import exchange_for, exchange_for_url
from apps.safety.rules import WS_FORBIDDEN_RE

_REQUEST_LINE_RE = re.compile(rb"^([A-Z]+) (\S+) HTTP/1\.[01]\r\n")
_ORIGINALS: dict[tuple[type, str], Any] = {}
_WRAPPERS: dict[tuple[type, str], Any] = {}
_in_hook = threading.local()
# Set while a checked request runs: a socket to an exchange endpoint opened outside one (a raw
# socket, or an unwrapped original called by hand) is refused by the socket.connect hook.
_checked_request: contextvars.ContextVar[bool] = contextvars.ContextVar("ptp_checked_request", default=False)


def _check_url(*, method: str, url: str, headers: Any = None, body: str = "") -> None:
    exchange = exchange_for_url(url)
    if exchange is not None:
        transport.transport_check(exchange=exchange, method=method, url=url, headers=headers or {}, body=body)


def _text(data: Any) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    if isinstance(data, str):
        return data
    if isinstance(data, dict | list | tuple):
        return urlencode(data)
    return ""


# class-level wrappers ---------------------------------------------------------------------


def _aiohttp_request(original: Any) -> Any:
    async def _request(self: Any, method: str, str_or_url: Any, *args: Any, **kwargs: Any) -> Any:
        url = str(str_or_url)
        if kwargs.get("params"):
            url = str(URL(url).extend_query(kwargs["params"]))
        headers = dict(kwargs.get("headers") or {})
        _check_url(method=method, url=url, headers=headers, body=_text(kwargs.get("data")))
        token = _checked_request.set(True)
        try:
            return await original(self, method, str_or_url, *args, **kwargs)
        finally:
            _checked_request.reset(token)

    return _request


def _requests_send(original: Any) -> Any:
    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        _check_url(
            method=request.method or "GET", url=request.url or "", headers=request.headers, body=_text(request.body)
        )
        token = _checked_request.set(True)
        try:
            return original(self, request, *args, **kwargs)
        finally:
            _checked_request.reset(token)

    return send


def _urllib3_urlopen(original: Any) -> Any:
    def urlopen(self: Any, method: str, url: str, body: Any = None, headers: Any = None, *args: Any, **kw: Any) -> Any:
        full = url if "://" in url else f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port else "") + url
        _check_url(method=method, url=full, headers=headers, body=_text(body))
        token = _checked_request.set(True)
        try:
            return original(self, method, url, body, headers, *args, **kw)
        finally:
            _checked_request.reset(token)

    return urlopen


def _websocket_connect_init(original: Any) -> Any:
    def __init__(self: Any, uri: str, *args: Any, **kwargs: Any) -> None:
        _websocket_check(str(uri))
        original(self, uri, *args, **kwargs)

    return __init__


def _websocket_open(original: Any) -> Any:
    async def open_tcp_connection(self: Any) -> Any:
        _websocket_check(str(self.uri))  # checked again: the URI may have been changed since
        token = _checked_request.set(True)
        try:
            return await original(self)
        finally:
            _checked_request.reset(token)

    return open_tcp_connection


def _websocket_check(url: str) -> None:
    exchange = exchange_for_url(url)
    # the path only: a query carries random tokens (KuCoin), which may spell "order"
    if exchange is not None and WS_FORBIDDEN_RE.search(urlsplit(url).path):
        raise transport.transport_refuse(
            exchange=exchange, method="WS", url=url, reason="websocket API / account stream refused (process guard)"
        )


_TARGETS: list[tuple[type, str, Any]] = [
    (aiohttp.ClientSession, "_request", _aiohttp_request),
    (requests.adapters.HTTPAdapter, "send", _requests_send),
    (urllib3.connectionpool.HTTPConnectionPool, "urlopen", _urllib3_urlopen),
    (websockets.asyncio.client.connect, "__init__", _websocket_connect_init),
    (websockets.asyncio.client.connect, "open_tcp_connection", _websocket_open),
]


def process_guard_intact() -> bool:
    """Every class-level wrapper is still the one installed."""
    return bool(_WRAPPERS) and all(cls.__dict__.get(name) is fn for (cls, name), fn in _WRAPPERS.items())


# audit hooks (cannot be removed) ----------------------------------------------------------


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in ("http.client.send", "socket.connect") or getattr(_in_hook, "active", False):
        return
    _in_hook.active = True
    try:
        if event == "http.client.send":
            _http_client_send_check(*args)
        else:
            _socket_connect_check(*args)
    finally:
        _in_hook.active = False


def _http_client_send_check(connection: Any, data: Any) -> None:
    match = _REQUEST_LINE_RE.match(bytes(data[:4096])) if isinstance(data, bytes | bytearray) else None
    if match is None:
        return
    host, port = getattr(connection, "host", None), getattr(connection, "port", None)
    exchange = exchange_for(host=host, port=port)
    if exchange is not None:
        method, target = match.group(1).decode(), match.group(2).decode("latin-1")
        url = target if "://" in target else f"http://{host}:{port}{target}"
        transport.transport_check(exchange=exchange, method=method, url=url, headers={}, body="")


def _socket_connect_check(sock: Any, address: Any) -> None:
    if not (isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], str)):
        return
    exchange = exchange_for(host=address[0], port=address[1])
    if exchange is None:
        return
    if not process_guard_intact():
        reason = "the process-wide transport guard was removed; no connection to the exchange"
    elif not _checked_request.get():
        reason = "a socket to the exchange outside a checked request (raw socket or unwrapped client)"
    else:
        return
    raise transport.transport_refuse(
        exchange=exchange, method="CONNECT", url=f"{address[0]}:{address[1]}", reason=reason
    )


def process_guard_install() -> None:
    """Wrap the classes and add the audit hook, once per process."""
    if _WRAPPERS:
        return
    for cls, name, make in _TARGETS:
        original = cls.__dict__[name]
        wrapper = make(original)
        _ORIGINALS[(cls, name)] = original
        _WRAPPERS[(cls, name)] = wrapper
        setattr(cls, name, wrapper)
    sys.addaudithook(_audit_hook)
