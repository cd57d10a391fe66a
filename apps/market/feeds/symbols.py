"""Symbol and timeframe names per exchange (pure).

Neutral symbols are the Binance form (BTCUSDT); KuCoin writes BTC-USDT.
"""

from __future__ import annotations

TIMEFRAMES: tuple[str, ...] = ("1m", "5m", "15m", "1h", "4h", "1d")
TIMEFRAME_MS: dict[str, int] = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}
KUCOIN_TYPES: dict[str, str] = {"1m": "1min", "5m": "5min", "15m": "15min", "1h": "1hour", "4h": "4hour", "1d": "1day"}
KUCOIN_TYPES_REVERSE: dict[str, str] = {v: k for k, v in KUCOIN_TYPES.items()}

# Longest first so that e.g. ...FDUSD is not read as ...USD.
QUOTE_ASSETS: tuple[str, ...] = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "EUR", "TRY", "BTC", "ETH", "BNB", "KCS")


def split_symbol(symbol: str) -> tuple[str, str]:
    """BTCUSDT -> (BTC, USDT). Raises ValueError for a quote we do not know."""
    if "-" in symbol:
        base, quote = symbol.split("-", 1)
        return base, quote
    for quote in QUOTE_ASSETS:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    raise ValueError(f"cannot split symbol {symbol!r} into base and quote")


def to_kucoin(symbol: str) -> str:
    base, quote = split_symbol(symbol)
    return f"{base}-{quote}"


def from_kucoin(symbol: str) -> str:
    return symbol.replace("-", "")


def bucket_start(ts_ms: int, timeframe: str) -> int:
    size = TIMEFRAME_MS[timeframe]
    return ts_ms - ts_ms % size
