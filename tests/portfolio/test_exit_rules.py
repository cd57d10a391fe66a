"""The pure trigger rules of stops, take-profits and trailing stops (issue 17), hand-computed:
one print (the live matcher) and a candle's intra-candle path (downtime replay, backtester)."""

from __future__ import annotations

from decimal import Decimal as D

from apps.portfolio.resting_rules import (
    ExitSpec,
    bar_path,
    first_path_trigger,
    path_trigger,
    stop_triggered,
    trailing_trigger_price,
    trigger_on_trade,
)

TRAIL_SELL = ExitSpec("trailing_stop", "sell", trailing_delta_bps=250)  # 2.5 %
TRAIL_BUY = ExitSpec("trailing_stop", "buy", trailing_delta_bps=100)


def test_trailing_trigger_price():
    assert trailing_trigger_price(side="sell", best_price=D("200"), trailing_delta_bps=250) == D("195")
    assert trailing_trigger_price(side="buy", best_price=D("200"), trailing_delta_bps=100) == D("202")


def test_a_sell_trailing_stop_follows_the_highest_print_and_triggers_at_or_below_its_level():
    best, hit = trigger_on_trade(TRAIL_SELL, best_price=D("100"), trade_price=D("104"))
    assert (best, hit) == (D("104"), False)  # a new high moves the level to 101.4
    assert trigger_on_trade(TRAIL_SELL, best_price=best, trade_price=D("101.41")) == (D("104"), False)
    assert trigger_on_trade(TRAIL_SELL, best_price=best, trade_price=D("101.40")) == (D("104"), True)
    # No best price yet: the first print starts the trail (it cannot trigger it).
    assert trigger_on_trade(TRAIL_SELL, best_price=None, trade_price=D("50")) == (D("50"), False)


def test_a_buy_trailing_stop_follows_the_lowest_print():
    best, hit = trigger_on_trade(TRAIL_BUY, best_price=D("100"), trade_price=D("95"))
    assert (best, hit) == (D("95"), False)  # level 95.95
    assert trigger_on_trade(TRAIL_BUY, best_price=best, trade_price=D("95.94"))[1] is False
    assert trigger_on_trade(TRAIL_BUY, best_price=best, trade_price=D("95.95"))[1] is True


def test_fixed_stops_and_take_profits_on_one_print():
    assert stop_triggered(order_type="stop_loss", side="sell", stop_price=D("99"), trade_price=D("99"))
    assert not stop_triggered(order_type="stop_loss", side="sell", stop_price=D("99"), trade_price=D("99.01"))
    assert stop_triggered(order_type="take_profit", side="sell", stop_price=D("105"), trade_price=D("105.5"))
    assert stop_triggered(order_type="stop_loss_limit", side="buy", stop_price=D("105"), trade_price=D("105"))
    assert stop_triggered(order_type="take_profit_limit", side="buy", stop_price=D("95"), trade_price=D("94"))


def test_the_intra_candle_path():
    # Closed at or above its open: the low first; below its open: the high first.
    assert bar_path(open_=D("10"), high=D("12"), low=D("9"), close=D("11")) == (D("10"), D("9"), D("12"), D("11"))
    assert bar_path(open_=D("10"), high=D("12"), low=D("9"), close=D("10")) == (D("10"), D("9"), D("12"), D("10"))
    assert bar_path(open_=D("10"), high=D("12"), low=D("9"), close=D("9.5")) == (D("10"), D("12"), D("9"), D("9.5"))


def test_a_trailing_stop_on_the_path_triggers_at_its_level_inside_a_leg():
    # Falling candle 100 -> 110 -> 96 -> 97: the trail rises to 110 (level 107.25), the leg
    # down to 96 crosses it at 107.25; the fill bound is the low after it, 96.
    path = bar_path(open_=D("100"), high=D("110"), low=D("96"), close=D("97"))
    hit, best = path_trigger(TRAIL_SELL, best_price=D("100"), path=path)
    assert (hit.index, hit.trigger_price, hit.fill_price, best) == (2, D("107.250"), D("96"), D("110"))
    # Rising candle 100 -> 99 -> 110 -> 109: the low (99) is above 97.5, the high moves the
    # level to 107.25, the close 109 is above it: no trigger, best 110.
    path = bar_path(open_=D("100"), high=D("110"), low=D("99"), close=D("109"))
    assert path_trigger(TRAIL_SELL, best_price=D("100"), path=path) == (None, D("110"))


def test_a_gap_through_the_stop_at_the_open_triggers_at_the_open():
    stop = ExitSpec("stop_loss", "sell", stop_price=D("99"))
    path = bar_path(open_=D("98"), high=D("98.5"), low=D("97"), close=D("98.2"))  # rising: 98, 97, 98.5, 98.2
    hit, _ = path_trigger(stop, best_price=None, path=path)
    assert (hit.index, hit.trigger_price, hit.fill_price) == (0, D("98"), D("97"))


def test_the_first_exit_of_an_oco_to_trigger_on_the_path():
    stop = ExitSpec("stop_loss", "sell", stop_price=D("95"))
    take = ExitSpec("take_profit", "sell", stop_price=D("105"))
    # Rising candle through both: the low (the stop) comes first.
    rising = bar_path(open_=D("100"), high=D("106"), low=D("94"), close=D("104"))
    k, hit = first_path_trigger([take, stop], best_prices=[None, None], path=rising)
    assert (k, hit.trigger_price, hit.fill_price) == (1, D("95"), D("94"))
    # Falling candle through both: the high (the take-profit) comes first.
    falling = bar_path(open_=D("100"), high=D("106"), low=D("94"), close=D("96"))
    k, hit = first_path_trigger([take, stop], best_prices=[None, None], path=falling)
    assert (k, hit.trigger_price, hit.fill_price) == (0, D("105"), D("105"))
    # Stop and trailing stop crossed on the same leg down: the higher level is met first.
    trail = ExitSpec("trailing_stop", "sell", trailing_delta_bps=200)  # from 100: level 98
    k, hit = first_path_trigger([stop, trail], best_prices=[None, D("100")], path=rising)
    assert (k, hit.trigger_price) == (1, D("98.00"))
    # Nothing triggers: the trailing stop's best price moves (in place).
    bests = [None, D("100")]
    quiet = bar_path(open_=D("100"), high=D("103"), low=D("99"), close=D("102"))
    assert first_path_trigger([stop, trail], best_prices=bests, path=quiet) is None
    assert bests == [None, D("103")]
