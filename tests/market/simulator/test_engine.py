"""Ground truth: determinism, klines built from the printed trades, scripted paths, replay."""

from __future__ import annotations

import csv
import gzip
import json
import time
import urllib.request
from decimal import Decimal

from apps.market.simulator import ExchangeSimulator

START = 1_767_225_600_000  # 2026-01-01 00:00 UTC, minute aligned
MINUTE = 60_000


def _wait_until(sim: ExchangeSimulator, sim_ms: int, timeout: float = 60.0) -> None:
    """Until every trade stamped <= sim_ms is printed: booked_ms, read on the engine's own
    thread between steps (no fixed window: a loaded machine runs the engine late)."""
    deadline = time.monotonic() + timeout
    while sim.call(lambda: sim.booked_ms) < sim_ms:
        assert time.monotonic() < deadline, "simulator clock did not advance"
        time.sleep(0.05)


def test_same_seed_same_market(exchange_sim_factory) -> None:
    a = exchange_sim_factory(seed=7, start_time_ms=START, clock_speed=600, trade_rate_hz=100, symbols=["BTCUSDT"])
    b = exchange_sim_factory(seed=7, start_time_ms=START, clock_speed=600, trade_rate_hz=100, symbols=["BTCUSDT"])
    c = exchange_sim_factory(seed=8, start_time_ms=START, clock_speed=600, trade_rate_hz=100, symbols=["BTCUSDT"])
    window = (START - 3 * 86_400_000, START - 86_400_000)

    def ohlcv(sim: ExchangeSimulator) -> list[tuple]:
        return [
            (k.open_time_ms, k.open, k.high, k.low, k.close, k.volume, k.quote_volume)
            for k in sim.closed_klines("binance", "BTCUSDT", "1h", *window)
        ]

    history = ohlcv(a)
    assert len(history) == 49
    assert history == ohlcv(b)
    assert history != ohlcv(c)
    _wait_until(a, START + MINUTE)
    _wait_until(b, START + MINUTE)
    ta = [(t.trade_id, t.price, t.quantity, t.taker_side, t.ts_ms) for t in a.recent_trades("binance", "BTCUSDT")]
    tb = [(t.trade_id, t.price, t.quantity, t.taker_side, t.ts_ms) for t in b.recent_trades("binance", "BTCUSDT")]
    n = min(len(ta), len(tb))
    assert n >= 10 and ta[:n] == tb[:n]


def test_klines_are_built_from_the_trades(exchange_sim_factory) -> None:
    sim = exchange_sim_factory(seed=5, start_time_ms=START, clock_speed=600, trade_rate_hz=200, symbols=["ETHUSDT"])
    _wait_until(sim, START + 3 * MINUTE)
    trades = [t for t in sim.recent_trades("kucoin", "ETH-USDT") if START + MINUTE <= t.ts_ms < START + 2 * MINUTE]
    [kline] = sim.closed_klines("kucoin", "ETHUSDT", "1m", START + MINUTE, START + MINUTE)
    assert len(trades) >= 10
    assert kline.open == trades[0].price and kline.close == trades[-1].price
    assert kline.high == max(t.price for t in trades) and kline.low == min(t.price for t in trades)
    assert kline.volume == sum(t.quantity for t in trades)
    assert kline.quote_volume == sum(t.price * t.quantity for t in trades)
    url = f"{sim.binance_rest_url}/api/v3/klines?symbol=ETHUSDT&interval=1m&startTime={START + MINUTE}&limit=1"
    with urllib.request.urlopen(url) as resp:  # noqa: S310 - loopback http
        [row] = json.loads(resp.read())
    [truth] = sim.closed_klines("binance", "ETHUSDT", "1m", START + MINUTE, START + MINUTE)
    assert [Decimal(x) for x in row[1:6]] == [truth.open, truth.high, truth.low, truth.close, truth.volume]
    five = sim.closed_klines("binance", "ETHUSDT", "5m", START - 10 * MINUTE, START - 5 * MINUTE)
    ones = sim.closed_klines("binance", "ETHUSDT", "1m", START - 10 * MINUTE, START - 6 * MINUTE)
    assert five[0].high == max(k.high for k in ones) and five[0].volume == sum(k.volume for k in ones)


def test_scripted_price_path(exchange_sim: ExchangeSimulator) -> None:
    path = [Decimal("50000.00"), Decimal("50010.00"), Decimal("49990.50"), Decimal("49000.00")]
    exchange_sim.set_price_path("binance", "BTCUSDT", path)
    deadline = time.monotonic() + 60  # a condition, not a window: returns as soon as it holds
    while True:
        prices = [t.price for t in exchange_sim.recent_trades("binance", "BTCUSDT")]
        tail = [p for i, p in enumerate(prices) if prices[i : i + len(path)] == path]
        if tail and len(prices) >= prices.index(path[0]) + len(path) + 3:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    after = prices[prices.index(path[0]) + len(path) :]
    assert all(abs(p - path[-1]) / path[-1] < Decimal("0.01") for p in after)  # the model resumes from there


def test_a_path_that_ends_inside_a_late_batch_resumes_from_its_last_price(exchange_sim_factory) -> None:
    """A loaded machine runs the engine late, so one step prints many trades: those after the
    path must come from the rebased model, not the price the model had before the path."""
    sim = exchange_sim_factory(seed=3, start_time_ms=START, trade_rate_hz=50, symbols=["BTCUSDT"])
    market = sim.market("binance", "BTCUSDT")
    path = [Decimal("49000.00"), Decimal("48990.00")]

    def late_step() -> list:
        sim.set_price_path("binance", "BTCUSDT", path)  # on the loop thread: runs inline
        return market.generate(sim.now_ms() + 20_000, 10_000)

    trades = sim.call(late_step)
    prices = [Decimal(t.price).scaleb(-market.pd) for t in trades]
    start = prices.index(path[0])
    after = prices[start + len(path) :]
    assert prices[start : start + len(path)] == path and len(after) >= 20
    assert all(abs(p - path[-1]) / path[-1] < Decimal("0.01") for p in after), after[:5]


def test_replay_recorded_trades(exchange_sim_factory, shared_data) -> None:
    tape_file = shared_data / "binance-XRPETH-trades-2019-10.json.gz"
    sim = exchange_sim_factory(seed=1, symbols=["BTCUSDT"], replay=tape_file, clock_speed=3600)
    rows = json.loads(gzip.decompress(tape_file.read_bytes()))
    deadline = time.monotonic() + 60
    while len(trades := sim.recent_trades("binance", "XRPETH")) < 20:
        assert time.monotonic() < deadline, len(trades)
        time.sleep(0.05)
    assert [(t.price, t.taker_side) for t in trades[:20]] == [(Decimal(str(r[4])), r[3]) for r in rows[:20]]
    gaps = [
        (b.ts_ms - a.ts_ms, r2[0] - r1[0]) for a, b, r1, r2 in zip(trades, trades[1:20], rows, rows[1:20], strict=False)
    ]
    assert all(x == y for x, y in gaps)  # recorded timing is kept


def test_replay_candle_csv_rebuilds_the_candles(exchange_sim_factory, shared_data) -> None:
    csv_file = shared_data / "binance-ETHBTC-5m-2018-01.csv.gz"
    sim = exchange_sim_factory(seed=1, symbols=["BTCUSDT"], replay=csv_file, clock_speed=1200)
    with gzip.open(csv_file, "rt") as fh:
        rows = list(csv.DictReader(fh))
    time.sleep(1.2)  # 24 simulated minutes: at least three 5m candles replayed
    trades = sim.recent_trades("binance", "ETHBTC")
    opened = trades[0].ts_ms
    candles = sim.closed_klines("binance", "ETHBTC", "5m", opened, opened + 10 * MINUTE)
    assert len(candles) >= 2
    for candle, row in zip(candles, rows, strict=False):
        assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == tuple(
            Decimal(row[k]) for k in ("open", "high", "low", "close", "volume")
        )


def test_every_trade_up_to_now_is_booked_in_the_same_step() -> None:
    """A kline sent as closed must be final: no trade stamped <= a step's clock may print in a
    later step (engine ticks land anywhere between two trades, hence the irregular clock)."""
    from apps.market.simulator.market import Market
    from apps.market.simulator.symbols import resolve_specs

    market = Market("binance", resolve_specs(["BTCUSDT"])["BTCUSDT"], 3, START + 20_000, 20.0, 60.0)
    now, total = market.start_ms, 0
    for step in range(3000):
        previous, now = now, now + 6000 + (step * 7919) % 97
        trades = market.generate(now, 10_000)
        assert all(previous < t.ts <= now for t in trades), step
        total += len(trades)
    assert total == market.total_trades > 5000
