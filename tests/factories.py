"""Factories shared by the test packages (portfolio, bots, api, ui)."""

from __future__ import annotations

from decimal import Decimal

from apps.market.models import Instrument

D = Decimal


def instrument_make(exchange: str = "binance", symbol: str = "BTCUSDT", **overrides: object) -> Instrument:
    """A USDT spot instrument with Binance-like BTC filters; ``overrides`` change any field."""
    base = symbol.removesuffix("USDT")
    fields: dict[str, object] = {
        "exchange_symbol": symbol if exchange == "binance" else f"{base}-USDT",
        "base_asset": base,
        "quote_asset": "USDT",
        "tick_size": D("0.01"),
        "step_size": D("0.00001"),
        "min_qty": D("0.00001"),
        "max_qty": D("9000"),
        "min_notional": D("5"),
    }
    fields.update(overrides)
    return Instrument.objects.create(exchange=exchange, symbol=symbol, **fields)
