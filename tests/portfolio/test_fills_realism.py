"""Pure rules for queue position, cancel latency and downtime replay (hand-computed)."""

from __future__ import annotations

from decimal import Decimal as D

from apps.portfolio import arrival, downtime, resting_rules
from tests.portfolio.conftest import STD_ASKS, STD_BIDS, make_book


def bar(o, h, low, c, v, t=0):
    return downtime.Bar(open_time_ms=t, open=D(o), high=D(h), low=D(low), close=D(c), volume=D(v))


def test_queue_ahead_estimate_from_the_arrival_book():
    book = make_book(STD_ASKS, STD_BIDS)  # bids 99.50x0.5, 99x1, 98x2; asks 100.50x0.5, 101x1, 102x2
    est = resting_rules.queue_ahead_estimate
    assert est(side="buy", price=D("99"), book=book) == D("1.0")  # joins the back of the level
    assert est(side="buy", price=D("99.8"), book=book) == 0  # improves the best bid
    assert est(side="buy", price=D("98.5"), book=book) == 0  # opens a level between two
    assert est(side="buy", price=D("97"), book=book) == D("2.0")  # beyond depth: largest displayed
    assert est(side="sell", price=D("101"), book=book) == D("1.0")
    assert est(side="sell", price=D("103"), book=book) == D("2.0")


def test_resting_fill_with_queue():
    fill = resting_rules.resting_fill_with_queue
    common = {"side": "buy", "limit_price": D("99"), "remaining": D("2"), "step_size": D("0.001")}
    # at our price: 0.6 of the 1.0 ahead eaten, no fill
    assert fill(**common, trade_price=D("99"), trade_qty=D("0.6"), queue_ahead=D("1")) == (0, D("0.4"), "queue_touch")
    # 0.7 printed: 0.4 finishes the queue, 0.3 fills us
    assert fill(**common, trade_price=D("99"), trade_qty=D("0.7"), queue_ahead=D("0.4")) == (
        D("0.3"),
        0,
        "queue_touch",
    )
    # through our price: filled up to the print size, queue cleared
    assert fill(**common, trade_price=D("98.9"), trade_qty=D("0.5"), queue_ahead=D("3")) == (
        D("0.5"),
        0,
        "trade_through",
    )
    # a print above a bid does nothing
    assert fill(**common, trade_price=D("99.1"), trade_qty=D("9"), queue_ahead=D("1")) == (0, D("1"), "queue_touch")
    # the sell side mirrors it
    sell = {"side": "sell", "limit_price": D("101"), "remaining": D("1"), "step_size": D("0.001")}
    assert fill(**sell, trade_price=D("101"), trade_qty=D("5"), queue_ahead=D("4.5")) == (D("0.5"), 0, "queue_touch")


def test_cancel_latency_is_seeded_and_differs_from_the_order_latency():
    a = arrival.cancel_latency_ms(seed=7, seq=3, mean_ms=250, jitter_ms=50)
    assert a == arrival.cancel_latency_ms(seed=7, seq=3, mean_ms=250, jitter_ms=50)
    draws = {arrival.cancel_latency_ms(seed=7, seq=s, mean_ms=250, jitter_ms=50) for s in range(20)}
    assert len(draws) > 5
    assert arrival.cancel_latency_ms(seed=7, seq=3, mean_ms=200, jitter_ms=0) == 200
    assert arrival.cancel_latency_ms(seed=7, seq=3, mean_ms=0, jitter_ms=50) == 0


def test_downtime_coverage_uses_whole_bars_only():
    m = 60_000
    used, gaps = downtime.downtime_coverage(
        start_ms=15_000, end_ms=5 * m + 20_000, bar_opens=[0, m, 2 * m, 4 * m, 5 * m]
    )
    # bar 0 straddles the start, bar 5m straddles the end; 3m is missing
    assert used == [m, 2 * m, 4 * m]
    assert gaps == [(15_000, m), (3 * m, 4 * m), (5 * m, 5 * m + 20_000)]
    assert downtime.downtime_coverage(start_ms=0, end_ms=m + 1_500, bar_opens=[0]) == ([0], [])  # 1.5 s tail ignored
    assert downtime.downtime_coverage(start_ms=0, end_ms=m, bar_opens=[]) == ([], [(0, m)])


def test_limit_fills_in_a_bar_only_through_its_price_capped_by_volume():
    fill = downtime.limit_fill_in_bar
    assert (
        fill(side="buy", limit_price=D("99"), remaining=D("2"), bar=bar(100, 101, 99, 100, 10), step_size=D("0.001"))
        == 0
    )
    assert fill(
        side="buy", limit_price=D("99"), remaining=D("2"), bar=bar(99, 99.5, 93, 94, 5), step_size=D("0.001")
    ) == D("0.5")
    assert fill(
        side="buy", limit_price=D("99"), remaining=D("1.5"), bar=bar(94, 99, 92, 98, 30), step_size=D("0.001")
    ) == D("1.5")
    assert fill(
        side="sell", limit_price=D("101"), remaining=D("1"), bar=bar(100, 101.2, 99, 101, 2), step_size=D("0.001")
    ) == D("0.2")


def _in_bar(order_type, side, stop, candle):
    from apps.portfolio.resting_rules import ExitSpec, path_trigger

    hit, _ = path_trigger(ExitSpec(order_type, side, D(stop)), best_price=None, path=downtime.bar_prints(candle))
    return hit


def test_stop_in_a_bar_fills_at_the_worse_of_trigger_and_extreme():
    crossed = bar(99, 99.5, 93, 94, 5)
    assert _in_bar("stop_loss", "sell", "95", crossed) is not None
    assert _in_bar("stop_loss", "sell", "92", crossed) is None
    # stop-loss sell at 95: crossed inside the bar -> the low, 93
    assert _in_bar("stop_loss", "sell", "95", crossed).fill_price == D("93")
    # stop-loss buy at 105, bar gaps open at 107: the high (108) is worse than the gap open
    assert _in_bar("stop_loss", "buy", "105", bar(107, 108, 106, 107, 1)).fill_price == D("108")
    # take-profit sell at 105: extreme (the high) is on the good side -> the trigger, 105
    assert _in_bar("take_profit", "sell", "105", bar(100, 110, 99, 104, 1)).fill_price == D("105")
    # take-profit sell gapping open above the stop: the opening print, 108
    assert _in_bar("take_profit", "sell", "105", bar(108, 110, 107, 109, 1)).fill_price == D("108")
    # take-profit buy (falls to 95), gap open at 94: the open
    assert _in_bar("take_profit", "buy", "95", bar(94, 96, 90, 95, 1)).fill_price == D("94")
    assert downtime.market_fill_price_in_bar(side="sell", bar=crossed) == D("93")
    assert downtime.market_fill_price_in_bar(side="buy", bar=crossed) == D("99.5")
