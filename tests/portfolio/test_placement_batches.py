"""Order placement in group-commit batches (apps.portfolio.services.placement) on Postgres:
orders of one batch see each other's effects as if serialised by the portfolio lock, each
request gets its own outcome, and a database error in one order fails that order alone."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from apps.core.exceptions import ConflictError
from apps.portfolio import books
from apps.portfolio.errors import OrderRejectedError
from apps.portfolio.group_commit import Ticket
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.models import Balance, Fill, Order
from apps.portfolio.order_request import actor_label_for, order_request_build
from apps.portfolio.services import order_place, placement
from apps.portfolio.services.instruments import instrument_rules_get
from apps.safety.models import AuditEvent
from tests.portfolio.conftest import make_book

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _one_price_book(btc):
    # One deep level: a buy of 0.1 BTC costs exactly 10 USDT (+ the fee in BTC).
    books.book_record(make_book([("100", "1000")], [("99.99", "1000")]))


def ticket(portfolio, user, *, side="buy", quantity="0.1", client_order_id=None, request_id="", extra=None):
    request = order_request_build(
        exchange=portfolio.exchange,
        symbol="BTCUSDT",
        side=side,
        order_type="market",
        time_in_force="GTC",
        quantity=quantity,
        quote_quantity=None,
        price=None,
        stop_price=None,
    )
    place = placement.PlaceRequest(
        portfolio_id=portfolio.pk,
        request=request,
        instrument=instrument_rules_get(exchange=portfolio.exchange, symbol="BTCUSDT"),
        client_order_id=client_order_id,
        actor=user,
        actor_label=actor_label_for(user),
        source="test",
        source_ip=None,
        request_id=request_id,
        extra=extra or {},
    )
    return Ticket(place, threading.Lock())


def test_orders_of_one_batch_see_each_other_across_portfolios(make_portfolio, user):
    first = make_portfolio(starting_balances={"USDT": "20"})  # affords two buys of 10 USDT
    second = make_portfolio(starting_balances={"USDT": "100"})
    tickets = [ticket(first, user), ticket(second, user), ticket(first, user), ticket(first, user)]
    placement.place_batch(tickets)
    assert all(t.done for t in tickets)
    assert [t.result.status for t in tickets[:3]] == ["filled"] * 3
    assert isinstance(tickets[3].error, OrderRejectedError) and tickets[3].error.code == "-2010"
    usdt = Balance.objects.get(portfolio=first, asset="USDT")
    assert (usdt.free, usdt.locked) == (D("0"), D("0"))
    assert Balance.objects.get(portfolio=first, asset="BTC").free == D("0.2") - D("0.0002")
    assert Balance.objects.get(portfolio=second, asset="USDT").free == D("90")
    # Sequence numbers follow submission order within each portfolio.
    assert [o.seq for o in Order.objects.filter(portfolio=first).order_by("id")] == [1, 2]
    assert ledger_problems() == []


def test_a_client_order_id_repeated_in_one_batch_is_one_order(make_portfolio, user):
    p = make_portfolio()
    same = [ticket(p, user, client_order_id="dup-1") for _ in range(2)]
    different = ticket(p, user, client_order_id="dup-1", quantity="0.2")
    placement.place_batch([*same, different])
    assert same[0].result.pk == same[1].result.pk
    assert isinstance(different.error, ConflictError)
    assert Order.objects.filter(portfolio=p, client_order_id="dup-1").count() == 1
    assert Fill.objects.filter(portfolio=p).count() == 1


def test_a_database_error_fails_only_the_order_that_caused_it(make_portfolio, user):
    p = make_portfolio()
    # Postgres refuses U+0000 in jsonb: the batch's write fails, its orders run again alone.
    bad = ticket(p, user, extra={"note": "nul \x00 byte"})
    good = [ticket(p, user), ticket(p, user)]
    placement.place_batch([good[0], bad, good[1]])
    assert isinstance(bad.error, DatabaseError)
    assert [t.result.status for t in good] == ["filled", "filled"]
    assert Order.objects.filter(portfolio=p).count() == 2
    assert ledger_problems() == []


def test_each_order_keeps_its_callers_request_id(make_portfolio, user):
    p = make_portfolio()
    tickets = [ticket(p, user, request_id=f"req-{n}") for n in range(3)]
    placement.place_batch(tickets)
    for t in tickets:
        events = AuditEvent.objects.filter(data__order_id=t.result.pk)
        assert {e.request_id for e in events} == {t.payload.request_id}


def test_a_caller_in_its_own_transaction_keeps_its_order_in_it(make_portfolio, user):
    p = make_portfolio()
    with pytest.raises(RuntimeError), transaction.atomic():
        order_place(portfolio=p, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="0.1")
        raise RuntimeError("the caller rolls back")
    assert not Order.objects.filter(portfolio=p).exists()
    assert Balance.objects.get(portfolio=p, asset="USDT").free == D("10000")


def test_threads_of_one_process_share_transactions(make_portfolio, user, settings):
    settings.PAPER_ORDER_GROUP_MAX, settings.PAPER_ORDER_GROUP_LANES = 32, 1
    portfolios = [make_portfolio() for _ in range(4)]
    group = placement._group()
    batches, requests = group.batches, group.requests
    errors: list[BaseException] = []
    barrier = threading.Barrier(12)

    def trader(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            for n in range(15):
                order_place(
                    portfolio=portfolios[index % 4],
                    actor=user,
                    symbol="BTCUSDT",
                    side="buy" if n % 2 == 0 else "sell",
                    order_type="market",
                    quantity="0.2",
                )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=trader, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not any(thread.is_alive() for thread in threads)
    assert group.requests - requests == 180
    assert group.batches - batches < 180, "no two orders ever shared a transaction"
    assert Order.objects.filter(portfolio__in=portfolios, status="filled").count() == 180
    assert ledger_problems() == []
    call_command("ledger_check")
