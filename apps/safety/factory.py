"""The exchange client factory: the ONLY way the code base builds an exchange client.

What it returns exposes market data and permission/fee look-ups only. Asking it for
anything that trades, cancels, transfers or withdraws raises RealTradingAttemptError;
other unknown names raise AttributeError; private names are hidden. The library client
inside runs on a guarded transport (apps.safety.transport), so even code that digs the
raw session out is stopped before a request leaves the process.
"""

from __future__ import annotations

import time
import warnings
from types import SimpleNamespace
from typing import Any, NoReturn

from binance.async_client import AsyncClient
from binance.ws.streams import BinanceSocketManager

from apps.safety.endpoints import exchange_endpoint_register
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.rules import BINANCE, KUCOIN
from apps.safety.surface import is_trading_name
from apps.safety.transport import (
    GuardedKucoinWsClient,
    GuardedSession,
    aiohttp_guarded_session_kwargs,
    transport_refuse,
    websocket_check,
)
from apps.safety.violations import LAYER_FACTORY, violation_refuse

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # kucoin-python imports the deprecated pkg_resources
    from kucoin.base_request.base_request import KucoinBaseRestApi
    from kucoin.client import Market, WsToken


def _refuse_attribute(*, exchange: str, name: str) -> NoReturn:
    raise violation_refuse(
        layer=LAYER_FACTORY,
        message=f"{exchange} client: {name!r} trades, cancels, transfers or withdraws; market clients cannot",
        detail={"exchange": exchange, "attribute": name},
        audit={"exchange": exchange, "action": "factory_refused", "actor_label": "exchange-client"},
    )


class _SealedClient:
    """Hides the wrapped library client: private names are not reachable from outside."""

    __slots__ = ("_inner",)
    _exchange = ""

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_") and is_trading_name(name):
            _refuse_attribute(exchange=type(self)._exchange, name=name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r} (market data and permissions only)")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __dir__(self) -> list[str]:
        return [name for name in dir(type(self)) if not name.startswith("_")]


def _inner(client: _SealedClient) -> Any:
    return object.__getattribute__(client, "_inner")


# Binance -------------------------------------------------------------------------------


class _RefusedWebsocketApi:
    """Stands in for python-binance's WebSocket API (order.place over a socket)."""

    def __getattr__(self, name: str) -> Any:
        raise transport_refuse(
            exchange=BINANCE, method="WS", url="ws-api", reason="the Binance WebSocket API (ws-api) is never opened"
        )

    async def close(self) -> None:
        return None

    def __bool__(self) -> bool:
        return False


class _GuardedAsyncClient(AsyncClient):
    """python-binance AsyncClient on a guarded aiohttp session and without its ws-api."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ws_api = _RefusedWebsocketApi()
        self.ws_future = _RefusedWebsocketApi()

    def _init_session(self) -> Any:
        import aiohttp

        return aiohttp.ClientSession(
            loop=self.loop,
            headers=self._get_headers(),
            **self._session_params,
            **aiohttp_guarded_session_kwargs(BINANCE),
        )


class _GuardedSocketManager(BinanceSocketManager):
    """Public market streams under STREAM_URL only; account streams are never opened."""

    def _get_socket(self, path: str, stream_url: str | None = None, prefix: str = "ws/", **kwargs: Any) -> Any:
        url = self._get_stream_url(stream_url) + prefix + path
        websocket_check(exchange=BINANCE, url=url, allowed_base=type(self).STREAM_URL)
        return super()._get_socket(path, stream_url, prefix, **kwargs)

    def _get_account_socket(self, path: str, stream_url: str | None = None, **kwargs: Any) -> Any:
        raise transport_refuse(
            exchange=BINANCE, method="WS", url=f"{path}", reason="binance account/user-data streams are never opened"
        )


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


class BinanceMarketClient(_SealedClient):
    """Binance market data, key permissions and fees. Returns python-binance's parsed JSON."""

    __slots__ = ("_ws_url",)
    _exchange = BINANCE

    def __init__(self, inner: _GuardedAsyncClient, ws_url: str) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_ws_url", _with_slash(ws_url))

    async def ping(self) -> dict[str, Any]:
        return await _inner(self).ping()

    async def server_time(self) -> int:
        """The exchange clock in ms."""
        return int((await _inner(self).get_server_time())["serverTime"])

    async def exchange_info(self) -> dict[str, Any]:
        return await _inner(self).get_exchange_info()

    async def klines(
        self, symbol: str, interval: str, start_ms: int | None = None, end_ms: int | None = None, limit: int = 1000
    ) -> list[list[Any]]:
        params: dict[str, Any] = {"symbol": symbol, "interval": interval, "limit": limit}
        if start_ms is not None:
            params["startTime"] = start_ms
        if end_ms is not None:
            params["endTime"] = end_ms
        return await _inner(self).get_klines(**params)

    async def ticker_24h(self, symbol: str) -> dict[str, Any]:
        return await _inner(self).get_ticker(symbol=symbol)

    async def depth(self, symbol: str, limit: int = 100) -> dict[str, Any]:
        return await _inner(self).get_order_book(symbol=symbol, limit=limit)

    async def api_permissions(self) -> dict[str, Any]:
        """GET /sapi/v1/account/apiRestrictions (signed). Needs a configured key."""
        _require_binance_key(self)
        return await _inner(self).get_account_api_permissions()

    async def trade_fee(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """GET /sapi/v1/asset/tradeFee (signed). Needs a configured key."""
        _require_binance_key(self)
        params = {"symbol": symbol} if symbol else {}
        return await _inner(self).get_trade_fee(**params)

    def socket_manager(self, max_queue_size: int = 10000) -> BinanceSocketManager:
        """A socket manager for public streams under ws_url. It is handed a stand-in, not
        the REST client, so the raw client cannot be reached through it either."""
        ws_url = object.__getattribute__(self, "_ws_url")
        manager_cls = type("GuardedBinanceSocketManager", (_GuardedSocketManager,), {"STREAM_URL": ws_url})
        stand_in = SimpleNamespace(tld="com", testnet=False, demo=False, https_proxy=None, TIME_UNIT=None)
        return manager_cls(stand_in, max_queue_size=max_queue_size)  # type: ignore[arg-type]

    @property
    def used_weight(self) -> int | None:
        """X-MBX-USED-WEIGHT-1M of the last response, None before the first."""
        response = _inner(self).response
        if response is None:
            return None
        value = response.headers.get("X-MBX-USED-WEIGHT-1M")
        return int(value) if value and value.isdigit() else None

    async def close(self) -> None:
        await _inner(self).close_connection()


def _require_binance_key(client: BinanceMarketClient) -> None:
    if not _inner(client).API_KEY or not _inner(client).API_SECRET:
        raise ValueError("no Binance API key configured")


async def binance_market_client(
    *, rest_url: str, ws_url: str, api_key: str = "", api_secret: str = ""
) -> BinanceMarketClient:
    """Build a Binance market client (calls /api/v3/ping and /api/v3/time, like AsyncClient.create)."""
    base = rest_url.rstrip("/")
    exchange_endpoint_register(exchange=BINANCE, url=base)
    exchange_endpoint_register(exchange=BINANCE, url=ws_url)
    client_cls: type[_GuardedAsyncClient] = type(
        "GuardedBinanceAsyncClient",
        (_GuardedAsyncClient,),
        {"API_URL": base + "/api", "MARGIN_API_URL": base + "/sapi"},
    )
    # What AsyncClient.create() does, but the session is also closed when the start-up calls
    # are cancelled (a probe's timeout), not only when they raise.
    inner = client_cls(api_key or None, api_secret or None)
    try:
        await inner.ping()
        server_time = await inner.get_server_time()
        inner.timestamp_offset = server_time["serverTime"] - int(time.time() * 1000)
    except BaseException:
        await inner.close_connection()
        raise
    return BinanceMarketClient(inner, ws_url)


# KuCoin --------------------------------------------------------------------------------


class _GuardedKucoinMixin:
    """The session is a GuardedSession and cannot be swapped for a plain one."""

    _ptp_session: GuardedSession | None = None

    @property
    def session(self) -> GuardedSession | None:
        return self._ptp_session

    @session.setter
    def session(self, session: Any) -> None:
        if session is not None and not isinstance(session, GuardedSession):
            raise transport_refuse(
                exchange=KUCOIN, method="SESSION", url="", reason="replacing the guarded KuCoin transport session"
            )
        self._ptp_session = session


class _GuardedMarket(_GuardedKucoinMixin, Market):
    pass


class _GuardedSigned(_GuardedKucoinMixin, KucoinBaseRestApi):
    pass


class _GuardedWsToken(_GuardedKucoinMixin, WsToken):
    pass


def _kucoin_guarded(cls: type, *, url: str, key: str = "", secret: str = "", passphrase: str = "") -> Any:
    instance = cls(key=key, secret=secret, passphrase=passphrase, url=url)
    instance.session = GuardedSession(KUCOIN)
    return instance


_KUCOIN_RATE_HEADERS = ("gw-ratelimit-limit", "gw-ratelimit-remaining", "gw-ratelimit-reset")


class KucoinMarketClient(_SealedClient):
    """KuCoin market data, key permissions and fees (sync; kucoin-python's parsed JSON)."""

    __slots__ = ("_signed", "_rest_url", "_rate")
    _exchange = KUCOIN

    def __init__(self, *, rest_url: str, api_key: str, api_secret: str, passphrase: str) -> None:
        rate: dict[str, str] = {}
        market = _kucoin_guarded(_GuardedMarket, url=rest_url)
        signed = (
            _kucoin_guarded(_GuardedSigned, url=rest_url, key=api_key, secret=api_secret, passphrase=passphrase)
            if api_key
            else None
        )
        for client in filter(None, (market, signed)):
            client.session.hooks["response"].append(_rate_hook(rate))
        object.__setattr__(self, "_inner", market)
        object.__setattr__(self, "_signed", signed)
        object.__setattr__(self, "_rest_url", rest_url)
        object.__setattr__(self, "_rate", rate)

    def symbols(self) -> list[dict[str, Any]]:
        return _inner(self).get_symbol_list_v2()

    def candles(
        self, symbol: str, kline_type: str, start_s: int | None = None, end_s: int | None = None
    ) -> list[list[str]]:
        params: dict[str, Any] = {}
        if start_s is not None:
            params["startAt"] = start_s
        if end_s is not None:
            params["endAt"] = end_s
        return _inner(self).get_kline(symbol, kline_type, **params)

    def stats(self, symbol: str) -> dict[str, Any]:
        return _inner(self).get_24h_stats(symbol)

    def all_tickers(self) -> dict[str, Any]:
        return _inner(self).get_all_tickers()

    def level1(self, symbol: str) -> dict[str, Any]:
        return _inner(self).get_ticker(symbol)

    def part_book(self, symbol: str, pieces: int = 100) -> dict[str, Any]:
        """GET /api/v1/market/orderbook/level2_{20,100} (public); the full book needs a key."""
        return _inner(self).get_part_order(pieces, symbol)

    def server_time(self) -> int:
        """The exchange clock in ms."""
        result = _inner(self).get_server_timestamp()
        return int(result["data"] if isinstance(result, dict) else result)

    def api_key_info(self) -> dict[str, Any]:
        """GET /api/v1/user/api-key (signed, KC-API-KEY-VERSION 2). Needs a configured key."""
        return _kucoin_signed(self)._request("GET", "/api/v1/user/api-key")

    def base_fee(self) -> dict[str, Any]:
        """GET /api/v1/base-fee (signed). Needs a configured key."""
        return _kucoin_signed(self)._request("GET", "/api/v1/base-fee")

    def ws_token(self) -> WsToken:
        """A kucoin-python WsToken for KucoinWsClient.create, on the guarded transport: the
        public bullet works, the private one is refused."""
        return _kucoin_guarded(_GuardedWsToken, url=object.__getattribute__(self, "_rest_url"))

    async def public_ws(self, callback: Any) -> GuardedKucoinWsClient:
        """A public KuCoin socket (kucoin-python KucoinWsClient API: ``subscribe(topic)``,
        ``unsubscribe(topic)``) on a guarded connection: private tokens, private topics and
        any frame other than ping and public (un)subscribe are refused before they leave."""
        return await GuardedKucoinWsClient.create(None, self.ws_token(), callback)

    @property
    def rate_limit(self) -> dict[str, str]:
        """gw-ratelimit-* headers of the last response (empty before the first)."""
        return dict(object.__getattribute__(self, "_rate"))

    def close(self) -> None:
        _inner(self).session.close()
        signed = object.__getattribute__(self, "_signed")
        if signed is not None:
            signed.session.close()


def _kucoin_signed(client: KucoinMarketClient) -> Any:
    signed = object.__getattribute__(client, "_signed")
    if signed is None:
        raise ValueError("no KuCoin API key configured")
    return signed


def _rate_hook(store: dict[str, str]) -> Any:
    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        found = {name: response.headers[name] for name in _KUCOIN_RATE_HEADERS if name in response.headers}
        if found:
            store.clear()
            store.update(found)
        return response

    return hook


def kucoin_market_client(
    *, rest_url: str, api_key: str = "", api_secret: str = "", passphrase: str = ""
) -> KucoinMarketClient:
    exchange_endpoint_register(exchange=KUCOIN, url=rest_url)
    return KucoinMarketClient(rest_url=rest_url, api_key=api_key, api_secret=api_secret, passphrase=passphrase)


__all__ = [
    "BinanceMarketClient",
    "KucoinMarketClient",
    "RealTradingAttemptError",
    "binance_market_client",
    "kucoin_market_client",
]
