"""Ingest throughput of the market pipeline on one core.

Pipeline per message: parse (orjson) -> normalize (Decimal events; book diffs through the
local order book, which publishes the book) -> hub (candle
aggregation on all 6 timeframes, recent trades, book/ticker state, event listeners,
indicator hook) -> coalesced flush every 100 ms of market time (cache.set_many into the
configured cache + channel-layer push messages built, at most MARKET_PUSH_HZ per symbol).
Baseline in the same run: json.loads (and orjson.loads) of the very same frames.

Usage: python bench/ingest.py [--quick]   (last line: one JSON object)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import tracemalloc
from array import array
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.pop("REDIS_URL", None)

import django

django.setup()

import orjson  # noqa: E402

from apps.market.cache import cache_write_many  # noqa: E402
from apps.market.events import KlineEvent  # noqa: E402
from apps.market.feeds import binance_parse, kucoin_parse  # noqa: E402
from apps.market.feeds.hub import FeedHub  # noqa: E402
from apps.market.feeds.indicator_bridge import indicator_hook  # noqa: E402
from apps.market.feeds.local_book import DepthDiff, DepthSnapshot, LocalBook  # noqa: E402

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT"]
MSGS_PER_MARKET_SECOND = 20_000


def _frames(n: int, seed: int = 7) -> tuple[list[bytes], list[bytes]]:
    """Binance combined-stream frames (trades dominate, as on the real feed) and KuCoin frames."""
    rng = random.Random(seed)
    prices = {s: 100.0 + 10 * i for i, s in enumerate(SYMBOLS)}
    t0 = 1_700_000_000_000
    binance: list[bytes] = []
    kucoin: list[bytes] = []
    update = dict.fromkeys(SYMBOLS, 0)
    last_levels: dict[str, tuple[str, str]] = {}
    for i in range(n):
        sym = SYMBOLS[i % len(SYMBOLS)]
        ts = t0 + i * 1000 // MSGS_PER_MARKET_SECOND
        prices[sym] *= 1 + rng.uniform(-0.0005, 0.0005)
        p = f"{prices[sym]:.4f}"
        q = f"{rng.uniform(0.001, 3):.5f}"
        kind = i % 20
        low = sym.lower()
        if kind < 14:
            data = {"e": "trade", "E": ts, "s": sym, "t": i, "p": p, "q": q, "T": ts, "m": kind % 2 == 0}
            binance.append(orjson.dumps({"stream": f"{low}@trade", "data": data}))
        elif kind < 18:
            # A diff: the previous level leaves, one at the new price comes (ids contiguous).
            ask = f"{prices[sym] * 1.0001:.4f}"
            update[sym] += 1
            old_bid, old_ask = last_levels.get(sym, (p, ask))
            bids = [[old_bid, "0"], [p, q]] if old_bid != p else [[p, q]]
            asks = [[old_ask, "0"], [ask, q]] if old_ask != ask else [[ask, q]]
            last_levels[sym] = (p, ask)
            data = {"e": "depthUpdate", "E": ts, "s": sym, "U": update[sym], "u": update[sym], "b": bids, "a": asks}
            binance.append(orjson.dumps({"stream": f"{low}@depth@100ms", "data": data}))
        elif kind < 19:
            k = {"t": ts - ts % 60_000, "T": ts - ts % 60_000 + 59_999, "s": sym, "i": "1m", "f": 1, "L": 2, "o": p, "c": p, "h": p, "l": p, "v": q, "n": 3, "x": False, "q": q, "V": q, "Q": q, "B": "0"}  # fmt: skip
            binance.append(
                orjson.dumps({"stream": f"{low}@kline_1m", "data": {"e": "kline", "E": ts, "s": sym, "k": k}})
            )
        else:
            data = {"e": "24hrTicker", "E": ts, "s": sym, "p": "1", "P": "1.5", "w": p, "x": p, "c": p, "Q": q, "b": p, "B": q, "a": p, "A": q, "o": p, "h": p, "l": p, "v": q, "q": q, "O": 0, "C": 1, "F": 0, "L": 1, "n": 2}  # fmt: skip
            binance.append(orjson.dumps({"stream": f"{low}@ticker", "data": data}))
        ksym = f"{sym[:-4]}-USDT"
        kdata = {"makerOrderId": "a", "price": p, "sequence": str(i), "side": "buy", "size": q, "symbol": ksym, "takerOrderId": "b", "time": str(ts * 1_000_000), "tradeId": str(i), "type": "match"}  # fmt: skip
        kucoin.append(
            orjson.dumps(
                {"topic": f"/market/match:{ksym}", "type": "message", "subject": "trade.l3match", "data": kdata}
            )
        )
    return binance, kucoin


def _baseline(frames: list[bytes]) -> tuple[float, float]:
    t = time.perf_counter()
    for f in frames:
        json.loads(f)
    json_rate = len(frames) / (time.perf_counter() - t)
    t = time.perf_counter()
    for f in frames:
        orjson.loads(f)
    return json_rate, len(frames) / (time.perf_counter() - t)


def _book(books: dict[str, LocalBook], exchange: str, diff: DepthDiff):
    book = books.get(diff.symbol)
    if book is None:  # synced on an empty snapshot just before the first diff
        book = books[diff.symbol] = LocalBook(exchange, diff.symbol)
        book.on_snapshot(DepthSnapshot(diff.symbol, diff.first_id - 1, (), (), 0, 1000))
    book.on_diff(diff)
    return book.book()


def _pipeline(exchange: str, frames: list[bytes]) -> dict[str, float]:
    hub = FeedHub(exchange, candle_source="trades", indicator_hook=indicator_hook(), closed_sink=lambda c: None)
    parse = binance_parse.parse_raw if exchange == "binance" else kucoin_parse.parse_raw
    flush_every = MSGS_PER_MARKET_SECOND // 10  # 100 ms of market time
    pushes = cached = 0
    t = time.perf_counter()
    books: dict[str, LocalBook] = {}
    for i, frame in enumerate(frames):
        event = parse(frame)
        if isinstance(event, DepthDiff):
            event = _book(books, exchange, event)
        if event is not None:
            hub.handle(event)
        if i % flush_every == 0:
            items, push_list = hub.flush(i / MSGS_PER_MARKET_SECOND)
            cache_write_many(items)
            cached += len(items)
            pushes += len(push_list)
    elapsed = time.perf_counter() - t
    return {"rate": len(frames) / elapsed, "pushes": pushes, "cache_writes": cached}


def _memory(quick: bool) -> dict[str, float]:
    """Bytes for 100 symbols x 6 timeframes x 1000 candles: as float ring buffers (what the
    chart/indicator history needs) and as Decimal KlineEvents (extrapolated from a sample)."""
    symbols, tfs, n = 100, 6, 1000
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    series = {(s, tf): [array("d", [1.0] * n) for _ in range(6)] for s in range(symbols) for tf in range(tfs)}
    compact = tracemalloc.get_traced_memory()[0] - before
    sample = 5_000 if quick else 20_000
    before = tracemalloc.get_traced_memory()[0]
    d = Decimal
    events = [
        KlineEvent("binance", "BTCUSDT", "1m", i * 60_000, d(f"{i}.1"), d(f"{i}.2"), d(f"{i}.0"), d(f"{i}.15"), d("1.5"), d("150.75"), True, i)
        for i in range(sample)
    ]  # fmt: skip
    per_event = (tracemalloc.get_traced_memory()[0] - before) / sample
    tracemalloc.stop()
    del series, events
    return {
        "memory_float_history_mb": round(compact / 1e6, 1),
        "memory_decimal_candles_mb": round(per_event * symbols * tfs * n / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 60_000 if args.quick else 400_000
    binance, kucoin = _frames(n)
    json_rate, orjson_rate = _baseline(binance)
    b = _pipeline("binance", binance)
    k = _pipeline("kucoin", kucoin)
    result = {
        "bench": "ingest",
        "messages": n,
        "quick": args.quick,
        "pipeline_msgs_per_s_binance": round(b["rate"]),
        "pipeline_msgs_per_s_kucoin": round(k["rate"]),
        "baseline_json_loads_per_s": round(json_rate),
        "baseline_orjson_loads_per_s": round(orjson_rate),
        "pipeline_vs_json_loads": round(b["rate"] / json_rate, 3),
        "pushes": b["pushes"],
        "cache_writes": b["cache_writes"],
        "target_msgs_per_s": 50_000,
        "meets_target": min(b["rate"], k["rate"]) >= 50_000,
        **_memory(args.quick),
    }
    print(f"binance {b['rate']:,.0f} msg/s, kucoin {k['rate']:,.0f} msg/s, json.loads {json_rate:,.0f}/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
