"""Live pushes, ledger_check and the admin, end to end through order placement."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.portfolio.models import Balance, Order
from apps.portfolio.services import order_place
from tests.channel_messages import channel_receive

pytestmark = pytest.mark.django_db


def place(portfolio, user, **kwargs):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", **kwargs)


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
