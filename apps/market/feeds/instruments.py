"""exchangeInfo / api/v2/symbols -> Instrument field dicts (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

_ZERO = Decimal(0)


def binance_instruments(exchange_info: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for s in exchange_info.get("symbols", []):
        filters = {f["filterType"]: f for f in s.get("filters", [])}
        price = filters.get("PRICE_FILTER", {})
        lot = filters.get("LOT_SIZE", {})
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
        out.append(
            {
                "symbol": s["symbol"],
                "exchange_symbol": s["symbol"],
                "base_asset": s["baseAsset"],
                "quote_asset": s["quoteAsset"],
                "status": s.get("status", "TRADING"),
                "tick_size": Decimal(price.get("tickSize", "0")),
                "step_size": Decimal(lot.get("stepSize", "0")),
                "min_qty": Decimal(lot.get("minQty", "0")),
                "max_qty": Decimal(lot.get("maxQty", "0")),
                "min_notional": Decimal(notional.get("minNotional", "0")),
            }
        )
    return out


def kucoin_instruments(symbols: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in symbols:
        out.append(
            {
                "symbol": s["symbol"].replace("-", ""),
                "exchange_symbol": s["symbol"],
                "base_asset": s["baseCurrency"],
                "quote_asset": s["quoteCurrency"],
                "status": "TRADING" if s.get("enableTrading", True) else "HALT",
                "tick_size": Decimal(s.get("priceIncrement") or "0"),
                "step_size": Decimal(s.get("baseIncrement") or "0"),
                "min_qty": Decimal(s.get("baseMinSize") or "0"),
                "max_qty": Decimal(s.get("baseMaxSize") or "0"),
                "min_notional": Decimal(s.get("minFunds") or s.get("quoteMinSize") or "0"),
            }
        )
    return out
