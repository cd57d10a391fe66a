"""Concurrency on Postgres: row locks keep the ledger exact under simultaneous orders."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import connection

from apps.portfolio import books
from apps.portfolio.errors import OrderRejectedError
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.models import Balance, Fill, Order
from apps.portfolio.services import order_cancel, order_place, resting_order_match
from tests.portfolio.conftest import make_book, make_trade

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 50


def run_threads(count, target):
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def worker(index):
        try:
            barrier.wait(timeout=10)
            results[index] = target(index)
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_fifty_market_buys_against_a_balance_for_exactly_k(make_portfolio, btc, user):
    k = 17
    # A deep single level at 100: every buy of 0.1 costs exactly 10 USDT.
    books.book_record(make_book([("100", "1000")], [("99.99", "1000")]))
    p = make_portfolio(starting_balances={"USDT": str(10 * k)})

    def buy(index):
        return order_place(portfolio=p, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="0.1")

    results = run_threads(THREADS, buy)
    filled = [r for r in results if isinstance(r, Order) and r.status == "filled"]
    refused = [r for r in results if isinstance(r, OrderRejectedError)]
    assert len(filled) == k, Counter(type(r).__name__ for r in results)
    assert len(refused) == THREADS - k and {r.code for r in refused} == {"-2010"}
    assert Fill.objects.filter(portfolio=p).count() == k
    usdt = Balance.objects.get(portfolio=p, asset="USDT")
    assert (usdt.free, usdt.locked) == (D(0), D(0))
    assert Balance.objects.get(portfolio=p, asset="BTC").free == D("1.7") - D("0.0017")
    assert ledger_problems() == []
    call_command("ledger_check")


def test_concurrent_cancels_and_fills_of_one_order(make_portfolio, btc, user):
    books.book_record(make_book([("101", "10")], [("99", "10")]))
    p = make_portfolio(starting_balances={"USDT": "1000"})
    order = order_place(
        portfolio=p, actor=user, symbol="BTCUSDT", side="buy", order_type="limit", quantity="1", price="100"
    )

    def act(index):
        if index % 2 == 0:
            return order_cancel(order=order, actor=user)
        trade = make_trade("99.5", "0.1", trade_id=f"t{index}", ts_ms=3_000 + index)
        return resting_order_match(order_id=order.pk, event=trade)

    results = run_threads(20, act)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, OrderRejectedError)]
    order.refresh_from_db()
    fills = list(Fill.objects.filter(order=order))
    cancels_ok = [r for r in results if isinstance(r, Order) and r.status == "canceled"]
    assert len(cancels_ok) <= 1
    assert order.status in ("canceled", "filled")
    assert order.filled_qty == sum((f.quantity for f in fills), D(0)) <= D("1")
    assert len({f.trade_id for f in fills}) == len(fills)  # no print applied twice
    assert order.locked_amount == 0
    usdt = Balance.objects.get(portfolio=p, asset="USDT")
    assert usdt.locked == 0 and usdt.free == D("1000") - order.filled_quote
    assert ledger_problems() == []
    call_command("ledger_check")
