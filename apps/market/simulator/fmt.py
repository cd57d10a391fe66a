"""Wire formatting of simulator state for both venues (pure). Integers in, JSON-ready out."""

from __future__ import annotations

from decimal import Decimal

from .depth import Diff
from .market import Market, Trade
from .symbols import fmt_units


def _bn(n: int, decimals: int) -> str:
    """Binance style: always 8 decimals (a step of 1 is "2702.00000000", not scaled)."""
    if decimals > 8:
        n = (n + 5 * 10 ** (decimals - 9)) // 10 ** (decimals - 8)
    else:
        n *= 10 ** (8 - decimals)
    return fmt_units(n, 8, True)


def bn_price(m: Market, n: int) -> str:
    return _bn(n, m.pd)


def bn_qty(m: Market, n: int) -> str:
    return _bn(n, m.qd)


def bn_quote(m: Market, n: int) -> str:
    return _bn(n, m.pd + m.qd)


def kc_price(m: Market, n: int) -> str:
    return fmt_units(n, m.pd, False)


def kc_qty(m: Market, n: int) -> str:
    return fmt_units(n, m.qd, False)


def kc_quote(m: Market, n: int) -> str:
    return fmt_units(n, m.pd + m.qd, False)


def binance_levels(m: Market, levels: list[tuple[int, int]]) -> list[list[str]]:
    return [[_bn(p, m.pd), _bn(q, m.qd)] for p, q in levels]


def binance_symbol_info(m: Market) -> dict:
    spec, rules = m.spec, m.spec.rules("binance")
    tick, step = Decimal(rules.tick), Decimal(rules.step)
    return {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": 8,
        "quoteAsset": spec.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": True,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": _bn(m.tick, m.pd),
                "maxPrice": "1000000.00000000",
                "tickSize": f"{tick:.8f}",
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": f"{Decimal(rules.min_qty):.8f}",
                "maxQty": "9000.00000000" if spec.price > 1000 else "90000000.00000000",
                "stepSize": f"{step:.8f}",
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": "100.00000000",
                "stepSize": "0.00000000",
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": f"{Decimal(rules.min_notional):.8f}",
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ],
        "permissions": [],
        "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"],
    }


def binance_kline_row(m: Market, r: list[int], length: int) -> list:
    return [
        r[0],
        _bn(r[1], m.pd),
        _bn(r[2], m.pd),
        _bn(r[3], m.pd),
        _bn(r[4], m.pd),
        _bn(r[5], m.qd),
        r[0] + length - 1,
        _bn(r[6], m.pd + m.qd),
        r[7],
        _bn(r[8], m.qd),
        _bn(r[9], m.pd + m.qd),
        "0",
    ]


def binance_kline_event(m: Market, r: list[int], interval: str, length: int, closed: bool, now: int) -> str:
    k = (
        f'{{"t":{r[0]},"T":{r[0] + length - 1},"s":"{m.spec.symbol}","i":"{interval}","f":{r[10] or -1},'
        f'"L":{r[11] or -1},"o":"{_bn(r[1], m.pd)}","c":"{_bn(r[4], m.pd)}","h":"{_bn(r[2], m.pd)}",'
        f'"l":"{_bn(r[3], m.pd)}","v":"{_bn(r[5], m.qd)}","n":{r[7]},"x":{"true" if closed else "false"},'
        f'"q":"{_bn(r[6], m.pd + m.qd)}","V":"{_bn(r[8], m.qd)}","Q":"{_bn(r[9], m.pd + m.qd)}","B":"0"}}'
    )
    return f'{{"e":"kline","E":{now},"s":"{m.spec.symbol}","k":{k}}}'


def binance_trade_event(m: Market, t: Trade, now: int) -> str:
    return (
        f'{{"e":"trade","E":{now},"s":"{m.spec.symbol}","t":{t.trade_id},"p":"{_bn(t.price, m.pd)}",'
        f'"q":"{_bn(t.qty, m.qd)}","T":{t.ts},"m":{"true" if t.buyer_is_maker else "false"},"M":true}}'
    )


def binance_agg_event(m: Market, t: Trade, now: int) -> str:
    return (
        f'{{"e":"aggTrade","E":{now},"s":"{m.spec.symbol}","a":{t.trade_id},"p":"{_bn(t.price, m.pd)}",'
        f'"q":"{_bn(t.qty, m.qd)}","f":{t.trade_id},"l":{t.trade_id},"T":{t.ts},'
        f'"m":{"true" if t.buyer_is_maker else "false"},"M":true}}'
    )


def binance_trade_rest(m: Market, t: Trade) -> dict:
    return {
        "id": t.trade_id,
        "price": _bn(t.price, m.pd),
        "qty": _bn(t.qty, m.qd),
        "quoteQty": _bn(t.price * t.qty, m.pd + m.qd),
        "time": t.ts,
        "isBuyerMaker": t.buyer_is_maker,
        "isBestMatch": True,
    }


def binance_book_ticker(m: Market) -> dict:
    bids, asks = m.book(1)
    return {
        "symbol": m.spec.symbol,
        "bidPrice": _bn(bids[0][0], m.pd),
        "bidQty": _bn(bids[0][1], m.qd),
        "askPrice": _bn(asks[0][0], m.pd),
        "askQty": _bn(asks[0][1], m.qd),
    }


def binance_ticker_rest(m: Market, s: list[int] | None, now: int, mini: bool = False) -> dict:
    s = s or [now, m.last_price, m.last_price, m.last_price, m.last_price, 0, 0, 0, 0, 0, 0, 0]
    o, h, low, c, v, q = s[1], s[2], s[3], s[4], s[5], s[6]
    out = {
        "symbol": m.spec.symbol,
        "openPrice": _bn(o, m.pd),
        "highPrice": _bn(h, m.pd),
        "lowPrice": _bn(low, m.pd),
        "lastPrice": _bn(c, m.pd),
        "volume": _bn(v, m.qd),
        "quoteVolume": _bn(q, m.pd + m.qd),
        "openTime": now - 86_400_000,
        "closeTime": now,
        "firstId": s[10] or -1,
        "lastId": s[11] or -1,
        "count": s[7],
    }
    if mini:
        return out
    bid, ask = m.book(1)
    change = c - o
    vwap = (q // v) if v else c
    return {
        "symbol": m.spec.symbol,
        "priceChange": _bn(change, m.pd),
        "priceChangePercent": f"{Decimal(change * 100) / Decimal(o):.3f}" if o else "0.000",
        "weightedAvgPrice": _bn(vwap, m.pd),
        "prevClosePrice": _bn(o, m.pd),
        "lastPrice": _bn(c, m.pd),
        "lastQty": _bn(m.last_qty, m.qd),
        "bidPrice": _bn(bid[0][0], m.pd),
        "bidQty": _bn(bid[0][1], m.qd),
        "askPrice": _bn(ask[0][0], m.pd),
        "askQty": _bn(ask[0][1], m.qd),
        **{
            k: out[k]
            for k in (
                "openPrice",
                "highPrice",
                "lowPrice",
                "volume",
                "quoteVolume",
                "openTime",
                "closeTime",
                "firstId",
                "lastId",
                "count",
            )
        },
    }


def binance_ticker_event(m: Market, s: list[int] | None, now: int, mini: bool) -> str:
    r = binance_ticker_rest(m, s, now, mini)
    if mini:
        return (
            f'{{"e":"24hrMiniTicker","E":{now},"s":"{m.spec.symbol}","c":"{r["lastPrice"]}","o":"{r["openPrice"]}",'
            f'"h":"{r["highPrice"]}","l":"{r["lowPrice"]}","v":"{r["volume"]}","q":"{r["quoteVolume"]}"}}'
        )
    return (
        f'{{"e":"24hrTicker","E":{now},"s":"{m.spec.symbol}","p":"{r["priceChange"]}","P":"{r["priceChangePercent"]}",'
        f'"w":"{r["weightedAvgPrice"]}","x":"{r["prevClosePrice"]}","c":"{r["lastPrice"]}","Q":"{r["lastQty"]}",'
        f'"b":"{r["bidPrice"]}","B":"{r["bidQty"]}","a":"{r["askPrice"]}","A":"{r["askQty"]}","o":"{r["openPrice"]}",'
        f'"h":"{r["highPrice"]}","l":"{r["lowPrice"]}","v":"{r["volume"]}","q":"{r["quoteVolume"]}",'
        f'"O":{r["openTime"]},"C":{r["closeTime"]},"F":{r["firstId"]},"L":{r["lastId"]},"n":{r["count"]}}}'
    )


def binance_depth_update(m: Market, diff: Diff, now: int) -> str:
    """A diff-depth event: bids best first, asks best first, quantity 0 removes a level."""
    bids = ",".join(f'["{_bn(p, m.pd)}","{_bn(q, m.qd)}"]' for p, q in sorted(diff.bids.items(), reverse=True))
    asks = ",".join(f'["{_bn(p, m.pd)}","{_bn(q, m.qd)}"]' for p, q in sorted(diff.asks.items()))
    return (
        f'{{"e":"depthUpdate","E":{now},"s":"{m.spec.symbol}","U":{diff.first_id},"u":{diff.last_id},'
        f'"b":[{bids}],"a":[{asks}]}}'
    )
