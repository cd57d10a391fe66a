"""Which exchange requests may leave the process. Pure: no Django, no I/O.

An allow-list, not a deny-list: a path that is not known market data or a known
permission/fee look-up is refused, so a new trading endpoint the exchanges add later is
refused too. The deny patterns only make the refusal message say *why*.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

BINANCE = "binance"
KUCOIN = "kucoin"

# Public market data (unsigned GET). Matched against the end of the path so a rest_url
# with a path prefix still works.
BINANCE_PUBLIC_PATHS = frozenset(
    {
        "/api/v3/ping",
        "/api/v3/time",
        "/api/v3/exchangeInfo",
        "/api/v3/klines",
        "/api/v3/uiKlines",
        "/api/v3/depth",
        "/api/v3/trades",
        "/api/v3/aggTrades",
        "/api/v3/historicalTrades",
        "/api/v3/avgPrice",
        "/api/v3/ticker",
        "/api/v3/ticker/24hr",
        "/api/v3/ticker/price",
        "/api/v3/ticker/bookTicker",
        "/api/v3/ticker/tradingDay",
        "/sapi/v1/system/status",
    }
)
# The only signed requests allowed: key permissions and fee look-ups (read-only).
BINANCE_SIGNED_PATHS = frozenset(
    {
        "/sapi/v1/account/apiRestrictions",
        "/sapi/v1/asset/tradeFee",
        "/api/v3/account/commission",
    }
)

KUCOIN_PUBLIC_GET_PATHS = frozenset(
    {
        "/api/v1/symbols",
        "/api/v2/symbols",
        "/api/v1/markets",
        "/api/v1/market/orderbook/level1",
        "/api/v1/market/orderbook/level2_20",
        "/api/v1/market/orderbook/level2_100",
        "/api/v1/market/allTickers",
        "/api/v1/market/stats",
        "/api/v1/market/histories",
        "/api/v1/market/candles",
        "/api/v1/currencies",
        "/api/v1/prices",
        "/api/v1/timestamp",
        "/api/v1/status",
    }
)
# POST is allowed for the public WebSocket token only, and unsigned.
KUCOIN_PUBLIC_POST_PATHS = frozenset({"/api/v1/bullet-public"})
KUCOIN_SIGNED_PATHS = frozenset({"/api/v1/user/api-key", "/api/v1/base-fee", "/api/v1/trade-fees"})

TRADING_PATH_RE = re.compile(
    r"(order|oco|oto|/sor|cancel|trade|withdraw|transfer|deposit|"
    r"loan|borrow|repay|margin|lend|purchase|redeem|stak|convert|dust|userDataStream|"
    r"listenKey|bullet-private|sub-account|sub/|futures|leverage|position)",
    re.IGNORECASE,
)
SAFE_METHODS = frozenset({"GET", "HEAD"})


def _path_in(path: str, allowed: frozenset[str]) -> bool:
    return any(path == entry or path.endswith(entry) for entry in allowed)


def _reason_for_unlisted(path: str, what: str) -> str:
    if TRADING_PATH_RE.search(path):
        return f"{what} {path} is an order/trade/transfer/withdraw path"
    return f"{what} {path} is not an allowed market-data or permission endpoint"


def binance_is_signed(*, query: str, body: str, headers: Mapping[str, str | bytes]) -> bool:
    """A Binance request is signed when it carries a signature (query or body)."""
    return "signature" in parse_qs(query) or "signature" in parse_qs(body) or "signature=" in query + body


def binance_request_refusal(
    *, method: str, path: str, query: str = "", body: str = "", headers: Mapping[str, str | bytes] | None = None
) -> str | None:
    """None when the request may leave the process, else the reason it may not."""
    method = method.upper()
    signed = binance_is_signed(query=query, body=body, headers=headers or {})
    what = f"binance {method}"
    if method not in SAFE_METHODS:
        if TRADING_PATH_RE.search(path):
            return f"{what} {path} is an order/trade/transfer/withdraw path"
        return f"{what} {path}: only GET requests may reach the exchange"
    if signed:
        if _path_in(path, BINANCE_SIGNED_PATHS):
            return None
        return f"{what} {path}: signed request other than the permission and fee look-ups"
    if _path_in(path, BINANCE_PUBLIC_PATHS) or _path_in(path, BINANCE_SIGNED_PATHS):
        return None
    return _reason_for_unlisted(path, what)


def kucoin_is_signed(*, headers: Mapping[str, str | bytes]) -> bool:
    """kucoin-python signs every call; it only *means* something with a non-empty key."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    return bool(lowered.get("kc-api-key", "").strip())


def kucoin_request_refusal(*, method: str, path: str, headers: Mapping[str, str | bytes] | None = None) -> str | None:
    method = method.upper()
    signed = kucoin_is_signed(headers=headers or {})
    what = f"kucoin {method}"
    if method == "POST" and _path_in(path, KUCOIN_PUBLIC_POST_PATHS):
        return f"{what} {path}: the public token request must not be signed" if signed else None
    if method not in SAFE_METHODS:
        if TRADING_PATH_RE.search(path):
            return f"{what} {path} is an order/trade/transfer/withdraw path"
        return f"{what} {path}: only GET requests (and the public WebSocket token) may reach the exchange"
    if signed:
        if _path_in(path, KUCOIN_SIGNED_PATHS):
            return None
        return f"{what} {path}: signed request other than the permission and fee look-ups"
    if _path_in(path, KUCOIN_PUBLIC_GET_PATHS) or _path_in(path, KUCOIN_SIGNED_PATHS):
        return None
    return _reason_for_unlisted(path, what)


def request_refusal(
    *, exchange: str, method: str, url: str, body: str = "", headers: Mapping[str, str | bytes] | None = None
) -> str | None:
    parts = urlsplit(url)
    if exchange == BINANCE:
        return binance_request_refusal(method=method, path=parts.path, query=parts.query, body=body, headers=headers)
    if exchange == KUCOIN:
        return kucoin_request_refusal(method=method, path=parts.path, headers=headers)
    return f"unknown exchange {exchange!r}"


BINANCE_STREAM_PREFIXES = ("ws/", "stream")
# Streams that carry account data or accept commands: never opened.
WS_FORBIDDEN_RE = re.compile(r"(ws-api|ws-fapi|listenKey|userData|/private|order|account)", re.IGNORECASE)


def binance_ws_refusal(*, url: str, allowed_base: str) -> str | None:
    """A Binance stream URL must be a public stream under the configured stream base."""
    if not url.startswith(allowed_base):
        return f"binance websocket {url} is not under the configured stream URL"
    rest = url[len(allowed_base) :]
    if not rest.startswith(BINANCE_STREAM_PREFIXES):
        return f"binance websocket {url} is not a public market stream"
    if WS_FORBIDDEN_RE.search(rest):
        return f"binance websocket {url} is an account/trading stream"
    return None


# KuCoin WebSocket ------------------------------------------------------------------------
# Public spot topics (allow-list). Anything else (e.g. /spotMarket/tradeOrders,
# /account/balance, /spotMarket/advancedOrders, /margin/position) carries account data and
# is only served on a private token: never subscribed.
KUCOIN_PUBLIC_TOPIC_PREFIXES = frozenset(
    {
        "/market/ticker",
        "/market/snapshot",
        "/market/candles",
        "/market/match",
        "/market/level2",
        "/spotMarket/level1",
        "/spotMarket/level2Depth5",
        "/spotMarket/level2Depth50",
        "/indicator/index",
        "/indicator/markPrice",
    }
)
KUCOIN_WS_CONTROL_TYPES = frozenset({"ping", "pong"})
KUCOIN_WS_SUBSCRIBE_TYPES = frozenset({"subscribe", "unsubscribe"})


def kucoin_topic_refusal(topic: str) -> str | None:
    """None for a public market topic, else why it may not be subscribed."""
    prefix = topic.partition(":")[0]
    if prefix in KUCOIN_PUBLIC_TOPIC_PREFIXES:
        return None
    return f"kucoin websocket topic {topic!r} is a private (account/order) or unknown topic"


def kucoin_ws_message_refusal(message: Mapping[str, object]) -> str | None:
    """None when a message may be sent on the public KuCoin socket, else the reason."""
    kind = message.get("type")
    if kind in KUCOIN_WS_CONTROL_TYPES:
        return None
    if kind not in KUCOIN_WS_SUBSCRIBE_TYPES:
        return f"kucoin websocket message type {kind!r} is not a public subscription"
    if message.get("privateChannel"):
        return "kucoin websocket private channel subscriptions are never sent"
    return kucoin_topic_refusal(str(message.get("topic", "")))


def kucoin_ws_connect_refusal(*, url: str, private: bool) -> str | None:
    """A KuCoin socket is opened only on a public token and a ws(s) URL."""
    if private:
        return "kucoin private websocket (bullet-private token) is never opened"
    if not url.startswith(("ws://", "wss://")):
        return f"kucoin websocket {url} is not a ws:// or wss:// endpoint"
    return None
