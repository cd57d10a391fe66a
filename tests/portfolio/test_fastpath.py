"""The Postgres order hot path (apps.portfolio.services.fastpath): what it writes must be what
the ORM path wrote, row for row, including rows it creates (balances, positions) and the
ids that audit rows point at."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.models import Balance, EquitySnapshot, Fill, Journal, LedgerEntry, Order, Portfolio, Position
from apps.portfolio.services import order_cancel, order_place
from apps.safety.models import AuditEvent
from tests.channel_messages import channel_receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the pipelined path is Postgres only")


def place(portfolio, user, **kwargs):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", **kwargs)


def test_first_buy_creates_balance_and_position_rows(make_portfolio, std_book, user):
    p = make_portfolio(starting_balances={"USDT": "1000"})
    order = place(p, user, side="buy", order_type="market", quantity="1")
    stored = Order.objects.get(pk=order.pk)
    assert stored.status == "filled" and stored.filled_qty == D("1") and stored.avg_price == order.avg_price
    assert stored.created_at == order.created_at and stored.extra == {}
    btc = Balance.objects.get(portfolio=p, asset="BTC")
    assert (btc.free, btc.locked) == (D("0.999"), D("0"))  # 1 BTC less the 0.1% fee in BTC
    position = Position.objects.get(portfolio=p, symbol="BTCUSDT")
    assert position.quantity == D("0.999")
    fills = list(Fill.objects.filter(order=order).order_by("id"))
    assert [f.pk for f in fills] == [f.pk for f in order.fills.all()] and len(fills) == 2
    assert EquitySnapshot.objects.filter(portfolio=p, reason="fill").count() == 1
    assert ledger_problems() == []


def test_audit_rows_point_at_the_order_and_each_fill(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="market", quantity="1", client_order_id="fp-1")
    events = list(AuditEvent.objects.filter(portfolio_id=p.pk, category__in=("order", "fill")).order_by("id"))
    assert [e.category for e in events] == ["order", "fill", "fill"]
    assert events[0].data == {"client_order_id": "fp-1", "source": "api", "fills": 2, "order_id": order.pk}
    fill_ids = list(Fill.objects.filter(order=order).order_by("id").values_list("id", flat=True))
    assert [e.data["fill_id"] for e in events[1:]] == fill_ids
    assert all(e.data["order_id"] == order.pk and e.actor_id == user.pk for e in events)
    first = Fill.objects.get(pk=fill_ids[0])
    assert D(events[1].data["fee"]) == first.fee == D("0.0005")
    assert events[1].message.startswith("buy 0.5") and events[1].message.endswith("(taker, book_walk)")


def test_journals_keep_their_entries_and_order(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="market", quantity="1")
    journals = list(Journal.objects.filter(order=order).order_by("id"))
    # A market order reserves nothing (it never rests): its fills pay from free funds.
    assert [j.kind for j in journals] == ["fill", "fill"]
    for journal in journals:
        entries = LedgerEntry.objects.filter(journal=journal)
        assert entries.exists() and sum(e.amount for e in entries) == 0


def test_update_path_for_an_existing_order(make_portfolio, std_book, user):
    p = make_portfolio()
    resting = place(p, user, side="buy", order_type="limit", quantity="1", price="90")
    canceled = order_cancel(order=resting, actor=user)
    stored = Order.objects.get(pk=resting.pk)
    assert stored.status == canceled.status == "canceled" and stored.locked_amount == 0
    assert AuditEvent.objects.filter(action="order.cancel", data__order_id=resting.pk).count() == 1
    assert ledger_problems() == []


def test_push_is_sent_once_committed(make_portfolio, std_book, user):
    p = make_portfolio()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"portfolio.{p.pk}", channel)
    order = place(p, user, side="sell", order_type="market", quantity="0.5")
    message = channel_receive(channel)
    assert message["data"]["order"]["id"] == order.pk and message["data"]["order"]["status"] == "filled"
    assert [f["id"] for f in message["data"]["fills"]] == [f.pk for f in order.fills.all()]


def test_async_commit_setting_still_commits(make_portfolio, std_book, user, settings):
    settings.PAPER_ORDER_ASYNC_COMMIT = True
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="market", quantity="0.5")
    assert Order.objects.filter(pk=order.pk, status="filled").exists()
    with connection.cursor() as cursor:  # the setting was local to the order's transaction
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_audit_rows_carry_exactly_the_columns_the_write_statement_names(user):
    from apps.portfolio.services.auditing import AUDIT_ROW_COLUMNS, AuditBatch

    batch = AuditBatch(actor=user, actor_label="", source_ip="127.0.0.1", request_id="r-1")
    batch.add(category="order", action="a", portfolio_id=1, exchange="binance", symbol="BTCUSDT", message="m", data={})
    (row,) = batch.events
    assert set(row) == AUDIT_ROW_COLUMNS
    assert (row["actor_id"], row["actor_label"], row["request_id"]) == (user.pk, user.get_username(), "r-1")


def test_free_form_data_orjson_refuses_still_writes(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="market", quantity="0.5", extra={"note": 2**70})
    assert Order.objects.get(pk=order.pk).extra == {"note": 2**70}


def test_rows_read_by_the_hot_path_are_the_models_the_orm_reads(make_portfolio, std_book, user):
    from django.db import transaction

    from apps.portfolio.services import fastpath

    p = make_portfolio()
    place(p, user, side="buy", order_type="market", quantity="0.5")
    wanted = {p.pk: fastpath.OpenRequest(orders=1, symbols=frozenset({"BTCUSDT"}), client_order_ids=frozenset())}
    with transaction.atomic():
        (state,) = fastpath.orders_open(wanted=wanted, async_commit=False).values()
        transaction.set_rollback(True)
    orm = Portfolio.objects.get(pk=p.pk)
    fields = [f.attname for f in Portfolio._meta.concrete_fields if f.attname != "order_seq"]
    assert [getattr(state.portfolio, f) for f in fields] == [getattr(orm, f) for f in fields]
    assert state.portfolio.order_seq == orm.order_seq + 1 and not state.portfolio._state.adding
    assert {a: (b.free, b.locked, b.pk) for a, b in state.balances.items()} == {
        b.asset: (b.free, b.locked, b.pk) for b in Balance.objects.filter(portfolio=p)
    }
    position = Position.objects.get(portfolio=p)
    assert state.positions["BTCUSDT"].quantity == position.quantity
    assert state.positions["BTCUSDT"].updated_at == position.updated_at
    state.positions["BTCUSDT"].save()  # a working model: saves as an update of its own row
    assert Position.objects.filter(portfolio=p).count() == 1
