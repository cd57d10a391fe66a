"""KuCoin wire formatting (pure). Numbers are strings without trailing zeros, as KuCoin sends them."""

from __future__ import annotations

import json
from decimal import Decimal

from .depth import Diff
from .market import Market, Trade
from .symbols import fmt_units


def price(m: Market, n: int) -> str:
    return fmt_units(n, m.pd, False)


def qty(m: Market, n: int) -> str:
    return fmt_units(n, m.qd, False)


def quote(m: Market, n: int) -> str:
    return fmt_units(n, m.pd + m.qd, False)


def levels(m: Market, rows: list[tuple[int, int]]) -> list[list[str]]:
    return [[price(m, p), qty(m, q)] for p, q in rows]


def symbol_info(m: Market) -> dict:
    spec, rules = m.spec, m.spec.rules("kucoin")
    return {
        "symbol": spec.kucoin_symbol,
        "name": spec.kucoin_symbol,
        "baseCurrency": spec.base,
        "quoteCurrency": spec.quote,
        "feeCurrency": spec.quote,
        "market": "USDS" if spec.quote == "USDT" else spec.quote,
        "baseMinSize": rules.min_qty,
        "quoteMinSize": "0.1",
        "baseMaxSize": "10000000000",
        "quoteMaxSize": "99999999",
        "baseIncrement": rules.step,
        "quoteIncrement": "0.000001",
        "priceIncrement": rules.tick,
        "priceLimitRate": "0.1",
        "minFunds": rules.min_notional,
        "isMarginEnabled": True,
        "enableTrading": True,
        "feeCategory": 1,
        "makerFeeCoefficient": "1.00",
        "takerFeeCoefficient": "1.00",
        "st": False,
        "callauctionIsEnabled": False,
        "callauctionPriceFloor": None,
        "callauctionPriceCeiling": None,
        "callauctionFirstStageStartTime": None,
        "callauctionSecondStageStartTime": None,
        "callauctionThirdStageStartTime": None,
        "tradingStartTime": None,
    }


def candle_row(m: Market, r: list[int]) -> list[str]:
    # KuCoin order: time(sec), open, CLOSE, HIGH, LOW, volume, turnover.
    return [
        str(r[0] // 1000),
        price(m, r[1]),
        price(m, r[4]),
        price(m, r[2]),
        price(m, r[3]),
        qty(m, r[5]),
        quote(m, r[6]),
    ]


def _top(m: Market, rows: list[tuple[int, int]]) -> tuple[str | None, str | None]:
    """Best level as (price, size); (None, None) for an empty side, sent as null as KuCoin does."""
    return (price(m, rows[0][0]), qty(m, rows[0][1])) if rows else (None, None)


def stats(m: Market, s: list[int] | None, now: int) -> dict:
    """24 h stats; with no trade in the window the price fields are null, as on a quiet KuCoin pair."""
    bids, asks = m.book(1)
    traded = s is not None and s[5] > 0
    o, h, low, c, v, q = s[1:7] if s is not None and traded else (0, 0, 0, 0, 0, 0)
    avg = (q // v) if v else c
    return {
        "time": now,
        "symbol": m.spec.kucoin_symbol,
        "buy": _top(m, bids)[0],
        "sell": _top(m, asks)[0],
        "changeRate": (f"{Decimal(c - o) / Decimal(o):.4f}" if o else "0") if traded else None,
        "changePrice": price(m, c - o) if traded else None,
        "high": price(m, h) if traded else None,
        "low": price(m, low) if traded else None,
        "vol": qty(m, v),
        "volValue": quote(m, q),
        "last": price(m, m.last_price) if m.total_trades or traded else None,
        "averagePrice": price(m, avg) if traded else None,
        "takerFeeRate": "0.001",
        "makerFeeRate": "0.001",
        "takerCoefficient": "1",
        "makerCoefficient": "1",
    }


def level1(m: Market, now: int) -> dict:
    bids, asks = m.book(1)
    (bid, bid_size), (ask, ask_size) = _top(m, bids), _top(m, asks)
    return {
        "time": now,
        "sequence": str(m.book_version),
        "price": price(m, m.last_price),
        "size": qty(m, m.last_qty),
        "bestBid": bid,
        "bestBidSize": bid_size,
        "bestAsk": ask,
        "bestAskSize": ask_size,
    }


def history_trade(m: Market, t: Trade) -> dict:
    return {
        "sequence": str(t.trade_id),
        "price": price(m, t.price),
        "size": qty(m, t.qty),
        "side": t.taker_side,
        "time": t.ts * 1_000_000,
    }


def match_message(m: Market, t: Trade) -> str:
    sym = m.spec.kucoin_symbol
    return (
        f'{{"type":"message","topic":"/market/match:{sym}","subject":"trade.l3match","data":{{'
        f'"makerOrderId":"{t.trade_id * 2:024x}","price":"{price(m, t.price)}","sequence":"{t.trade_id}",'
        f'"side":"{t.taker_side}","size":"{qty(m, t.qty)}","symbol":"{sym}",'
        f'"takerOrderId":"{t.trade_id * 2 + 1:024x}","time":"{t.ts * 1_000_000}","tradeId":"{t.trade_id}",'
        f'"type":"match"}}}}'
    )


def ticker_data(m: Market, now: int) -> str:
    bids, asks = m.book(1)
    (bid, bid_size), (ask, ask_size) = _top(m, bids), _top(m, asks)
    tops = json.dumps({"bestAsk": ask, "bestAskSize": ask_size, "bestBid": bid, "bestBidSize": bid_size})
    return (
        f'{{"sequence":"{m.book_version}","price":"{price(m, m.last_price)}","size":"{qty(m, m.last_qty)}",'
        f'{tops[1:-1]},"time":{now}}}'
    )


def l2update_message(m: Market, diff: Diff, now: int) -> str:
    """trade.l2update: changed levels as [price, size, sequence]; size "0" removes the level."""
    sym, seq = m.spec.kucoin_symbol, str(diff.last_id)
    changes = {
        "asks": [[price(m, p), qty(m, q), seq] for p, q in sorted(diff.asks.items())],
        "bids": [[price(m, p), qty(m, q), seq] for p, q in sorted(diff.bids.items(), reverse=True)],
    }
    data = {
        "changes": changes,
        "sequenceEnd": diff.last_id,
        "sequenceStart": diff.first_id,
        "symbol": sym,
        "time": now,
    }
    message = {"topic": f"/market/level2:{sym}", "type": "message", "subject": "trade.l2update", "data": data}
    return json.dumps(message, separators=(",", ":"))


class _Num(str):
    """A number in a snapshot: sent as a JSON number with exactly these digits."""


def _json(value: object) -> str:
    if isinstance(value, _Num):
        return str.__str__(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, separators=(",", ":"))


def _change(m: Market, s: list[int] | None) -> dict:
    """One rolling window of a snapshot; no trade in it: the prices are null, the volumes 0."""
    if s is None or s[5] == 0:
        zero = _Num("0")
        return {"changePrice": None, "changeRate": None, "high": None, "low": None, "open": None} | {
            "vol": zero,
            "volValue": zero,
        }
    o, h, low, c, v, q = s[1:7]
    return {
        "changePrice": _Num(price(m, c - o)),
        "changeRate": _Num(f"{Decimal(c - o) / Decimal(o):.4f}" if o else "0"),
        "high": _Num(price(m, h)),
        "low": _Num(price(m, low)),
        "open": _Num(price(m, o)),
        "vol": _Num(qty(m, v)),
        "volValue": _Num(quote(m, q)),
    }


def snapshot_message(
    m: Market, hour: list[int] | None, hours4: list[int] | None, day: list[int] | None, now: int
) -> str:
    """/market/snapshot:{symbol} (subject trade.snapshot): the spec's fields, numbers as JSON
    numbers; a value that does not exist (empty side, no trade) is null."""
    spec, sym = m.spec, m.spec.kucoin_symbol
    bids, asks = m.book(1)
    change = _change(m, day)
    traded = day is not None and day[5] > 0
    last = _Num(price(m, m.last_price)) if m.total_trades or traded else None
    market = "USDS" if spec.quote == "USDT" else spec.quote
    data = {
        "askSize": _Num(qty(m, asks[0][1])) if asks else None,
        "averagePrice": _Num(price(m, day[6] // day[5])) if traded and day is not None else None,
        "baseCurrency": spec.base,
        "bidSize": _Num(qty(m, bids[0][1])) if bids else None,
        "board": 0,
        "buy": _Num(price(m, bids[0][0])) if bids else None,
        "changePrice": change["changePrice"],
        "changeRate": change["changeRate"],
        "close": last,
        "datetime": now,
        "high": change["high"],
        "lastTradedPrice": last,
        "low": change["low"],
        "makerCoefficient": _Num("1"),
        "makerFeeRate": _Num("0.001"),
        "marginTrade": True,
        "mark": 0,
        "market": market,
        "marketChange1h": _change(m, hour),
        "marketChange24h": change,
        "marketChange4h": _change(m, hours4),
        "markets": [market],
        "open": change["open"],
        "quoteCurrency": spec.quote,
        "sell": _Num(price(m, asks[0][0])) if asks else None,
        "sort": 100,
        "symbol": sym,
        "symbolCode": sym,
        "takerCoefficient": _Num("1"),
        "takerFeeRate": _Num("0.001"),
        "trading": True,
        "vol": change["vol"],
        "volValue": change["volValue"],
    }
    envelope = {"sequence": str(m.book_version), "data": data}
    return f'{{"topic":"/market/snapshot:{sym}","type":"message","subject":"trade.snapshot","data":{_json(envelope)}}}'
