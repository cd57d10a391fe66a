"""FeedHub push scheduling: pushes spread over the push interval in per-symbol slots.

Pure: a synthetic clock drives the hub, as the runner's push loop does with the monotonic one.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from apps.market.events import KlineEvent, TradeEvent
from apps.market.feeds.hub import FeedHub

D = Decimal
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT"]
INTERVAL = 0.25  # push_hz=4


def _trade(symbol: str, ts: int, tid: str = "1") -> TradeEvent:
    return TradeEvent("binance", symbol, tid, D("100"), D("1"), "buy", ts)


def _all_dirty(hub: FeedHub, ts: int) -> None:
    for symbol in SYMBOLS:
        hub.handle(_trade(symbol, ts))


def _symbol(group: str) -> str:
    return group.rsplit(".", 1)[1]


def _run_ticks(hub: FeedHub, start: float, ticks: int) -> list[tuple[float, list[str]]]:
    """Every symbol dirty before each tick; call the hub at each tick as the runner does."""
    now, out = start, []
    for i in range(ticks):
        _all_dirty(hub, 1_000 + i)
        now = hub.push_next_at(now)
        out.append((now, [_symbol(g) for g, _ in hub.pushes_due(now)]))
    return out


def test_each_tick_pushes_one_slot_and_each_symbol_once_per_interval():
    hub = FeedHub("binance", push_hz=4, symbols=SYMBOLS)
    ticks = _run_ticks(hub, 100.0, 6 * 10)
    # Six symbols, six ticks per interval: one symbol per tick instead of all six at once.
    assert [len(pushed) for _, pushed in ticks] == [1] * 60
    times = defaultdict(list)
    for now, pushed in ticks:
        for symbol in pushed:
            times[symbol].append(now)
    assert sorted(times) == sorted(SYMBOLS)
    for symbol, pushed_at in times.items():
        assert len(pushed_at) == 10, symbol
        gaps = [b - a for a, b in zip(pushed_at, pushed_at[1:], strict=False)]
        assert all(abs(gap - INTERVAL) < 1e-6 for gap in gaps), (symbol, gaps)
    # Slots are stable and distinct: the symbols take turns in the same order every interval.
    order = [pushed[0] for _, pushed in ticks]
    assert order[:6] == order[6:12] and len(set(order[:6])) == 6


def test_calls_between_ticks_push_nothing_more():
    hub = FeedHub("binance", push_hz=4, symbols=SYMBOLS)
    pushed: dict[str, list[float]] = defaultdict(list)
    now = 50.0
    for step in range(2_000):  # 10 s of calls every 5 ms, every symbol always dirty
        now = 50.0 + step * 0.005
        _all_dirty(hub, step)
        for group, _ in hub.pushes_due(now):
            pushed[_symbol(group)].append(now)
    for symbol in SYMBOLS:
        times = pushed[symbol]
        assert 39 <= len(times) <= 41, (symbol, len(times))
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        # At most one push per interval (call granularity 5 ms), and none starved.
        assert min(gaps) > INTERVAL - 0.005 - 1e-9 and max(gaps) < INTERVAL + 0.005 + 1e-9, (symbol, gaps)


def test_late_calls_cover_the_missed_ticks_without_starving_or_doubling():
    hub = FeedHub("binance", push_hz=4, symbols=SYMBOLS)
    counts: dict[str, int] = defaultdict(int)
    now = 20.0
    # A busy loop: calls 100 ms apart skip one or two 41.7 ms ticks each time.
    for step in range(100):  # 10 s
        now = 20.0 + step * 0.1
        _all_dirty(hub, step)
        pushed = [_symbol(g) for g, _ in hub.pushes_due(now)]
        assert len(pushed) == len(set(pushed)) <= 3
        for symbol in pushed:
            counts[symbol] += 1
    # 10 s at 4 Hz: each symbol's slot came up 40 times (one less for those the first call
    # did not cover); none was skipped and none pushed twice for one slot.
    assert all(39 <= counts[s] <= 40 for s in SYMBOLS), dict(counts)
    # A stall longer than the interval covers every slot once: all dirty symbols, once each.
    _all_dirty(hub, 999)
    pushed = [_symbol(g) for g, _ in hub.pushes_due(now + 1.0)]
    assert sorted(pushed) == sorted(SYMBOLS)


def test_a_dirty_symbol_is_pushed_by_its_next_slot_within_one_interval():
    hub = FeedHub("binance", push_hz=4, symbols=SYMBOLS)
    now = hub.push_next_at(10.0)
    hub.pushes_due(now)  # start the schedule with nothing dirty
    for offset in (0.001, 0.07, 0.13, 0.2):
        for symbol in SYMBOLS:
            t = now + offset
            hub.handle(_trade(symbol, 5_000))
            first_push = None
            while first_push is None:
                t = hub.push_next_at(t)
                if any(_symbol(g) == symbol for g, _ in hub.pushes_due(t)):
                    first_push = t
            assert first_push - (now + offset) <= INTERVAL + 1e-9, (symbol, offset)
            now = first_push


def test_trades_and_closed_candles_accumulate_until_the_symbol_is_pushed():
    hub = FeedHub("binance", push_hz=4, symbols=SYMBOLS)
    now = hub.push_next_at(0.0)
    hub.pushes_due(now)
    sent_trades: dict[str, list[str]] = defaultdict(list)
    sent_closed: dict[str, list[int]] = defaultdict(list)
    got_trades: dict[str, list[str]] = defaultdict(list)
    got_closed: dict[str, list[int]] = defaultdict(list)
    for i in range(6 * 8):  # 8 intervals; a trade per symbol per tick, a close every 5th tick
        for symbol in SYMBOLS:
            tid = f"{symbol}-{i}"
            hub.handle(_trade(symbol, 10_000 + i, tid))
            sent_trades[symbol].append(tid)
            if i % 5 == 0:
                hub.handle(KlineEvent("binance", symbol, "1m", i * 60_000, *[D(1)] * 6, True, i * 60_000 + 59_999))
                sent_closed[symbol].append(i * 60)
        assert hub.flush_cache()  # the cache cadence runs independently and takes nothing away
        now = hub.push_next_at(now)
        for group, message in hub.pushes_due(now):
            got_trades[_symbol(group)] += [t["id"] for t in message["trades"]]
            got_closed[_symbol(group)] += [c["time"] for c in message["closed"]]
    now = hub.push_next_at(now + INTERVAL)  # a whole interval later: every slot has come up
    for group, message in hub.pushes_due(now):
        got_trades[_symbol(group)] += [t["id"] for t in message["trades"]]
        got_closed[_symbol(group)] += [c["time"] for c in message["closed"]]
    assert got_trades == sent_trades
    assert got_closed == sent_closed


def test_cache_flush_keeps_its_own_cadence():
    hub = FeedHub("binance", push_hz=4, symbols=SYMBOLS)
    hub.handle(_trade("BTCUSDT", 1_000))
    hub.handle(_trade("ETHUSDT", 1_000))
    items = hub.flush_cache()
    assert {k for k in items if k.endswith(":trades")} and hub.flush_cache() == {}
    # Cache flushed, but the pushes are still owed: each symbol at its own slot.
    now, pushed = 30.0, []
    for _ in range(6):
        now = hub.push_next_at(now)
        pushed += [_symbol(g) for g, _ in hub.pushes_due(now)]
    assert sorted(pushed) == ["BTCUSDT", "ETHUSDT"]
    assert hub.flush_cache() == {}  # pushing does not re-dirty the cache


def test_feeds_with_different_phases_interleave_and_ticks_have_a_floor():
    binance = FeedHub("binance", push_hz=4, symbols=SYMBOLS, push_phase=0.0)
    kucoin = FeedHub("kucoin", push_hz=4, symbols=SYMBOLS, push_phase=0.5)
    tick = INTERVAL / 6
    a, b = binance.push_next_at(7.0), kucoin.push_next_at(7.0)
    assert abs(abs(a - b) - tick / 2) < 1e-9
    # Many symbols: ticks no finer than 20 ms; symbols share slots evenly.
    many = [f"S{i}USDT" for i in range(100)]
    hub = FeedHub("binance", push_hz=4, symbols=many)
    now = hub.push_next_at(0.0)
    assert abs(hub.push_next_at(now) - now - INTERVAL / 12) < 1e-9
    for symbol in many:
        hub.handle(_trade(symbol, 1))
    sizes = []
    for _ in range(12):
        sizes.append(len(hub.pushes_due(now)))
        now = hub.push_next_at(now)
    assert sum(sizes) == 100 and max(sizes) - min(sizes) <= 1
