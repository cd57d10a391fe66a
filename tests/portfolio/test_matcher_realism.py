"""Queue position, cancel latency and downtime replay through the matcher and the services."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from django.db import connection

from apps.market.models import Candle
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.matcher import Matcher
from apps.portfolio.models import Balance, MatcherCheckpoint, Order, Portfolio
from apps.portfolio.rules import OrderRejectedError
from apps.portfolio.services import order_place
from apps.portfolio.services.cancels import order_cancel
from apps.portfolio.services.replay import checkpoints_get
from apps.portfolio.services.resting import order_arrival_ms
from apps.safety.models import AuditEvent
from tests.portfolio.conftest import make_trade

pytestmark = pytest.mark.django_db

M = 60_000
T = 1_699_999_980_000  # a minute boundary


def bal(portfolio, asset):
    row = Balance.objects.get(portfolio=portfolio, asset=asset)
    return row.free, row.locked


def place(portfolio, user, **kwargs):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", **kwargs)


def feed(matcher, *events):
    for event in events:
        matcher.on_event(event)
    return matcher.process_pending()


def dt(ms):
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


# -- queue position ---------------------------------------------------------------------------


def test_queue_model_fills_at_the_price_only_after_the_queue_ahead(make_portfolio, std_book, user):
    p = make_portfolio()
    Portfolio.objects.filter(pk=p.pk).update(queue_position_model=True)
    order = place(p, user, side="buy", order_type="limit", quantity="2", price="99")  # 1.0 bid ahead at 99
    m = Matcher(threaded=False)
    m.load()
    assert feed(m, make_trade("99", "0.6", trade_id="a")) == 1  # queue 1.0 -> 0.4, no fill
    order.refresh_from_db()
    assert (order.queue_ahead, order.filled_qty, order.status) == (D("0.4"), 0, "new")
    feed(m, make_trade("99", "0.7", trade_id="b"))  # 0.4 more queue, then 0.3 for us
    feed(m, make_trade("98.9", "0.5", trade_id="c"))  # through: fills 0.5, queue gone
    feed(m, make_trade("99", "5", trade_id="d"))  # at the price, nothing ahead: the rest, 1.2
    order.refresh_from_db()
    fills = [(f.quantity, f.price, f.rule, f.trade_id, f.liquidity) for f in order.fills.all()]
    assert fills == [
        (D("0.3"), D("99"), "queue_touch", "b", "maker"),
        (D("0.5"), D("99"), "trade_through", "c", "maker"),
        (D("1.2"), D("99"), "queue_touch", "d", "maker"),
    ]
    assert order.status == "filled" and order.queue_ahead == 0
    assert bal(p, "USDT") == (D("9802"), D("0"))
    assert bal(p, "BTC") == (D("2.998"), D("0"))  # 1 + 2 - 0.002 maker fee
    assert ledger_problems() == []


def test_without_the_queue_model_a_print_at_the_price_is_only_a_touch(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="1", price="99")
    m = Matcher(threaded=False)
    m.load()
    assert feed(m, make_trade("99", "50")) == 0
    order.refresh_from_db()
    assert order.filled_qty == 0 and order.queue_ahead is None


# -- cancel latency ---------------------------------------------------------------------------


def test_cancel_applies_prints_before_its_deadline_then_cancels(make_portfolio, std_book, user):
    p = make_portfolio(latency_ms=200, latency_jitter_ms=0)
    order = place(p, user, side="buy", order_type="limit", quantity="2", price="99")
    arrival = order_arrival_ms(order)
    now = arrival + 1_000  # cancel latency 200 ms: deadline arrival + 1200
    m = Matcher(threaded=False)
    m.load()
    for trade in (
        make_trade("98", "5", trade_id="early", ts_ms=arrival - 10),  # before the order existed
        make_trade("98.9", "0.5", trade_id="inflight", ts_ms=arrival + 1_100),
        make_trade("98", "5", trade_id="late", ts_ms=arrival + 1_300),  # after the cancel landed
    ):
        m.on_event(trade)  # queued by the matcher, not applied yet
    pending = m.pending_events(order_id=order.pk)
    assert len(pending) == 3
    canceled = order_cancel(order=order, actor=user, now_ms=now, pending=pending)
    assert canceled.status == "canceled"
    assert canceled.cancel_deadline_ms == now + 200
    assert [(f.trade_id, f.quantity) for f in canceled.fills.all()] == [("inflight", D("0.5"))]
    assert bal(p, "USDT") == (D("9950.5"), D("0"))  # only 0.5 * 99 spent, the rest released
    assert m.process_pending() == 0  # the matcher's copies find the order closed
    assert ledger_problems() == []


def test_cancel_racing_a_complete_fill_gets_unknown_order(make_portfolio, std_book, user):
    p = make_portfolio(latency_ms=200, latency_jitter_ms=0)
    order = place(p, user, side="sell", order_type="limit", quantity="1", price="101")
    arrival = order_arrival_ms(order)
    trade = make_trade("101.5", "3", trade_id="x", ts_ms=arrival + 150, taker="buy")
    with pytest.raises(OrderRejectedError, match="Unknown order"):
        order_cancel(order=order, actor=user, now_ms=arrival + 100, pending=[trade])
    order.refresh_from_db()
    assert order.status == "filled" and order.filled_qty == 1


def test_cancel_without_prints_in_flight_is_immediate(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="1", price="99")
    canceled = order_cancel(order=order, actor=user)
    assert canceled.status == "canceled" and canceled.fills.count() == 0
    assert bal(p, "USDT") == (D("10000"), D("0"))


# -- downtime replay -------------------------------------------------------------------------


def _candle(t, o, h, low, c, v):
    Candle.objects.create(
        exchange="binance",
        symbol="BTCUSDT",
        timeframe="1m",
        open_time=dt(t),
        open=D(o),
        high=D(h),
        low=D(low),
        close=D(c),
        volume=D(v),
        quote_volume=D(0),
    )


@pytest.fixture
def downtime(make_portfolio, std_book, user):
    """Orders placed 10 minutes before T; the matcher saw its last event at T+15s and
    restarts at T+5m20s. Candles exist for T+1m, T+2m and T+4m (T+3m is missing)."""
    p = make_portfolio()
    limit = place(p, user, side="buy", order_type="limit", quantity="2", price="99")
    stop = place(p, user, side="sell", order_type="stop_loss", quantity="1", stop_price="95")
    Order.objects.filter(pk__in=[limit.pk, stop.pk]).update(created_at=dt(T - 10 * M))
    MatcherCheckpoint.objects.create(exchange="binance", symbol="BTCUSDT", last_event_ms=T + 15_000)
    _candle(T - M, "100", "100", "90", "100", "99")  # before the window: ignored
    _candle(T + M, "100", "100.5", "99", "99.5", "10")  # touches 99: no fill
    _candle(T + 2 * M, "99", "99.5", "93", "94", "5")  # through 99; stop 95 crossed
    _candle(T + 4 * M, "94", "99", "92", "98", "30")
    return p, limit, stop


def test_restart_replays_candles_and_marks_the_rest(downtime, user):
    p, limit, stop = downtime
    m = Matcher(threaded=False)
    results = m.start(now_ms=T + 5 * M + 20_000)
    assert sorted((r.replayed_bars, r.fills) for r in results) == [(3, 2), (3, 2)]
    limit.refresh_from_db()
    stop.refresh_from_db()
    # limit buy 2 @ 99: 10 % of the volume of each bar that traded through 99
    assert [(f.quantity, f.price, f.rule, f.liquidity, f.trade_id) for f in limit.fills.all()] == [
        (D("0.5"), D("99"), "replay_candle", "maker", f"candle:{T + 2 * M}"),
        (D("1.5"), D("99"), "replay_candle", "maker", f"candle:{T + 4 * M}"),
    ]
    assert limit.status == "filled"
    # stop-loss sell 1 @ 95: triggered in the T+2m bar, fills at its low 93 (capped 0.5), the
    # rest at the next bar's low 92
    assert [(f.quantity, f.price, f.rule, f.liquidity, f.fee) for f in stop.fills.all()] == [
        (D("0.5"), D("93"), "replay_candle", "taker", D("0.0465")),
        (D("0.5"), D("92"), "replay_candle", "taker", D("0.046")),
    ]
    assert stop.status == "filled" and stop.triggered
    for order in (limit, stop):
        assert order.not_simulated
        rows = [(d.kind, d.start_ms, d.end_ms, d.candles) for d in order.downtimes.all()]
        assert rows == [
            ("replayed", T + 15_000, T + 5 * M + 20_000, 3),
            ("not_simulated", T + 15_000, T + M, 0),
            ("not_simulated", T + 3 * M, T + 4 * M, 0),
            ("not_simulated", T + 5 * M, T + 5 * M + 20_000, 0),
        ]
    assert bal(p, "USDT") == (D("10000") - D("198") + D("46.5") + D("46") - D("0.0925"), D("0"))
    assert bal(p, "BTC") == (D("1") + D("2") - D("0.002") - D("1"), D("0"))
    messages = list(
        AuditEvent.objects.filter(action="order.not_simulated", data__order_id=limit.pk)
        .order_by("id")
        .values_list("message", flat=True)
    )
    assert messages[0] == (
        f"#{limit.pk}: not simulated during downtime from 2023-11-14 22:13:15 UTC to "
        "2023-11-14 22:14:00 UTC (no stored 1m candles)"
    )
    assert AuditEvent.objects.filter(action="order.downtime_replayed").count() == 2
    # The replay's own audit rows are about the order; each fill's row names its own fill.
    for order in (limit, stop):
        events = AuditEvent.objects.filter(data__order_id=order.pk, portfolio_id=p.pk)
        assert not any("fill_id" in e.data for e in events if e.category != "fill")
        fill_rows = sorted(e.data["fill_id"] for e in events if e.category == "fill")
        assert fill_rows == sorted(order.fills.values_list("id", flat=True))
    assert checkpoints_get()[("binance", "BTCUSDT")] == T + 5 * M + 20_000
    assert ledger_problems() == []


def test_replay_is_not_applied_twice_and_late_prints_are_skipped(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="2", price="99")
    Order.objects.filter(pk=order.pk).update(created_at=dt(T))  # no checkpoint: from its arrival
    _candle(T, "99", "99.5", "98", "98.5", "4")  # fills 0.4
    m = Matcher(threaded=False)
    m.start(now_ms=T + M)
    m.start(now_ms=T + M)  # a second restart with no new events: nothing more
    order.refresh_from_db()
    assert order.filled_qty == D("0.4") and order.matched_until_ms == T + M
    assert not order.not_simulated
    # a print from inside the replayed window arriving late is not applied again
    assert feed(m, make_trade("98", "5", ts_ms=T + 30_000)) == 0
    feed(m, make_trade("98", "0.1", trade_id="live", ts_ms=T + M + 5))
    order.refresh_from_db()
    assert order.filled_qty == D("0.5")


@pytest.mark.django_db(transaction=True)
def test_restart_waits_for_the_gap_fill_before_replaying(make_portfolio, std_book, user):
    """The outage's candles reach the database only with the feeds' REST gap fill, after the
    first live event started the matcher: the replay waits for them instead of marking the
    window not simulated (the fill the market allowed happens, at its minute and price)."""
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="0.1", price="99")
    MatcherCheckpoint.objects.create(exchange="binance", symbol="BTCUSDT", last_event_ms=T)
    Order.objects.filter(pk=order.pk).update(created_at=dt(T - M))

    def store_the_gap():
        for i in range(3):
            _candle(T + i * M, "100", "100", "98" if i == 1 else "99.5", "100", "10")
        connection.close()  # this thread's own connection

    gap_fill = threading.Timer(0.5, store_the_gap)
    gap_fill.start()
    try:
        (result,) = Matcher(threaded=False).start(now_ms=T + 3 * M + 10_000, candles_wait_s=30)
    finally:
        gap_fill.join()
    assert (result.replayed_bars, result.fills) == (2, 1)  # the bars wholly after the checkpoint
    order.refresh_from_db()
    assert order.status == "filled"
    assert [(f.price, f.trade_id) for f in order.fills.all()] == [(D("99"), f"candle:{T + M}")]
    assert ledger_problems() == []


def test_restart_without_candles_marks_the_order_not_simulated(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="1", price="99")
    MatcherCheckpoint.objects.create(exchange="binance", symbol="BTCUSDT", last_event_ms=T)
    Order.objects.filter(pk=order.pk).update(created_at=dt(T - M))
    m = Matcher(threaded=False)
    (result,) = m.start(now_ms=T + 3 * M, candles_wait_s=0.2)
    assert (result.replayed_bars, result.fills, result.gaps) == (0, 0, [(T, T + 3 * M)])
    order.refresh_from_db()
    assert order.is_open and order.not_simulated and order.fills.count() == 0
    assert [(d.kind, d.start_ms, d.end_ms) for d in order.downtimes.all()] == [("not_simulated", T, T + 3 * M)]
    assert m.open_count() == 1  # it keeps resting
    assert bal(p, "USDT") == (D("9901"), D("99"))


def test_matcher_checkpoints_the_newest_event_per_symbol(btc):
    m = Matcher(threaded=False)
    m.on_event(make_trade("100", "1", ts_ms=5_000))
    m.on_event(make_trade("100", "1", ts_ms=4_000))
    m.on_event(make_trade("100", "1", exchange="kucoin", ts_ms=7_000))
    assert m.checkpoint_flush() == 2
    assert m.checkpoint_flush() == 0
    m.on_event(make_trade("100", "1", ts_ms=6_000))
    m.checkpoint_flush()
    assert checkpoints_get() == {("binance", "BTCUSDT"): 6_000, ("kucoin", "BTCUSDT"): 7_000}
