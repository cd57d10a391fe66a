"""Candle aggregation from trades (pure, hot path).

Each trade updates only the forming 1-minute candle; when a minute closes it is folded into
the 5m, 15m, 1h, 4h and 1d accumulators, so the per-trade cost does not grow with the number
of timeframes. The forming candle of a larger timeframe is its accumulator merged with the
forming minute, computed on demand (a few times a second for pushes, not per trade).

A forming candle can also be seeded from the exchange (REST backfill or a kline stream) so a
feed that starts mid-bucket shows the full bucket, not just what it saw since start.
"""

from __future__ import annotations

from decimal import Decimal

from apps.market.events import KlineEvent
from apps.market.feeds.symbols import TIMEFRAME_MS, TIMEFRAMES

_HIGHER = TIMEFRAMES[1:]


class Bar:
    """A mutable candle. ``inc_*`` is how much of the forming minute a seeded accumulator
    already contains (the exchange snapshot included it), so merging does not count it twice."""

    __slots__ = ("open_ms", "o", "h", "l", "c", "v", "qv", "n", "inc_v", "inc_qv", "inc_n")

    def __init__(self, open_ms: int, o: Decimal, h: Decimal, low: Decimal, c: Decimal, v: Decimal, qv: Decimal, n: int):
        self.open_ms = open_ms
        self.o, self.h, self.l, self.c, self.v, self.qv, self.n = o, h, low, c, v, qv, n
        self.inc_v = self.inc_qv = Decimal(0)
        self.inc_n = 0

    def event(self, exchange: str, symbol: str, timeframe: str, *, closed: bool) -> KlineEvent:
        close_ms = self.open_ms + TIMEFRAME_MS[timeframe] - 1
        return KlineEvent(
            exchange, symbol, timeframe, self.open_ms, self.o, self.h, self.l, self.c, self.v, self.qv, closed, close_ms
        )


class SymbolCandles:
    __slots__ = ("exchange", "symbol", "minute", "acc")

    def __init__(self, exchange: str, symbol: str):
        self.exchange = exchange
        self.symbol = symbol
        self.minute: Bar | None = None
        self.acc: dict[str, Bar] = {}

    def add_trade(self, ts_ms: int, price: Decimal, qty: Decimal) -> list[KlineEvent]:
        m = self.minute
        start = ts_ms - ts_ms % 60_000
        if m is not None and m.open_ms == start:
            if price > m.h:
                m.h = price
            elif price < m.l:
                m.l = price
            m.c = price
            m.v += qty
            m.qv += price * qty
            m.n += 1
            return []
        if m is not None and start < m.open_ms:
            return []  # a late trade for a closed minute: the exchange's candle is the truth
        closed = self._roll(ts_ms)
        self.minute = Bar(start, price, price, price, price, qty, price * qty, 1)
        return closed

    def _roll(self, ts_ms: int) -> list[KlineEvent]:
        """Close the forming minute (and every larger bucket that ts_ms has left)."""
        closed: list[KlineEvent] = []
        m = self.minute
        if m is not None:
            closed.append(m.event(self.exchange, self.symbol, "1m", closed=True))
            self._fold(m)
            self.minute = None
        for tf in _HIGHER:
            bar = self.acc.get(tf)
            if bar is not None and ts_ms - ts_ms % TIMEFRAME_MS[tf] != bar.open_ms:
                closed.append(bar.event(self.exchange, self.symbol, tf, closed=True))
                del self.acc[tf]
        return closed

    def _fold(self, m: Bar) -> None:
        for tf in _HIGHER:
            start = m.open_ms - m.open_ms % TIMEFRAME_MS[tf]
            bar = self.acc.get(tf)
            if bar is None or bar.open_ms != start:
                self.acc[tf] = Bar(start, m.o, m.h, m.l, m.c, m.v, m.qv, m.n)
                continue
            _merge_into(bar, m)
            bar.inc_v = bar.inc_qv = Decimal(0)
            bar.inc_n = 0

    def close_until(self, now_ms: int) -> list[KlineEvent]:
        """Time-driven close: buckets that ended before now_ms even if no trade came since."""
        m = self.minute
        if m is not None and now_ms - now_ms % 60_000 != m.open_ms:
            return self._roll(now_ms)
        return []

    def forming(self, timeframe: str) -> KlineEvent | None:
        m = self.minute
        if timeframe == "1m":
            return m.event(self.exchange, self.symbol, "1m", closed=False) if m else None
        bar = self.acc.get(timeframe)
        in_bucket = m is not None and m.open_ms - m.open_ms % TIMEFRAME_MS[timeframe] == (bar.open_ms if bar else None)
        if bar is None:
            if m is None:
                return None
            start = m.open_ms - m.open_ms % TIMEFRAME_MS[timeframe]
            return Bar(start, m.o, m.h, m.l, m.c, m.v, m.qv, m.n).event(
                self.exchange, self.symbol, timeframe, closed=False
            )
        if not in_bucket:
            return bar.event(self.exchange, self.symbol, timeframe, closed=False)
        merged = Bar(bar.open_ms, bar.o, bar.h, bar.l, bar.c, bar.v, bar.qv, bar.n)
        merged.inc_v, merged.inc_qv, merged.inc_n = bar.inc_v, bar.inc_qv, bar.inc_n
        _merge_into(merged, m)  # type: ignore[arg-type]
        return merged.event(self.exchange, self.symbol, timeframe, closed=False)

    def seed(self, k: KlineEvent) -> None:
        """Take the exchange's view of a forming candle (REST backfill's last row, or a kline)."""
        m = self.minute
        if k.timeframe == "1m":
            if m is None or k.open_time_ms >= m.open_ms:
                if m is not None and k.open_time_ms > m.open_ms:
                    self._roll(k.open_time_ms)
                self.minute = Bar(k.open_time_ms, k.open, k.high, k.low, k.close, k.volume, k.quote_volume, 0)
            return
        bar = Bar(k.open_time_ms, k.open, k.high, k.low, k.close, k.volume, k.quote_volume, 0)
        if m is not None and m.open_ms - m.open_ms % TIMEFRAME_MS[k.timeframe] == k.open_time_ms:
            bar.inc_v, bar.inc_qv, bar.inc_n = m.v, m.qv, m.n
        self.acc[k.timeframe] = bar


def _merge_into(bar: Bar, m: Bar) -> None:
    if m.h > bar.h:
        bar.h = m.h
    if m.l < bar.l:
        bar.l = m.l
    bar.c = m.c
    bar.v += m.v - bar.inc_v
    bar.qv += m.qv - bar.inc_qv
    bar.n += m.n - bar.inc_n


class CandleAggregator:
    """Forming candles for every symbol of one exchange."""

    def __init__(self, exchange: str):
        self.exchange = exchange
        self.symbols: dict[str, SymbolCandles] = {}

    def of(self, symbol: str) -> SymbolCandles:
        sc = self.symbols.get(symbol)
        if sc is None:
            sc = self.symbols[symbol] = SymbolCandles(self.exchange, symbol)
        return sc

    def add_trade(self, symbol: str, ts_ms: int, price: Decimal, qty: Decimal) -> list[KlineEvent]:
        return self.of(symbol).add_trade(ts_ms, price, qty)

    def forming(self, symbol: str, timeframe: str) -> KlineEvent | None:
        sc = self.symbols.get(symbol)
        return sc.forming(timeframe) if sc else None

    def close_until(self, now_ms: int) -> list[KlineEvent]:
        out: list[KlineEvent] = []
        for sc in self.symbols.values():
            out += sc.close_until(now_ms)
        return out

    def reset(self, symbol: str | None = None) -> None:
        """Forget forming state (after a reconnect the exchange's candles are re-seeded)."""
        if symbol is None:
            self.symbols.clear()
        else:
            self.symbols.pop(symbol, None)
