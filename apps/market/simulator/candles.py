"""Kline assembly: deterministic history before the live epoch + candles built from live trades.

Pure (numpy, no I/O). Rows are int lists in the layout of ``market`` (open_ms, o, h, l, c,
v, q, n, vb, qb, first_id, last_id).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict

import numpy as np

from .intervals import DAY_MS, FIXED_INTERVALS, MONTH, align, next_open, opens_from, opens_until
from .market import FIRST, LAST, MAX_LIVE_SECONDS, MINUTE_MS, SECOND_MS, Market, V
from .market import H as _H
from .market import L as _L
from .symbols import KUCOIN

_CACHE_ROWS = 200_000
COARSE_MINUTES = 120  # intervals this long or longer are built from hourly bars
MINUTE_BAR_BUDGET = 2_000_000  # model samples per history fill, minute bars
HOUR_BAR_BUDGET = 200_000 * 60  # ... hourly bars (in minutes covered)
# Shared by every simulator in the process: history is a pure function of the market's
# identity, so test suites that start many simulators compute each bucket once.
_HISTORY_CACHE: OrderedDict[tuple, list[int]] = OrderedDict()


class KlineBook:
    """Serves klines for one market; history buckets are cached (they never change)."""

    def __init__(self, market: Market) -> None:
        self.market = market
        m = market
        self._identity = (m.model.key, m.basis, m.tick, m.pd, m.step, m.trades_per_min, m.size_units, m.listed_ms)
        self._cache = _HISTORY_CACHE

    def klines(
        self, interval: str, *, start_ms: int | None, end_ms: int | None, limit: int, now_ms: int
    ) -> list[list[int]]:
        current = align(now_ms, interval)
        last = current if end_ms is None else min(current, align(end_ms, interval))
        if start_ms is not None:
            first = align(start_ms, interval)
            first = first if first == start_ms else next_open(first, interval)
            first = max(first, align(self.market.listed_ms, interval))  # from the listing on, as both venues do
            opens = opens_from(interval, first, last, limit)
        else:
            opens = opens_until(interval, last, limit)
        rows = []
        for b in opens:
            row = self.bucket(interval, b, now_ms)
            if row is not None:
                rows.append(row)
        return rows

    def bucket(self, interval: str, open_ms: int, now_ms: int) -> list[int] | None:
        if interval == "1s":
            return self._second(open_ms, now_ms)
        if interval == MONTH:
            return self._month(open_ms, now_ms)
        length, _ = FIXED_INTERVALS[interval]
        if open_ms + length <= self.market.listed_ms:
            return None  # before the listing there is nothing, as both venues answer
        epoch = self.market.epoch_minute * MINUTE_MS
        parts: list[list[int]] = []
        if open_ms < epoch:
            hist = self._history(interval, open_ms)
            if hist is not None:
                parts.append(hist)
        if open_ms + length > epoch:
            first_min = max(open_ms, epoch) // MINUTE_MS
            parts.extend(self.market.live_minutes(first_min, (open_ms + length) // MINUTE_MS))
        if open_ms > now_ms:
            return None
        if not parts:
            return self._quiet(open_ms)
        row = merge_rows(open_ms, parts)
        if row[V] == 0 and self.market.exchange == KUCOIN:
            return None  # KuCoin omits intervals without trades
        return row

    def _quiet(self, open_ms: int) -> list[int] | None:
        """A live interval without trades: KuCoin omits it; Binance reports it flat at the
        previous close with zero volume."""
        market = self.market
        if market.exchange == KUCOIN:
            return None
        minute = open_ms // MINUTE_MS
        i = bisect_left(market.minute_keys, minute)
        if i:
            close = market.minutes[market.minute_keys[i - 1]][4]
        else:
            before = self._history("1m", (market.epoch_minute - 1) * MINUTE_MS)
            if before is None:
                return None
            close = before[4]
        return [open_ms, close, close, close, close, 0, 0, 0, 0, 0, 0, 0]

    def _month(self, open_ms: int, now_ms: int) -> list[int] | None:
        """A calendar month is the merge of its days (each as the venue serves it: KuCoin's
        days without trades are absent, days before the listing do not exist)."""
        if open_ms > now_ms:
            return None
        end = min(next_open(open_ms, MONTH), now_ms + 1)
        days = [self.bucket("1d", day, now_ms) for day in range(open_ms, end, DAY_MS)]
        parts = [day for day in days if day is not None]
        return merge_rows(open_ms, parts) if parts else None

    def _second(self, open_ms: int, now_ms: int) -> list[int] | None:
        market = self.market
        if open_ms > now_ms:
            return None
        if open_ms < market.listed_ms:
            return None
        if open_ms < market.epoch_minute * MINUTE_MS:
            return market.history_second(open_ms)
        if open_ms < now_ms - MAX_LIVE_SECONDS * SECOND_MS:
            return None  # older live seconds are not kept
        return market.live_second(open_ms // SECOND_MS)

    def _history(self, interval: str, open_ms: int) -> list[int] | None:
        key = (self._identity, interval, open_ms)
        row = self._cache.get(key)
        if row is not None:
            return row
        return self._fill_history(interval, open_ms)

    def _fill_history(self, interval: str, open_ms: int) -> list[int] | None:
        """Compute a run of consecutive history buckets at once (vectorized); cache the complete ones.

        Buckets of 2h and more are reduced from hourly bars (minute bars only at the edges), so
        a 1w x 1000 request costs ~170k model samples, not ~10M: long history never stalls the
        loop both exchanges and all streams share (bench/sim_history.py)."""
        length, _ = FIXED_INTERVALS[interval]
        per = length // MINUTE_MS
        market = self.market
        first_min = open_ms // MINUTE_MS
        n_buckets = max(1, min(1000, (HOUR_BAR_BUDGET if per >= COARSE_MINUTES else MINUTE_BAR_BUDGET) // per))
        opens = first_min + np.arange(n_buckets, dtype=np.int64) * per
        span_start = max(first_min, -(-market.listed_ms // MINUTE_MS))
        span_end = min(first_min + n_buckets * per, market.epoch_minute)
        opens = opens[(opens < span_end) & (opens + per > span_start)]
        if span_end <= span_start or not len(opens):
            return None
        bars = self._bars(span_start, span_end, coarse=per >= COARSE_MINUTES)
        starts = np.searchsorted(bars["minute"], np.maximum(opens, span_start))
        rows = _reduce(bars, starts, opens * MINUTE_MS)
        for r in rows:
            if r[0] + length <= market.epoch_minute * MINUTE_MS:  # a bucket cut by the live epoch is not history
                self._cache[(self._identity, interval, r[0])] = r
        while len(self._cache) > _CACHE_ROWS:
            self._cache.popitem(last=False)
        return rows[0] if rows and rows[0][0] == open_ms else None

    def _bars(self, start_min: int, end_min: int, *, coarse: bool) -> dict[str, np.ndarray]:
        """Model bars covering [start_min, end_min): minute bars, or hourly bars with minute bars
        for the partial hours at either end."""
        market = self.market
        if not coarse:
            return market.history_bars(start_min, end_min - start_min)
        first_hour, end_hour = -(-start_min // 60) * 60, end_min // 60 * 60
        if end_hour <= first_hour:
            return market.history_bars(start_min, end_min - start_min)
        pieces = [
            market.history_bars(start_min, first_hour - start_min),
            market.history_hour_bars(first_hour, (end_hour - first_hour) // 60),
            market.history_bars(end_hour, end_min - end_hour),
        ]
        return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[1]}


def _reduce(bars: dict[str, np.ndarray], starts: np.ndarray, opens_ms: np.ndarray) -> list[list[int]]:
    ends = np.append(starts[1:], len(bars["o"])) - 1
    cols = {
        "o": bars["o"][starts],
        "c": bars["c"][ends],
        "h": np.maximum.reduceat(bars["h"], starts),
        "l": np.minimum.reduceat(bars["l"], starts),
        "v": np.add.reduceat(bars["v"], starts),
        "q": np.add.reduceat(bars["q"], starts),
        "n": np.add.reduceat(bars["n"], starts),
        "vb": np.add.reduceat(bars["vb"], starts),
        "qb": np.add.reduceat(bars["qb"], starts),
        "t": opens_ms,
    }
    lists = {k: _ints(v) for k, v in cols.items()}
    return [
        [
            lists["t"][i],
            lists["o"][i],
            lists["h"][i],
            lists["l"][i],
            lists["c"][i],
            lists["v"][i],
            lists["q"][i],
            lists["n"][i],
            lists["vb"][i],
            lists["qb"][i],
            0,
            0,
        ]
        for i in range(len(starts))
    ]


def _ints(values: np.ndarray) -> list[int]:
    """Whole units as Python ints. Quote volumes are in units of 10^-(pd+qd) and pass int64's
    range (a KuCoin BTC week is ~2e19 units): a cast to int64 turned them into -2^63."""
    if values.dtype.kind != "f":
        return values.tolist()
    return [int(x) for x in np.rint(values).tolist()]


def merge_rows(open_ms: int, parts: list[list[int]]) -> list[int]:
    first, last = parts[0], parts[-1]
    row = [open_ms, first[1], max(p[_H] for p in parts), min(p[_L] for p in parts), last[4]]
    row += [sum(p[i] for p in parts) for i in range(5, 10)]
    row += [next((p[FIRST] for p in parts if p[FIRST]), 0), last[LAST]]
    return row


def rolling_24h(book: KlineBook, now_ms: int) -> list[int] | None:
    """24 h rolling statistics from 1m rows: [open_ms, o, h, l, c, v, q, n, vb, qb, first, last]."""
    return rolling_windows(book, now_ms, (1440,))[0]


def rolling_windows(book: KlineBook, now_ms: int, minutes: tuple[int, ...]) -> list[list[int] | None]:
    """Rolling statistics over the last N minutes for each N (at most a day), one 1m read for all."""
    current = align(now_ms, "1m")
    rows = book.klines("1m", start_ms=current - DAY_MS + MINUTE_MS, end_ms=now_ms, limit=1440, now_ms=now_ms)
    out: list[list[int] | None] = []
    for n in minutes:
        window = [r for r in rows if r[0] > current - n * MINUTE_MS]
        out.append(merge_rows(now_ms - n * MINUTE_MS, window) if window else None)
    return out
