"""Fill rules against books and trades from the exchange simulator."""

from __future__ import annotations

import time
from decimal import Decimal as D

import pytest

from apps.market.models import Instrument
from apps.market.simulator import ExchangeSimulator
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.matcher import Matcher
from apps.portfolio.services import order_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(tmp_path):
    simulator = ExchangeSimulator(seed=11, symbols=["BTCUSDT"], tripwire_log=tmp_path / "tripwires.jsonl")
    simulator.start_in_thread()
    yield simulator
    simulator.stop_thread()
    assert simulator.tripwire_hits == []  # the paper engine never touches a trading endpoint


@pytest.fixture
def sim_instrument(sim, db):
    rules = sim.specs["BTCUSDT"].binance
    return Instrument.objects.create(
        exchange="binance",
        symbol="BTCUSDT",
        exchange_symbol="BTCUSDT",
        base_asset="BTC",
        quote_asset="USDT",
        tick_size=D(rules.tick),
        step_size=D(rules.step),
        min_qty=D(rules.min_qty),
        max_qty=D("9000"),
        min_notional=D(rules.min_notional),
    )


def wait_for_print(sim, price, *, seen=(), timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prints = [t for t in sim.recent_trades("binance", "BTCUSDT") if t.price == price and t.trade_id not in seen]
        if prints:
            return prints[0]
        time.sleep(0.05)
    raise AssertionError(f"the simulator never printed {price}")


def test_market_buy_walks_the_simulated_book(sim, sim_instrument, make_portfolio, user):
    matcher = Matcher(threaded=False)
    book = sim.book("binance", "BTCUSDT", depth=20)
    matcher.on_event(book)
    # Take the whole first level and half of the second: expectation computed from the snapshot.
    (p1, q1), (p2, q2) = book.asks[0], book.asks[1]
    step = sim_instrument.step_size
    half = (q2 / 2).quantize(step)
    quantity = q1 + half
    expected_quote = p1 * q1 + p2 * half
    p = make_portfolio(starting_balances={"USDT": str((expected_quote * 2).quantize(D("1")) + 10)})
    order = order_place(portfolio=p, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity=quantity)
    assert order.status == "filled"
    assert [(f.price, f.quantity) for f in order.fills.order_by("id")] == [(p1, q1), (p2, half)]
    assert order.filled_quote == expected_quote
    assert order.arrival_mid == book.mid
    assert ledger_problems() == []


def test_resting_limit_fills_from_simulated_prints(sim, sim_instrument, make_portfolio, user):
    matcher = Matcher(threaded=False)
    book = sim.book("binance", "BTCUSDT")
    matcher.on_event(book)
    tick = sim_instrument.tick_size
    limit = book.best_bid - 20 * tick
    p = make_portfolio(starting_balances={"USDT": str((limit * 2).quantize(D("1")) + 10)})
    order = order_place(
        portfolio=p, actor=user, symbol="BTCUSDT", side="buy", order_type="limit", quantity="1", price=limit
    )
    assert order.status == "new"
    matcher.load()
    # The market prints exactly at our price (a touch), then one tick through it.
    sim.set_price_path("binance", "BTCUSDT", [limit, limit - tick])
    touch = wait_for_print(sim, limit)
    through = wait_for_print(sim, limit - tick)
    matcher.on_event(touch)
    matcher.on_event(through)
    matcher.process_pending()
    order.refresh_from_db()
    fill = order.fills.get()
    assert (fill.price, fill.quantity, fill.liquidity, fill.trade_id) == (
        limit,
        min(D(1), through.quantity),
        "maker",
        through.trade_id,
    )
    assert order.status == ("filled" if through.quantity >= 1 else "partially_filled")
    assert ledger_problems() == []
