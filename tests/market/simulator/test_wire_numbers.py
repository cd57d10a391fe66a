"""The same number rules end to end: REST and WebSocket payloads of every configured
instrument on both exchanges, read with the real client libraries."""

from __future__ import annotations

import asyncio

from apps.market.simulator import ExchangeSimulator
from apps.market.simulator.symbols import DEFAULT_SPECS

from .clients import Market, binance_client, binance_sockets, kucoin_ws, kucoin_ws_close
from .wire_check import (
    BINANCE_BOOK_TICKER,
    BINANCE_KLINE_EVENT,
    BINANCE_KLINE_ROW,
    BINANCE_TICKER,
    BINANCE_TICKER_EVENT,
    BINANCE_TRADE,
    KUCOIN_CANDLE_ROW,
    KUCOIN_MATCH,
    KUCOIN_STATS,
    KUCOIN_TICKER,
    WireChecker,
)

SYMBOLS = sorted(DEFAULT_SPECS)
THIN = {s for s, spec in DEFAULT_SPECS.items() if spec.thin}  # trades every few minutes: not waited for


async def test_binance_rest_and_streams_of_every_instrument(exchange_sim: ExchangeSimulator) -> None:
    check = WireChecker()
    client = await binance_client(exchange_sim)
    try:
        for sym in SYMBOLS:
            depth = await client.get_order_book(symbol=sym, limit=100)
            check.levels("binance", sym, depth["bids"] + depth["asks"], f"{sym} depth")
            for t in await client.get_recent_trades(symbol=sym, limit=50):
                check.fields("binance", sym, t, {"price": "price", "qty": "qty", "quoteQty": "quote"}, f"{sym} trades")
            for interval in ("1m", "1d", "1w"):
                for row in await client.get_klines(symbol=sym, interval=interval, limit=20):
                    check.row("binance", sym, row, BINANCE_KLINE_ROW, f"{sym} klines {interval}")
            check.fields("binance", sym, await client.get_ticker(symbol=sym), BINANCE_TICKER, f"{sym} 24hr")
        for bt in await client.get_orderbook_tickers():
            check.fields("binance", bt["symbol"], bt, {"bidPrice": "price", "bidQty": "qty"}, "bookTicker")
        for p in await client.get_all_tickers():
            check.value("binance", p["symbol"], "price", p["price"], "ticker/price")
        streams = [f"{s.lower()}@{k}" for s in SYMBOLS for k in ("trade", "kline_1m", "ticker", "bookTicker")]
        streams += [f"{s.lower()}@depth5@100ms" for s in SYMBOLS] + [f"{s.lower()}@miniTicker" for s in SYMBOLS]
        quiet = ("@trade", "@bookTicker", "@depth5@100ms")  # on a thin pair these move only with its trades
        awaited = {s for s in streams if not (s.endswith(quiet) and s.split("@")[0].upper() in THIN)}
        seen: set[str] = set()
        async with binance_sockets(exchange_sim, client).multiplex_socket(streams) as socket:
            loop = asyncio.get_running_loop()
            end = loop.time() + 30
            while not awaited <= seen and loop.time() < end:
                frame = await asyncio.wait_for(socket.recv(), 10)
                stream, data = frame["stream"], frame["data"]
                seen.add(stream)
                sym = stream.split("@")[0].upper()
                kind = stream.split("@")[1]
                if kind == "trade":
                    check.fields("binance", sym, data, BINANCE_TRADE, stream)
                elif kind.startswith("kline"):
                    check.fields("binance", sym, data["k"], BINANCE_KLINE_EVENT, stream)
                elif kind in ("ticker", "miniTicker"):
                    check.fields("binance", sym, data, BINANCE_TICKER_EVENT, stream)
                elif kind == "bookTicker":
                    check.fields("binance", sym, data, BINANCE_BOOK_TICKER, stream)
                else:
                    check.levels("binance", sym, data["bids"] + data["asks"], stream)
        assert awaited <= seen
    finally:
        await client.close_connection()
    check.assert_clean(minimum=2000)


async def test_kucoin_rest_and_topics_of_every_instrument(exchange_sim: ExchangeSimulator) -> None:
    check = WireChecker()
    market = Market(url=exchange_sim.kucoin_rest_url)
    names = [f"{s[:-4]}-USDT" for s in SYMBOLS]
    for sym in names:
        for ctype in ("1min", "1day", "1week"):
            for row in market.get_kline(sym, ctype)[:20]:
                check.row("kucoin", sym, row, KUCOIN_CANDLE_ROW, f"{sym} candles {ctype}")
        check.fields("kucoin", sym, market.get_24h_stats(sym), KUCOIN_STATS, f"{sym} stats")
        check.fields("kucoin", sym, market.get_ticker(sym), KUCOIN_TICKER, f"{sym} level1")
        book = market.get_part_order(20, sym)
        check.levels("kucoin", sym, book["bids"] + book["asks"], f"{sym} level2_20")
        for t in market.get_trade_histories(sym):
            check.fields("kucoin", sym, t, KUCOIN_MATCH, f"{sym} histories")
    for t in market.get_all_tickers()["ticker"]:
        check.fields("kucoin", t["symbol"], t, KUCOIN_STATS, "allTickers")
    frames: list[dict] = []

    async def on_message(message: dict) -> None:
        frames.append(message)

    client = await kucoin_ws(exchange_sim, on_message)
    joined = ",".join(names)
    topics = [f"/market/match:{joined}", f"/market/ticker:{joined}", f"/spotMarket/level2Depth5:{joined}"]
    topics += [f"/market/candles:{n}_1min" for n in names]
    try:
        for topic in topics:
            await client.subscribe(topic)
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while len({f["topic"] for f in frames}) < 4 * len(names) - 4 * len(THIN) and loop.time() < end:
            await asyncio.sleep(0.2)
    finally:
        await kucoin_ws_close(client)
    for f in frames:
        prefix, _, sym = f["topic"].partition(":")
        data = f["data"]
        if prefix == "/market/match":
            check.fields("kucoin", data["symbol"], data, KUCOIN_MATCH, f["topic"])
        elif prefix == "/market/ticker":
            check.fields("kucoin", sym, data, KUCOIN_TICKER, f["topic"])
        elif prefix == "/spotMarket/level2Depth5":
            check.levels("kucoin", sym, data["bids"] + data["asks"], f["topic"])
        else:
            check.row("kucoin", data["symbol"], data["candles"], KUCOIN_CANDLE_ROW, f["topic"])
    assert len({f["topic"] for f in frames}) >= 4 * len(names) - 4 * len(THIN)  # a thin pair pushes only on its trades
    check.assert_clean(minimum=2000)
