"""Trailing stops and OCO lists through the order service, the matcher, cancels and the
downtime replay (issue 17). Prices are hand-computed in the comments."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from apps.market.models import Candle
from apps.portfolio import books
from apps.portfolio.errors import OrderRejectedError, OrderStateError
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.matcher import Matcher
from apps.portfolio.models import Balance, Order
from apps.portfolio.services import order_cancel, order_place
from apps.portfolio.services.order_lists import Leg, oco_place
from apps.portfolio.services.replay import order_downtime_replay
from tests.portfolio.conftest import make_book, make_trade

pytestmark = pytest.mark.django_db

# A book around 100 deep enough that a stop's walk is bounded by the triggering print.
ASKS = [("100.10", "5"), ("100.20", "5")]
BIDS = [("99.90", "5"), ("99.80", "5"), ("90", "50")]


def bal(portfolio, asset):
    row = Balance.objects.get(portfolio=portfolio, asset=asset)
    return row.free, row.locked


@pytest.fixture
def book(btc):
    book = make_book(ASKS, BIDS)
    books.book_record(book)
    books.trade_record(make_trade("100", "1", ts_ms=1_000, trade_id="t0"))
    return book


@pytest.fixture
def matcher():
    m = Matcher(threaded=False)
    m.load()
    return m


def feed(matcher, *events):
    for event in events:
        matcher.on_event(event)
    return matcher.process_pending()


def place(portfolio, user, **kwargs):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", **kwargs)


# -- trailing stop -------------------------------------------------------------------------


def test_trailing_stop_follows_the_best_print_and_fills_at_the_first_print_through(make_portfolio, book, user, matcher):
    p = make_portfolio()
    order = place(p, user, side="sell", order_type="trailing_stop", quantity="0.5", trailing_delta_bps=100)
    assert (order.status, order.trail_best, order.locked_amount) == ("new", D("100"), D("0.5"))
    matcher.load()
    # 101 then 99.99 (= 101 x 0.99): the trail moves up to 101, then 99.99 is "at" its trigger.
    feed(matcher, make_trade("101", "1", ts_ms=2_000, trade_id="t1"))
    order.refresh_from_db()
    assert (order.trail_best, order.triggered, order.status) == (D("101"), False, "new")
    feed(matcher, make_trade("100.5", "1", ts_ms=3_000, trade_id="t2"))  # above 99.99: nothing
    order.refresh_from_db()
    assert not order.triggered
    feed(matcher, make_trade("99.5", "1", ts_ms=4_000, trade_id="t3"))
    order.refresh_from_db()
    # Triggered by the print at 99.5; the book's bids (99.9) are better than the print, so
    # the gap rule fills at the print itself, never at the trigger 99.99.
    assert order.triggered and order.status == "filled"
    assert [(f.price, f.quantity, f.rule) for f in order.fills.all()] == [(D("99.5"), D("0.5"), "stop_gap")]
    assert bal(p, "BTC") == (D("0.5"), D("0"))
    assert ledger_problems() == []


def test_trailing_stop_shape_and_filters(make_portfolio, book, user):
    p = make_portfolio()
    with pytest.raises(OrderRejectedError) as missing:
        place(p, user, side="sell", order_type="trailing_stop", quantity="0.5")
    assert missing.value.code == "-1102"
    with pytest.raises(OrderRejectedError) as too_wide:
        place(p, user, side="sell", order_type="trailing_stop", quantity="0.5", trailing_delta_bps=2001)
    assert (too_wide.value.code, too_wide.value.message) == ("-1013", "Filter failure: TRAILING_DELTA")
    with pytest.raises(OrderRejectedError) as not_here:
        place(p, user, side="sell", order_type="stop_loss", quantity="0.5", stop_price="95", trailing_delta_bps=100)
    assert not_here.value.code == "-1106"


def test_buy_trailing_stop_reserves_its_trigger_plus_the_slippage_band(make_portfolio, book, user):
    p = make_portfolio(max_slippage_bps="500")
    order = place(p, user, side="buy", order_type="trailing_stop", quantity="1", trailing_delta_bps=200)
    # trigger 100 x 1.02 = 102; reserve 1 x 102 x 1.05 = 107.1
    assert order.locked_amount == D("107.1")
    assert bal(p, "USDT") == (D("9892.9"), D("107.1"))


# -- OCO -----------------------------------------------------------------------------------


def _sell_oco(p, user, **kwargs):
    return oco_place(
        portfolio=p,
        actor=user,
        symbol="BTCUSDT",
        side="sell",
        quantity="0.5",
        above=Leg(order_type="take_profit", stop_price="105"),
        below=Leg(order_type="stop_loss", stop_price="99"),
        **kwargs,
    )


def test_oco_reserves_once_and_the_first_trigger_cancels_the_other(make_portfolio, book, user, matcher):
    p = make_portfolio()
    order_list = _sell_oco(p, user, client_order_id="exit1")
    take, stop = order_list.orders.order_by("id")
    assert (take.client_order_id, stop.client_order_id) == ("exit1-a", "exit1-b")
    assert (take.locked_amount, stop.locked_amount) == (D("0.5"), D("0"))
    assert bal(p, "BTC") == (D("0.5"), D("0.5"))  # 0.5 reserved once, not twice
    assert ledger_problems() == []
    matcher.load()
    # 99.2 is above the stop; 98.7 is the first print through it: the stop fills there.
    feed(matcher, make_trade("99.2", "1", ts_ms=2_000, trade_id="t1"))
    feed(
        matcher, make_trade("98.7", "1", ts_ms=2_500, trade_id="t2"), make_trade("98", "1", ts_ms=2_600, trade_id="t3")
    )
    take.refresh_from_db()
    stop.refresh_from_db()
    assert (stop.status, stop.avg_price) == ("filled", D("98.7"))
    assert (take.status, take.locked_amount) == ("canceled", D("0"))
    assert take.reason == f"OCO: order #{stop.pk} triggered"
    assert bal(p, "BTC") == (D("0.5"), D("0"))
    assert ledger_problems() == []
    # The canceled take-profit left the matcher: a print through it does nothing.
    assert feed(matcher, make_trade("106", "1", ts_ms=3_000, trade_id="t4")) == 0


def test_canceling_one_order_of_an_oco_cancels_the_list(make_portfolio, book, user):
    p = make_portfolio()
    take, stop = _sell_oco(p, user).orders.order_by("id")
    order_cancel(order=stop, actor=user)
    take.refresh_from_db()
    stop.refresh_from_db()
    assert (take.status, stop.status) == ("canceled", "canceled")
    assert bal(p, "BTC") == (D("1"), D("0"))
    assert ledger_problems() == []
    with pytest.raises(OrderStateError):
        order_cancel(order=take, actor=user)


def test_oco_legs_must_sit_on_their_side(make_portfolio, book, user):
    p = make_portfolio()
    with pytest.raises(OrderRejectedError) as wrong:
        oco_place(
            portfolio=p,
            actor=user,
            symbol="BTCUSDT",
            side="sell",
            quantity="0.5",
            above=Leg(order_type="stop_loss", stop_price="105"),
            below=Leg(order_type="stop_loss", stop_price="99"),
        )
    assert wrong.value.code == "-1116"
    # A leg refused by the exchange rules leaves nothing behind (one transaction).
    with pytest.raises(OrderRejectedError):
        oco_place(
            portfolio=p,
            actor=user,
            symbol="BTCUSDT",
            side="sell",
            quantity="0.5",
            above=Leg(order_type="limit", price="105"),
            below=Leg(order_type="stop_loss", stop_price="101"),  # would trigger now (last 100)
        )
    assert not Order.objects.filter(portfolio=p).exists()
    assert bal(p, "BTC") == (D("1"), D("0"))


def test_oco_limit_leg_holds_the_reserve_and_its_first_partial_fill_cancels_the_stop(
    make_portfolio, book, user, matcher
):
    p = make_portfolio()
    order_list = oco_place(
        portfolio=p,
        actor=user,
        symbol="BTCUSDT",
        side="sell",
        quantity="0.5",
        above=Leg(order_type="limit", price="102"),
        below=Leg(order_type="trailing_stop", trailing_delta_bps=100),
    )
    limit, trailing = order_list.orders.order_by("id")
    assert (limit.order_type, limit.locked_amount, trailing.locked_amount) == ("limit", D("0.5"), D("0"))
    matcher.load()
    feed(matcher, make_trade("102.5", "0.2", ts_ms=2_000, trade_id="t1"))  # through 102: 0.2 fills
    limit.refresh_from_db()
    trailing.refresh_from_db()
    assert (limit.status, limit.filled_qty, limit.locked_amount) == ("partially_filled", D("0.2"), D("0.3"))
    assert trailing.status == "canceled"
    assert ledger_problems() == []


def test_buy_oco_reserves_the_larger_need_once(make_portfolio, book, user):
    p = make_portfolio(max_slippage_bps="500")
    order_list = oco_place(
        portfolio=p,
        actor=user,
        symbol="BTCUSDT",
        side="buy",
        quantity="1",
        above=Leg(order_type="stop_loss", stop_price="101"),
        below=Leg(order_type="limit", price="95"),
    )
    limit, stop = order_list.orders.order_by("id")
    # limit 1 x 95 = 95; stop 1 x 101 x 1.05 = 106.05: the list reserves 106.05, on the limit.
    assert (limit.order_type, limit.locked_amount, stop.locked_amount) == ("limit", D("106.05"), D("0"))
    assert bal(p, "USDT") == (D("9893.95"), D("106.05"))
    assert ledger_problems() == []


# -- downtime replay -----------------------------------------------------------------------

T = 1_800_000_000_000
M = 60_000


def _candle(open_ms, o, h, low, c, v="10"):
    Candle.objects.create(
        exchange="binance",
        symbol="BTCUSDT",
        timeframe="1m",
        open_time=datetime.fromtimestamp(open_ms / 1000, tz=UTC),
        open=D(o),
        high=D(h),
        low=D(low),
        close=D(c),
        volume=D(v),
        quote_volume=D(0),
    )


def test_replay_moves_a_trailing_stop_along_the_candle_path_and_cancels_its_oco_sibling(make_portfolio, book, user):
    p = make_portfolio()
    order_list = oco_place(
        portfolio=p,
        actor=user,
        symbol="BTCUSDT",
        side="sell",
        quantity="0.5",
        above=Leg(order_type="take_profit", stop_price="110"),
        below=Leg(order_type="trailing_stop", trailing_delta_bps=200),
    )
    take, trailing = order_list.orders.order_by("id")
    Order.objects.filter(pk__in=[take.pk, trailing.pk]).update(
        created_at=datetime.fromtimestamp((T - M) / 1000, tz=UTC)
    )
    # Rising candle: path 100 -> 99.5 -> 104 -> 103.5: best 104, trigger 101.92, not reached.
    _candle(T, "100", "104", "99.5", "103.5")
    # Falling candle: path 103.5 -> 105 -> 101 -> 101.5: best 105, trigger 102.9, crossed on
    # the way down to 101; fills at the worse of 102.9 and the low after it, 101.
    _candle(T + M, "103.5", "105", "101", "101.5")
    result = order_downtime_replay(order_id=trailing.pk, start_ms=T, end_ms=T + 2 * M)
    assert (result.replayed_bars, result.fills) == (2, 1)
    trailing.refresh_from_db()
    take.refresh_from_db()
    assert trailing.trail_best == D("105") and trailing.triggered
    assert [(f.price, f.quantity, f.rule) for f in trailing.fills.all()] == [(D("101"), D("0.5"), "replay_candle")]
    assert take.status == "canceled"
    assert ledger_problems() == []


def test_replay_of_an_oco_lets_the_order_the_downtime_reached_first_cancel_the_other(make_portfolio, book, user):
    from apps.portfolio.services.replay import matcher_downtime_replay

    p = make_portfolio()
    take, stop = _sell_oco(p, user).orders.order_by("id")  # take-profit 105 placed first
    Order.objects.filter(pk__in=[take.pk, stop.pk]).update(created_at=datetime.fromtimestamp((T - M) / 1000, tz=UTC))
    # Rising candle 100 -> 99.5 -> 106 -> 105.5: the take-profit (105) is reached, the stop
    # (99) not; a minute later the price falls through the stop.
    _candle(T, "100", "106", "99.5", "105.5")
    _candle(T + M, "105.5", "105.6", "97", "97.5")
    matcher_downtime_replay(now_ms=T + 2 * M, checkpoints={("binance", "BTCUSDT"): T})
    take.refresh_from_db()
    stop.refresh_from_db()
    # The take-profit fills at its trigger (105: the worse of 105 and the high after it); the
    # stop, reached only a minute later (and loaded first: orders come newest first), was
    # canceled by it.
    assert (take.status, [f.price for f in take.fills.all()]) == ("filled", [D("105")])
    assert (stop.status, stop.filled_qty) == ("canceled", D("0"))
    assert ledger_problems() == []


def test_canceling_the_leg_without_the_reserve_releases_the_list_reserve_under_its_holder(make_portfolio, book, user):
    from apps.portfolio.models import Journal
    from apps.safety.models import AuditEvent

    p = make_portfolio()
    take, stop = _sell_oco(p, user).orders.order_by("id")
    assert take.locked_amount == D("0.5") and stop.locked_amount == 0
    order_cancel(order=stop, actor=user)  # the leg that reserves nothing
    release = Journal.objects.get(portfolio=p, kind="release")
    assert release.order_id == take.pk  # the reserve is released by the order that held it
    assert AuditEvent.objects.filter(action="order.cancel", data__order_id=take.pk).exists()
    assert AuditEvent.objects.filter(action="order.cancel", data__order_id=stop.pk).exists()
    assert bal(p, "BTC") == (D("1"), D("0"))
    assert ledger_problems() == []
