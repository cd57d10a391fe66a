"""The real client libraries, pointed at a simulator (see EXCHANGE_PROTOCOLS.md C.1/C.2)."""

from __future__ import annotations

import asyncio
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance.async_client import AsyncClient
    from binance.ws.streams import BinanceSocketManager
    from kucoin.client import Market, Trade, User, WsToken
    from kucoin.ws_client import KucoinWsClient

from apps.market.simulator import ExchangeSimulator

__all__ = ["Market", "Trade", "User", "binance_client", "binance_sockets", "kucoin_ws", "kucoin_ws_close"]


async def binance_client(
    sim: ExchangeSimulator, api_key: str | None = None, api_secret: str | None = None
) -> AsyncClient:
    class LocalAsyncClient(AsyncClient):
        API_URL = f"{sim.binance_rest_url}/api"
        MARGIN_API_URL = f"{sim.binance_rest_url}/sapi"

    return await LocalAsyncClient.create(api_key=api_key, api_secret=api_secret)


def binance_sockets(sim: ExchangeSimulator, client: AsyncClient) -> BinanceSocketManager:
    class LocalBSM(BinanceSocketManager):
        STREAM_URL = sim.binance_ws_url

    return LocalBSM(client, max_queue_size=10_000)


async def kucoin_ws(sim: ExchangeSimulator, callback) -> KucoinWsClient:  # type: ignore[no-untyped-def]
    return await KucoinWsClient.create(None, WsToken(url=sim.kucoin_rest_url), callback)


async def kucoin_ws_close(client: KucoinWsClient) -> None:
    """kucoin-python has no close(): cancel its tasks, then close the socket (C.2)."""
    for task in asyncio.all_tasks():
        if task.get_coro().__qualname__.startswith("ConnectWebsocket."):  # type: ignore[union-attr]
            task.cancel()
    conn = getattr(client, "_conn", None)
    socket = getattr(conn, "_socket", None)
    if socket is not None:
        await socket.close()
    await asyncio.sleep(0)
