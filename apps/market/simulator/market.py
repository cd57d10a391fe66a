"""One simulated market (exchange, symbol): trades -> book -> 1m candles. Pure, no I/O.

Live trades are a deterministic function of their index: trade k happens at
``start + (k + jitter_k) * spacing`` and its price comes from the price model at that
instant, so two simulators with the same seed and start time print the same tape.
Scripted paths (tests) and replayed tapes (recordings) take precedence over the model.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .intervals import SECOND_MS
from .model import MINUTE_MS, PriceModel, hash_normal, hash_uniform, stable_key
from .symbols import SymbolSpec, decimals_of
from .thin import EMPTY_SIDE_PROBABILITY, THIN_SPACING_MS, day_start

# Candle row fields (ints): open_ms, o, h, l, c, v, q, n, vb, qb, first_id, last_id.
# q/qb are in units of 10**-(price_decimals + qty_decimals).
OPEN, H, L, C, V, Q, N, VB, QB, FIRST, LAST = range(1, 12)
MAX_RECENT = 1000
MAX_LIVE_SECONDS = 3600  # 1s klines built from live trades are kept this long
BOOK_BUSY_LEVELS = 5  # the best levels of a side redraw their sizes at every book version
BOOK_REDRAW_VERSIONS = 10  # deeper levels about once every this many versions [unknown: chosen]


@dataclass(slots=True)
class Trade:
    trade_id: int
    ts: int
    price: int
    qty: int
    buyer_is_maker: bool  # True when the taker sold

    @property
    def taker_side(self) -> str:
        return "sell" if self.buyer_is_maker else "buy"


@dataclass(slots=True)
class ScriptedTrade:
    ts: int | None  # None: printed at the model's next trade time (price paths)
    price: int
    qty: int | None
    side: str | None


@dataclass
class Market:
    exchange: str
    spec: SymbolSpec
    seed: int
    start_ms: int
    trade_rate_hz: float
    clock_speed: float
    pd: int = 0
    qd: int = 0
    tick: int = 1
    step: int = 1
    minutes: dict[int, list[int]] = field(default_factory=dict)
    minute_keys: list[int] = field(default_factory=list)
    recent: deque[Trade] = field(default_factory=lambda: deque(maxlen=MAX_RECENT))
    script: deque[ScriptedTrade] = field(default_factory=deque)
    seconds: dict[int, list[int]] = field(default_factory=dict)  # Binance only: 1s klines
    second_keys: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        rules = self.spec.rules(self.exchange)
        self.pd, self.tick = decimals_of(rules.tick)
        self.qd, self.step = decimals_of(rules.step)
        self.price_unit = 10.0**-self.pd
        self.key = stable_key(self.seed, self.exchange, self.spec.symbol)
        self.model = PriceModel(
            key=stable_key(self.seed, self.spec.symbol), anchor=self.spec.price, daily_vol=self.spec.daily_vol
        )
        # Venues quote the same asset a hair apart: a small constant basis per exchange.
        self.factor = math.exp(0.0003 * float(hash_normal(np.array([self.key]), 3)[0]))
        self.basis = self.factor  # history keeps the original basis whatever scripts do later
        self.spacing_ms = 1000.0 * self.clock_speed / max(self.trade_rate_hz, 1e-6)
        if self.spec.thin:
            self.spacing_ms = float(THIN_SPACING_MS)
        self.trades_per_min = MINUTE_MS / self.spacing_ms
        self.size_units = max(self.spec.trade_size * 10**self.qd, float(self.step))
        self.spread_ticks = 1 if self.spec.price > 1 else 1
        self.epoch_minute = self.start_ms // MINUTE_MS
        self.listed_ms = min(rules.listed_ms, self.start_ms)  # a market trades from its listing
        self.next_k = 0
        self.next_id = 100_000_000 + self.key % 50_000_000
        self.last_price = self._mid_units(np.array([self.start_ms]))[0]
        self.last_mid = float(self.last_price)
        self.last_qty = self.step
        self.book_version = 1
        self._book_key: tuple[int, float] | None = None  # the version (and mid) _book is of
        self._book: tuple[list[tuple[int, int]], list[tuple[int, int]]] = ([], [])
        empty = np.zeros(0, dtype=np.int64)
        self._sizes: tuple[list[np.ndarray], list[np.ndarray]] = ([empty] * 4, [empty] * 4)
        self.total_trades = 0
        self.keeps_seconds = self.exchange == "binance"  # KuCoin has no 1s candles

    # -- model ---------------------------------------------------------------------------
    def _mid_float(self, ts: np.ndarray) -> np.ndarray:
        return self.model.mid(ts) * self.factor / self.price_unit

    def _mid_units(self, ts: np.ndarray) -> np.ndarray:
        mid = self._mid_float(ts)
        return (np.maximum(np.floor(mid / self.tick), 1) * self.tick).astype(np.int64)

    def history_bars(self, first_minute: int, count: int) -> dict[str, np.ndarray]:
        # A thin market's quiet minutes carry the last traded close: start at the day's
        # first (always traded) minute so the carry is the same whatever window is asked.
        lead = first_minute - day_start(first_minute) if self.spec.thin else 0
        bars = self.model.minute_bars(
            first_minute - lead,
            count + lead,
            price_unit=self.price_unit / self.basis,
            tick_units=self.tick,
            trades_per_min=self.trades_per_min,
            trade_size_units=self.size_units,
            thin=self.spec.thin,
        )
        return {k: v[lead:] for k, v in bars.items()} if lead else bars

    def history_hour_bars(self, first_minute: int, count: int) -> dict[str, np.ndarray]:
        """Hourly bars for long history (2h and longer intervals): 60x fewer model samples, the
        same opens and closes at every hour boundary as the minute bars."""
        return self.model.minute_bars(
            first_minute,
            count,
            price_unit=self.price_unit / self.basis,
            tick_units=self.tick,
            trades_per_min=self.trades_per_min,
            trade_size_units=self.size_units,
            bar_minutes=60,
        )

    def rebase_to(self, ts: int, price_units: int) -> None:
        """After a script ends, continue the model from where the script left the price."""
        model_mid = float(self.model.mid(np.array([ts]))[0]) / self.price_unit
        self.factor = max(price_units, self.tick) / model_mid

    # -- trade generation ----------------------------------------------------------------
    def generate(self, now_ms: int, max_batch: int) -> list[Trade]:
        """All trades with timestamp <= now not yet printed (at most max_batch).

        Every trade stamped <= now is booked now, none later: a candle that has closed by
        ``now`` is then final, as an exchange's closed kline is."""
        # Trade k prints in [k, k + 0.9) spacings after start, so k_end is the first that
        # certainly prints after now; the one before it may or may not have printed yet.
        k_end = int((now_ms - self.start_ms) / self.spacing_ms) + 1
        if k_end - self.next_k > max_batch:
            self.next_k = k_end - max_batch  # fell behind (loop stalled): skip, don't flood
        if self.script and self.script[0].ts is not None:
            self.next_k = max(self.next_k, k_end)
            return self._replay_until(now_ms)
        if k_end <= self.next_k:
            return []
        ks = np.arange(self.next_k, k_end, dtype=np.int64)
        ts = (self.start_ms + np.floor((ks + 0.9 * hash_uniform(ks, self.key)) * self.spacing_ms)).astype(np.int64)
        due = int(np.searchsorted(ts, now_ms, side="right"))  # timestamps never decrease with k
        if due == 0:
            return []
        ks, ts = ks[:due], ts[:due]
        self.next_k = int(ks[-1]) + 1
        mids = self._mid_float(ts)
        sizes = np.rint(self.size_units * np.exp(0.8 * hash_normal(ks, self.key + 5)) / self.step)
        sizes = (np.maximum(sizes, 1) * self.step).astype(np.int64).tolist()
        prev = np.concatenate(([self.last_mid], mids[:-1]))
        u = hash_uniform(ks, self.key + 9)
        buys = np.where(mids >= prev, u < 0.7, u < 0.3).tolist()
        bids = (np.maximum(np.floor(mids / self.tick), 1) * self.tick).astype(np.int64).tolist()
        self.last_mid = float(mids[-1])
        out = []
        for i, t in enumerate(ts.tolist()):
            if self.script:
                out.append(self._scripted(t, self.script.popleft(), sizes[i]))
                if not self.script and i + 1 < len(ks):
                    # The path ended inside this batch (a big one when the loop runs late):
                    # the rest was drawn from the model before its rebase to the path's last
                    # price, so it is drawn again from the rebased model.
                    self.next_k = int(ks[i]) + 1
                    return out + self.generate(now_ms, max_batch)
                continue
            price = bids[i] + self.spread_ticks * self.tick if buys[i] else bids[i]
            out.append(self._print(t, price, sizes[i], not buys[i]))
        return out

    def _scripted(self, ts: int, item: ScriptedTrade, model_qty: int) -> Trade:
        buy = item.side == "buy" if item.side else item.price >= self.last_price
        trade = self._print(ts, item.price, item.qty or model_qty, not buy)
        self.last_mid = float(item.price)
        if not self.script:
            self.rebase_to(ts, item.price)
        return trade

    def _replay_until(self, now_ms: int) -> list[Trade]:
        out = []
        while self.script and self.script[0].ts is not None and self.script[0].ts <= now_ms:
            item = self.script.popleft()
            out.append(self._scripted(item.ts or now_ms, item, self.step))
        return out

    def _print(self, ts: int, price: int, qty: int, buyer_is_maker: bool) -> Trade:
        trade = Trade(self.next_id, ts, price, qty, buyer_is_maker)
        self.next_id += 1
        self.total_trades += 1
        self.last_price, self.last_qty = price, qty
        self.recent.append(trade)
        self._add_to_candle(trade)
        return trade

    def _add_to_candle(self, t: Trade) -> None:
        _add_to_row(self.minutes, self.minute_keys, MINUTE_MS, t)
        if self.keeps_seconds:
            _add_to_row(self.seconds, self.second_keys, SECOND_MS, t)
            if len(self.second_keys) > 2 * MAX_LIVE_SECONDS:  # trim in halves: amortized O(1)
                for key in self.second_keys[:-MAX_LIVE_SECONDS]:
                    del self.seconds[key]
                del self.second_keys[:-MAX_LIVE_SECONDS]

    def live_minutes(self, first_minute: int, end_minute: int) -> list[list[int]]:
        """Live 1m rows with first <= minute < end, oldest first."""
        keys = self.minute_keys
        i = bisect_left(keys, first_minute)
        out = []
        while i < len(keys) and keys[i] < end_minute:
            out.append(self.minutes[keys[i]])
            i += 1
        return out

    def live_second(self, second: int) -> list[int] | None:
        """The live 1s row of ``second``; a second without trades is flat at the last close
        (zero volume, no trade ids), as Binance's 1s klines are."""
        row = self.seconds.get(second)
        if row is not None:
            return row
        i = bisect_left(self.second_keys, second)
        if i == 0:
            price = int(self._mid_units(np.array([second * SECOND_MS]))[0])  # before any live trade
        else:
            price = self.seconds[self.second_keys[i - 1]][C]
        return [second * SECOND_MS, price, price, price, price, 0, 0, 0, 0, 0, 0, 0]

    def history_second(self, open_ms: int) -> list[int]:
        """A 1s kline before the live epoch, from the price model (deterministic)."""
        mids = self.model.mid(np.array([open_ms, open_ms + SECOND_MS])) * self.basis / self.price_unit
        o, c = (np.maximum(np.rint(mids / self.tick), 1).astype(np.int64) * self.tick).tolist()
        n = max(round(self.trades_per_min / 60), 1)
        v = max(round(n * self.size_units / self.step), 1) * self.step
        q = v * (o + c) // 2
        return [open_ms, o, max(o, c), min(o, c), c, v, q, n, v // 2, q // 2, 0, 0]

    # -- book ----------------------------------------------------------------------------
    def book(self, depth: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """L2 book around the last mid: best levels straddle the last traded prices.

        The ladder sits on absolute prices (whether a tick holds a level is a hash of the
        price), deeper levels are larger, and a level keeps its size until it redraws it: the
        best ``BOOK_BUSY_LEVELS`` at every version, deeper ones about once every
        ``BOOK_REDRAW_VERSIONS`` (each at its own phase). So a version changes the levels the mid
        moved across plus a share of the sizes, as a venue's diff does, not every level."""
        depth = max(1, min(depth, 1000))
        if self._book_key != (self.book_version, self.last_mid):
            best_bid = max(int(self.last_mid // self.tick) * self.tick, self.tick)
            best_ask = best_bid + self.spread_ticks * self.tick
            span = np.arange(1000 * 3 // 2 + 8, dtype=np.int64)
            self._book = (
                self._side(best_bid // self.tick - span, self._sizes[0], self.key + 1),
                self._side(best_ask // self.tick + span, self._sizes[1], self.key + 2),
            )
            self._book_key = (self.book_version, self.last_mid)
        bids, asks = self._book[0][:depth], self._book[1][:depth]
        if self.spec.thin and self.exchange == "kucoin":  # a quiet KuCoin book: a side is sometimes empty
            empty = hash_uniform(np.array([2 * self.book_version, 2 * self.book_version + 1]), self.key + 41)
            bids = [] if empty[0] < EMPTY_SIDE_PROBABILITY else bids
            asks = [] if empty[1] < EMPTY_SIDE_PROBABILITY else asks
        return bids, asks

    def _side(self, ticks: np.ndarray, memo: list[np.ndarray], salt: int) -> list[tuple[int, int]]:
        """1000 levels at these tick indices (best first): about 4 in 5 ticks hold one, the best
        always. ``memo`` (the last call's ticks sorted, and each one's epoch, size and the rank it
        was drawn at) keeps what each level showed until it redraws."""
        ticks = ticks[ticks > 0]
        held = hash_uniform(ticks, self.key + 7) >= 0.2
        held[:1] = True
        ticks = ticks[held][:1000]
        rank = np.arange(len(ticks), dtype=np.int64)
        phase = (hash_uniform(ticks, self.key + 11) * BOOK_REDRAW_VERSIONS).astype(np.int64)
        epoch = np.where(
            rank < BOOK_BUSY_LEVELS, self.book_version, (self.book_version + phase) // BOOK_REDRAW_VERSIONS
        )
        raw = self.size_units * 4 * (1 + 0.15 * rank) * np.exp(0.7 * hash_normal(ticks * 1_000_003 + epoch, salt))
        drawn = np.maximum(np.rint(raw / self.step), 1).astype(np.int64) * self.step
        size, drawn_at = drawn, rank
        old_ticks, old_epoch, old_size, old_rank = memo
        if len(old_ticks):
            at = np.minimum(np.searchsorted(old_ticks, ticks), len(old_ticks) - 1)
            # Kept while the level is where it was drawn (depth scale within 20 %): a level the
            # mid moved far towards (or away from) redraws, or the top would inherit deep sizes.
            ratio = (1 + 0.15 * rank) / (1 + 0.15 * old_rank[at])
            keep = (old_ticks[at] == ticks) & (old_epoch[at] == epoch) & (ratio >= 0.8) & (ratio <= 1.25)
            size, drawn_at = np.where(keep, old_size[at], drawn), np.where(keep, old_rank[at], rank)
        order = np.argsort(ticks)
        memo[:] = [ticks[order], epoch[order], size[order], drawn_at[order]]
        return list(zip((ticks * self.tick).tolist(), size.tolist(), strict=True))


def _add_to_row(rows: dict[int, list[int]], keys: list[int], bucket_ms: int, t: Trade) -> None:
    """Fold one trade into its bucket's candle row (trades arrive in time order)."""
    bucket = t.ts // bucket_ms
    row = rows.get(bucket)
    quote = t.price * t.qty
    buy_qty, buy_quote = (0, 0) if t.buyer_is_maker else (t.qty, quote)
    if row is None:
        p = t.price
        rows[bucket] = [bucket * bucket_ms, p, p, p, p, t.qty, quote, 1, buy_qty, buy_quote, t.trade_id, t.trade_id]
        keys.append(bucket)
        return
    if t.price > row[H]:
        row[H] = t.price
    elif t.price < row[L]:
        row[L] = t.price
    row[C] = t.price
    row[V] += t.qty
    row[Q] += quote
    row[N] += 1
    row[VB] += buy_qty
    row[QB] += buy_quote
    row[LAST] = t.trade_id
