from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np
import talib

from apps.market.indicators import Bar, IndicatorParams
from apps.market.indicators.selectors import from_ms
from apps.market.models import Candle

RTOL = 1e-9
ATOL = 1e-12
ETH = "binance-ETHBTC-5m-2018-01.csv.gz"


def as_array(values: Iterable[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_matches(name: str, ours: Iterable[float | None], reference: np.ndarray, *, rtol: float = RTOL) -> None:
    """Same warm-up (NaN exactly where the reference has NaN), then |a - b| <= rtol*|b| + ATOL."""
    got = as_array(ours)
    assert got.shape == reference.shape, name
    assert np.array_equal(np.isnan(got), np.isnan(reference)), f"{name}: warm-up differs from TA-Lib"
    ok = ~np.isnan(reference)
    err = np.abs(got[ok] - reference[ok])
    bound = rtol * np.abs(reference[ok]) + ATOL
    if err.size:
        worst = int(np.argmax(err / bound))
        assert err[worst] <= bound[worst], f"{name}: {got[ok][worst]!r} vs TA-Lib {reference[ok][worst]!r}"


def talib_reference(bars: Sequence[Bar], params: IndicatorParams | None = None) -> dict[str, np.ndarray]:
    p = params or IndicatorParams()
    close = np.array([b.close for b in bars], dtype=float)
    high = np.array([b.high for b in bars], dtype=float)
    low = np.array([b.low for b in bars], dtype=float)
    macd, signal, hist = talib.MACD(close, p.macd_fast, p.macd_slow, p.macd_signal)
    upper, middle, lower = talib.BBANDS(close, p.bb_period, p.bb_nbdev, p.bb_nbdev, 0)
    return {
        "rsi": talib.RSI(close, p.rsi_period),
        "macd": macd,
        "macd_signal": signal,
        "macd_hist": hist,
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
        "sma": talib.SMA(close, p.sma_period),
        "ema": talib.EMA(close, p.ema_period),
        "atr": talib.ATR(high, low, close, p.atr_period),
    }


def bars_from_closes(closes: Iterable[float], *, spread: float = 0.0, step_ms: int = 60_000) -> list[Bar]:
    return [
        Bar(i * step_ms, float(c), float(c) * (1 + spread), float(c) * (1 - spread), float(c), 1.0)
        for i, c in enumerate(closes)
    ]


def store_bars(bars: list[Bar], *, symbol: str = "ETHBTC", timeframe: str = "5m") -> None:
    Candle.objects.bulk_create(
        Candle(
            exchange="binance",
            symbol=symbol,
            timeframe=timeframe,
            open_time=from_ms(b.open_time_ms),
            open=Decimal(repr(b.open)),
            high=Decimal(repr(b.high)),
            low=Decimal(repr(b.low)),
            close=Decimal(repr(b.close)),
            volume=Decimal(repr(b.volume)),
            quote_volume=Decimal(0),
        )
        for b in bars
    )
