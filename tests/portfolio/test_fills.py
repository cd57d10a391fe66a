"""The pure fill engine, with hand-computed expectations (no database)."""

from __future__ import annotations

from decimal import Decimal as D

from apps.portfolio import arrival, resting_rules
from apps.portfolio import fills as engine
from apps.portfolio.liquidity.memory import MemoryLiquidity
from tests.portfolio.conftest import STD_ASKS, STD_BIDS, make_book


def test_market_buy_walks_levels_and_reports_quality():
    book = make_book(STD_ASKS, STD_BIDS)
    execution = engine.walk_book(book=book, side="buy", quantity=D("2"), step_size=D("0.001"))
    # 0.5 @ 100.50 + 1.0 @ 101.00 + 0.5 @ 102.00 = 50.25 + 101 + 51 = 202.25
    assert [(s.price, s.quantity) for s in execution.slices] == [
        (D("100.50"), D("0.5")),
        (D("101.00"), D("1.0")),
        (D("102.00"), D("0.5")),
    ]
    assert execution.quote == D("202.25")
    assert execution.avg_price == D("101.125")
    assert execution.arrival_mid == D("100")
    # (101.125 - 100) / 100 * 10000 = 112.5 bps
    assert execution.slippage_bps == D("112.5")
    assert {s.liquidity for s in execution.slices} == {"taker"}
    assert not execution.exhausted


def test_market_sell_walks_bids():
    book = make_book(STD_ASKS, STD_BIDS)
    execution = engine.walk_book(book=book, side="sell", quantity=D("1"))
    assert [(s.price, s.quantity) for s in execution.slices] == [(D("99.50"), D("0.5")), (D("99.00"), D("0.5"))]
    assert execution.avg_price == D("99.25")
    assert execution.slippage_bps == D("75")  # (100 - 99.25) / 100


def test_quote_quantity_spends_funds_in_steps():
    book = make_book(STD_ASKS, STD_BIDS)
    execution = engine.walk_book(book=book, side="buy", quote_quantity=D("100"), step_size=D("0.001"))
    # 0.5 @ 100.5 = 50.25; 49.75 left / 101 = 0.49257 -> 0.492 -> 49.692
    assert [(s.price, s.quantity) for s in execution.slices] == [(D("100.50"), D("0.5")), (D("101.00"), D("0.492"))]
    assert execution.quote == D("99.942")
    assert not execution.exhausted


def test_book_too_thin_is_exhausted():
    book = make_book(STD_ASKS, STD_BIDS)
    execution = engine.walk_book(book=book, side="buy", quantity=D("10"))
    assert execution.quantity == D("3.5")
    assert execution.exhausted


def test_consumed_liquidity_is_remembered_until_the_level_refreshes():
    consumed = MemoryLiquidity()
    book = make_book(STD_ASKS, STD_BIDS)
    first = engine.walk_book(book=book, side="buy", quantity=D("0.4"), consumed=consumed)
    assert [(s.price, s.quantity) for s in first.slices] == [(D("100.50"), D("0.4"))]
    # Same book again: only 0.1 left at 100.50, the rest comes from 101.
    second = engine.walk_book(book=book, side="buy", quantity=D("0.4"), consumed=consumed)
    assert [(s.price, s.quantity) for s in second.slices] == [(D("100.50"), D("0.1")), (D("101.00"), D("0.3"))]
    # The exchange refreshes the 100.50 level (new size): full size available again.
    refreshed = make_book([("100.50", "0.6"), ("101.00", "1.0")], STD_BIDS, ts_ms=2_000)
    third = engine.walk_book(book=refreshed, side="buy", quantity=D("0.6"), consumed=consumed)
    assert [(s.price, s.quantity) for s in third.slices] == [(D("100.50"), D("0.6"))]
    # 101.00 was not refreshed (same size 1.0): 0.3 of it is still consumed.
    fourth = engine.walk_book(book=refreshed, side="buy", quantity=D("1"), consumed=consumed)
    assert [(s.price, s.quantity) for s in fourth.slices] == [(D("101.00"), D("0.7"))]
    assert fourth.exhausted


def test_limit_price_bounds_the_walk():
    book = make_book(STD_ASKS, STD_BIDS)
    execution = engine.walk_book(book=book, side="buy", quantity=D("2"), limit_price=D("101.00"))
    assert execution.quantity == D("1.5")
    assert execution.exhausted


def test_slippage_band_stops_the_walk():
    book = make_book(STD_ASKS, STD_BIDS)
    # 150 bps from mid 100 -> at most 101.50
    execution = engine.walk_book(book=book, side="buy", quantity=D("3"), max_slippage_bps=D("150"))
    assert execution.quantity == D("1.5")


def test_stop_gap_fills_at_the_worse_price():
    # Sell stop at 100 triggered by a print at 97 while the (stale) book still bids 99.5.
    book = make_book(STD_ASKS, STD_BIDS)
    execution = engine.walk_book(book=book, side="sell", quantity=D("1"), gap_price=D("97"), rule=engine.RULE_STOP_GAP)
    assert [(s.price, s.quantity) for s in execution.slices] == [(D("97"), D("0.5")), (D("97"), D("0.5"))]
    assert {s.rule for s in execution.slices} == {"stop_gap"}


def test_resting_limit_fills_only_through_and_capped_by_print():
    kwargs = {"side": "buy", "limit_price": D("99"), "remaining": D("2")}
    assert resting_rules.resting_fill_on_trade(**kwargs, trade_price=D("99"), trade_qty=D("5")) == 0  # touch
    assert resting_rules.resting_fill_on_trade(**kwargs, trade_price=D("99.5"), trade_qty=D("5")) == 0
    assert resting_rules.resting_fill_on_trade(**kwargs, trade_price=D("98.9"), trade_qty=D("0.7")) == D("0.7")
    assert resting_rules.resting_fill_on_trade(**kwargs, trade_price=D("98"), trade_qty=D("5")) == D("2")
    sell = {"side": "sell", "limit_price": D("101"), "remaining": D("1")}
    assert resting_rules.resting_fill_on_trade(**sell, trade_price=D("101"), trade_qty=D("1")) == 0
    assert resting_rules.resting_fill_on_trade(**sell, trade_price=D("101.01"), trade_qty=D("0.25")) == D("0.25")


def test_stop_trigger_directions():
    t = resting_rules.stop_triggered
    assert t(order_type="stop_loss", side="sell", stop_price=D("95"), trade_price=D("95"))
    assert not t(order_type="stop_loss", side="sell", stop_price=D("95"), trade_price=D("95.01"))
    assert t(order_type="stop_loss_limit", side="buy", stop_price=D("105"), trade_price=D("105.5"))
    assert t(order_type="take_profit", side="sell", stop_price=D("110"), trade_price=D("110"))
    assert not t(order_type="take_profit", side="sell", stop_price=D("110"), trade_price=D("109"))
    assert t(order_type="take_profit_limit", side="buy", stop_price=D("90"), trade_price=D("89"))


def test_fees_tier_and_discounts():
    plain = engine.fee_schedule_for(
        exchange="binance", maker_rate=D("0.001"), taker_rate=D("0.001"), use_discount=False
    )
    bnb = engine.fee_schedule_for(exchange="binance", maker_rate=D("0.001"), taker_rate=D("0.001"), use_discount=True)
    kcs = engine.fee_schedule_for(exchange="kucoin", maker_rate=D("0.001"), taker_rate=D("0.001"), use_discount=True)
    vip = engine.fee_schedule_for(exchange="binance", maker_rate=D("0.0009"), taker_rate=D("0.001"), use_discount=False)
    assert plain.rate("taker") == D("0.001")
    assert bnb.rate("taker") == D("0.00075")
    assert kcs.rate("maker") == D("0.0008")
    assert vip.rate("maker") == D("0.0009")
    # Buy: fee in base; sell: fee in quote.
    assert bnb.fee(side="buy", quantity=D("2"), quote=D("200"), liquidity="taker") == D("0.0015")
    assert kcs.fee(side="sell", quantity=D("2"), quote=D("200"), liquidity="maker") == D("0.16")


def test_latency_is_seeded_and_picks_the_book():
    a = arrival.latency_sample_ms(seed=7, seq=1, mean_ms=250, jitter_ms=50)
    assert a == arrival.latency_sample_ms(seed=7, seq=1, mean_ms=250, jitter_ms=50)
    draws = {arrival.latency_sample_ms(seed=7, seq=seq, mean_ms=250, jitter_ms=50) for seq in range(20)}
    assert len(draws) > 5 and all(100 < d < 400 for d in draws)
    assert arrival.latency_sample_ms(seed=7, seq=1, mean_ms=0, jitter_ms=50) == 0
    history = [make_book(STD_ASKS, STD_BIDS, ts_ms=ts) for ts in (1000, 1200, 1400)]
    assert arrival.book_at(history, 1250).ts_ms == 1200
    assert arrival.book_at(history, 1400).ts_ms == 1400
    assert arrival.book_at(history, 900).ts_ms == 1000
    assert arrival.book_at([], 900) is None
