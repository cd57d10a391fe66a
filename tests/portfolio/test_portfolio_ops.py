"""Reset, metrics, CSV export, live pushes, ledger_check, scheduled snapshots, admin."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core.exceptions import ApplicationError
from apps.portfolio import books, selectors
from apps.portfolio.models import Balance, EquitySnapshot, Order
from apps.portfolio.services import order_place, portfolio_reset
from apps.portfolio.services.equity import equity_snapshot_all
from apps.safety.models import AuditEvent
from tests.channel_messages import channel_receive
from tests.portfolio.conftest import STD_BIDS, make_book

pytestmark = pytest.mark.django_db


def place(portfolio, user, **kwargs):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", **kwargs)


def test_reset_needs_confirmation_then_restores_start(make_portfolio, std_book, user):
    p = make_portfolio()
    place(p, user, side="buy", order_type="market", quantity="1")
    resting = place(p, user, side="buy", order_type="limit", quantity="1", price="90")
    with pytest.raises(ApplicationError) as caught:
        portfolio_reset(portfolio=p, actor=user)
    assert caught.value.code == "confirmation_required"
    portfolio_reset(portfolio=p, actor=user, confirm=True)
    balances = {b.asset: (b.free, b.locked) for b in Balance.objects.filter(portfolio=p)}
    assert balances == {"USDT": (D("10000"), D(0)), "BTC": (D("1"), D(0))}
    resting.refresh_from_db()
    assert resting.status == "canceled" and resting.locked_amount == 0
    assert not p.positions.exists()
    assert AuditEvent.objects.filter(action="portfolio.reset").count() == 1
    call_command("ledger_check")


def test_metrics_after_a_round_trip(make_portfolio, std_book, user):
    p = make_portfolio(starting_balances={"USDT": "1000"})
    place(p, user, side="buy", order_type="market", quantity="1")  # 0.5 @ 100.5 + 0.5 @ 101
    # The market moves up; sell into the new bids.
    books.book_record(make_book([("111", "5")], [("110", "5")], ts_ms=5_000))
    place(p, user, side="sell", order_type="market", quantity="0.999")
    metrics = selectors.portfolio_metrics_get(portfolio=p)
    # Bought 1 for 100.75, fee 0.001 BTC: 0.999 held at cost 100.75 (the fee is in the cost).
    # Sold 0.999 @ 110 = 109.89, fee 0.10989 USDT.
    assert metrics["trades"] == 1 and metrics["win_rate"] == 1
    assert metrics["realized_pnl"] == D("109.89") - D("100.75") - D("0.10989")
    # Base fees valued at their fill prices: 0.0005 * 100.5 + 0.0005 * 101, plus the quote fee.
    assert metrics["fees_paid"] == D("0.05025") + D("0.0505") + D("0.10989")
    assert metrics["equity"] == D("1000") - D("100.75") + D("109.89") - D("0.10989")
    assert metrics["average_slippage_bps"] is not None
    assert metrics["max_drawdown"] >= 0


def test_csv_export_rows_and_stream(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="market", quantity="0.6")
    orders = list(selectors.order_export_rows(portfolio=p))
    fills = list(selectors.fill_export_rows(portfolio=p))
    assert orders[0][:6] == [str(order.pk), order.client_order_id, orders[0][2], "BTCUSDT", "buy", "market"]
    assert [row[5:7] for row in fills] == [["100.5", "0.5"], ["101", "0.1"]]
    lines = list(selectors.csv_stream(header=selectors.FILL_EXPORT_HEADER, rows=iter(fills)))
    assert lines[0].startswith("id,order_id,created_at,symbol,side,price")
    assert len(lines) == 3 and lines[1].endswith("\r\n")


def test_live_push_after_commit(make_portfolio, std_book, user, django_capture_on_commit_callbacks):
    p = make_portfolio()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"portfolio.{p.pk}", channel)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = place(p, user, side="buy", order_type="market", quantity="0.1")
    assert callbacks  # nothing is pushed before the commit
    for callback in callbacks:
        callback()
    message = channel_receive(channel)
    assert message["type"] == "portfolio.update" and message["event"] == "order"
    assert message["portfolio_id"] == p.pk
    assert message["data"]["order"]["id"] == order.pk and message["data"]["order"]["status"] == "filled"
    assert message["data"]["fills"][0]["price"] == "100.5"


def test_ledger_check_fails_on_a_tampered_balance(make_portfolio, std_book, user):
    p = make_portfolio()
    place(p, user, side="buy", order_type="limit", quantity="1", price="95")
    call_command("ledger_check")
    Balance.objects.filter(portfolio=p, asset="USDT").update(free=D("10001"))
    with pytest.raises(CommandError) as caught:
        call_command("ledger_check")
    assert caught.value.returncode == 1


def test_ledger_check_fails_on_locked_without_open_order(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="1", price="95")
    Order.objects.filter(pk=order.pk).update(status="canceled")
    with pytest.raises(CommandError):
        call_command("ledger_check", portfolio=p.pk)


def test_scheduled_equity_snapshots(make_portfolio, std_book, user):
    p = make_portfolio()
    assert equity_snapshot_all() == 1
    snapshot = EquitySnapshot.objects.filter(portfolio=p, reason="schedule").get()
    assert snapshot.equity == D("10100")  # 10000 USDT + 1 BTC at mid 100
    from django.conf import settings

    assert (
        settings.CELERY_BEAT_SCHEDULE["portfolio-equity-snapshots"]["task"]
        == "apps.portfolio.tasks.equity_snapshot_all_task"
    )


def test_admin_places_orders_through_the_service(make_portfolio, std_book, admin_client):
    p = make_portfolio()
    response = admin_client.post(
        "/admin/portfolio/order/add/",
        {"portfolio": p.pk, "symbol": "BTCUSDT", "side": "buy", "order_type": "limit", "time_in_force": "GTC",
         "quantity": "1", "price": "95.001", "quote_quantity": "", "stop_price": "", "client_order_id": ""},
    )  # fmt: skip
    assert response.status_code == 200 and b"-1013" in response.content
    assert not Order.objects.exists()
    response = admin_client.post(
        "/admin/portfolio/order/add/",
        {"portfolio": p.pk, "symbol": "BTCUSDT", "side": "buy", "order_type": "limit", "time_in_force": "GTC",
         "quantity": "1", "price": "95", "quote_quantity": "", "stop_price": "", "client_order_id": ""},
    )  # fmt: skip
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.source == "admin" and order.status == "new"
    assert Balance.objects.get(portfolio=p, asset="USDT").locked == D("95")


def test_equity_marks_to_the_live_mid(make_portfolio, btc, user):
    books.book_record(make_book([("201", "1")], STD_BIDS[:0] or [("199", "1")]))
    p = make_portfolio(starting_balances={"USDT": "0", "BTC": "2"})
    assert selectors.portfolio_equity_get(portfolio=p).equity == D("400")
