"""End to end on the exchange simulator: a scripted price path, candles fetched through the
real Binance client (feed adapter) and stored, the live book recorded at each close, and
the bot evaluated on every closed candle through the real order service.

Expectations come from independent sources: TA-Lib's RSI over the stored candles for the
strategy, the recorded book's best ask/bid for the fills, and hand arithmetic for fees and P&L.
"""

from __future__ import annotations

import asyncio
import time
from decimal import ROUND_DOWN
from decimal import Decimal as D

import numpy as np
import pytest
import talib

from apps.bots.models import BotCandleRun
from apps.bots.services import bot_create, bot_evaluate, bot_start
from apps.market.feeds.adapters import adapter_build
from apps.market.models import Candle
from apps.market.services import candles_upsert
from apps.portfolio import books
from apps.portfolio.matcher import Matcher
from apps.portfolio.models import Balance, Order
from tests.market.conftest import exchange_sim_factory  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

START = 1_767_225_600_000  # minute aligned
MIN = 60_000
STEP = D("0.00001")
TAKE_PROFIT = D("1.5")


def _fetch(sim, start_ms, end_ms):
    async def go():
        adapter = adapter_build(
            "binance",
            urls={"binance_rest": sim.binance_rest_url, "binance_ws": sim.binance_ws_url},
            rest_rps=100,
            queue_size=10,
        )
        await adapter.open()
        try:
            return await adapter.klines("BTCUSDT", "1m", start_ms, end_ms)
        finally:
            await adapter.close()

    return asyncio.run(go())


def _wait_sim(sim, ms, timeout=10.0):
    deadline = time.monotonic() + timeout
    while sim.now_ms() < ms:
        assert time.monotonic() < deadline, "simulator clock stalled"
        time.sleep(0.02)


def test_bot_buys_and_takes_profit_on_a_scripted_path(exchange_sim_factory, user, portfolio):  # noqa: F811
    # 240x clock, 8 trades/s: two trades per simulated minute, a minute every 0.25 s.
    sim = exchange_sim_factory(seed=3, start_time_ms=START, clock_speed=240, trade_rate_hz=8, symbols=["BTCUSDT"])
    bot = bot_create(
        owner=user, portfolio=portfolio, name="e2e", symbol="BTCUSDT", strategy="rsi_mean_reversion",
        params={"period": 2, "oversold": 30, "overbought": 99}, risk={"order_size": "100", "take_profit_pct": str(TAKE_PROFIT)},
    )  # fmt: skip
    bot = bot_start(bot=bot, actor=user)
    _wait_sim(sim, START + MIN)
    candles_upsert(candles=_fetch(sim, START - 40 * MIN, START - MIN))  # warm-up history
    p0 = sim.recent_trades("binance", "BTCUSDT")[-1].price
    # Down 1 % a step, then one 3 % jump: the take-profit fires on a single rise, long before
    # RSI(2) could reach the 99 "overbought" level (that needs several rises in a row).
    levels = [D("1.00"), D("0.99"), D("0.98"), D("0.97"), D("1.00"), D("1.01"), D("1.02")]
    sim.set_price_path("binance", "BTCUSDT", [(p0 * f).quantize(D("0.01")) for f in levels for _ in range(4)])
    first = (sim.now_ms() // MIN) * MIN
    last = first + (len(levels) * 2 + 1) * MIN
    evaluated = []
    booked = {}
    fed: list = []  # the prints the paper matcher saw (the bot's take-profit rests there)
    matcher = Matcher(threaded=False)
    after_ms = sim.now_ms()
    for minute in range(first, last + 1, MIN):
        _wait_sim(sim, minute + MIN + 1)
        # The minute's prints that came after the last evaluation reach the matcher first.
        for trade in sim.recent_trades("binance", "BTCUSDT"):
            if after_ms < trade.ts_ms < minute + MIN:
                matcher.load()
                matcher.on_event(trade)
                matcher.process_pending()
                fed.append(trade)
        candles_upsert(candles=_fetch(sim, minute, minute))
        book = sim.book("binance", "BTCUSDT", 20)
        books.book_record(book)
        booked[minute] = book
        bot_evaluate(bot=bot, candle_open_time_ms=minute)
        evaluated.append(minute)
        after_ms = max(after_ms, sim.now_ms())
    bot.refresh_from_db()
    assert bot.status == "running", bot.status_reason

    # The strategy, by TA-Lib: first evaluated candle with RSI(2) < 30 (and some movement).
    stored = list(
        Candle.objects.filter(symbol="BTCUSDT", timeframe="1m").order_by("open_time").values_list("open_time", "close")
    )
    times = [int(t.timestamp() * 1000) for t, _ in stored]
    closes = np.array([float(c) for _, c in stored])
    rsi = dict(zip(times, talib.RSI(closes, timeperiod=2), strict=True))
    close_at = {t: c for t, (_, c) in zip(times, stored, strict=True)}
    buy_at = next(t for t in evaluated if rsi[t] < 30 and close_at[t] != close_at[times[times.index(t) - 1]])
    runs = {r.candle_open_ms: r for r in BotCandleRun.objects.filter(bot=bot)}
    assert runs[buy_at].action == "buy", [(t, runs[t].action, rsi[t]) for t in evaluated]
    trace = [(t, runs[t].action, round(float(rsi[t]), 2), str(close_at[t])) for t in evaluated]
    assert all(runs[t].action == "hold" for t in evaluated if t < buy_at), trace

    buy = Order.objects.get(client_order_id=f"bot{bot.pk}-{buy_at}")
    ask = booked[buy_at].asks[0][0]
    qty = (D("100") / ask).quantize(STEP, rounding=ROUND_DOWN)
    assert (buy.side, buy.status, buy.avg_price, buy.filled_qty) == ("buy", "filled", ask, qty)
    assert buy.fees_paid == qty * D("0.001")  # 0.1 % taker, charged in BTC
    held = qty - buy.fees_paid
    entry = buy.filled_quote / held

    # Risk: after the entry a take-profit order rests at entry * 1.015 (up to the 0.01 tick);
    # it triggers on the first print at or above it (between closes) and its walk of the book
    # never fills better than that print (the gap rule).
    target = entry * (1 + TAKE_PROFIT / 100)
    take = Order.objects.get(client_order_id=f"bot{bot.pk}-{buy_at}-take_profit")
    assert take.order_type == "take_profit" and take.stop_price == (target / D("0.01")).to_integral_value(
        "ROUND_UP"
    ) * D("0.01")
    sold = held.quantize(STEP, rounding=ROUND_DOWN)
    assert (take.status, take.filled_qty, take.triggered) == ("filled", sold, True)
    trigger = next(t for t in fed if t.price >= take.stop_price and t.ts_ms > buy_at + MIN)
    fills = list(take.fills.all())
    assert fills[0].trade_id == trigger.trade_id
    assert all(f.price <= trigger.price and f.rule == "stop_gap" for f in fills)
    proceeds = sum((f.quote_quantity for f in fills), D("0"))
    assert (
        take.fees_paid
        == sum((f.fee for f in fills), D("0"))
        == sum((f.quote_quantity * D("0.001") for f in fills), D("0"))
    )
    # The bot booked the exit at its next close and held until then.
    assert all(runs[t].action == "hold" for t in evaluated if t > buy_at), (trace, entry)
    pnl = proceeds - take.fees_paid - buy.filled_quote * (sold / held)
    assert D(bot.state["realized_pnl"]) == pnl and pnl > 0
    assert bot.events.filter(kind="order", data__rule="take_profit").exists()
    usdt = Balance.objects.get(portfolio=portfolio, asset="USDT")
    assert usdt.free == D("10000") - buy.filled_quote + proceeds - take.fees_paid
    assert Order.objects.filter(portfolio=portfolio).count() == 2
    assert sim.tripwire_hits == []
