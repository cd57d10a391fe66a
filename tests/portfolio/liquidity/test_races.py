"""Races on the live path (issue 17): two processes, one book level; a cancel against a fill.

Real Postgres and Redis, real OS processes (spawned Django processes, ``race_worker``), each
racing call released by one barrier. Per round exactly one side wins, and the ledger
balances. The same races between threads of one process (the embedded mode's in-process
store) run on SQLite and Postgres.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import connection

from apps.portfolio import books
from apps.portfolio.errors import OrderRejectedError
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.matcher import Matcher
from apps.portfolio.models import Balance, Fill, Order
from apps.portfolio.services import order_cancel, order_place
from tests.portfolio.conftest import make_book, make_trade
from tests.portfolio.liquidity.race_worker import child_main

ROUNDS = 4
LEVEL = D("0.5")
UNKNOWN_ORDER = "-2011"


def _round_book(number: int) -> dict:
    """Round ``number``'s book: one thin best ask (0.5 at 100+n), a deep one behind it."""
    best = D(100 + number)
    return {
        "asks": [(str(best), str(LEVEL)), (str(best + D("0.5")), "5")],
        "bids": [(str(best - D("0.1")), "5")],
        "book_ts_ms": 1_000_000 + number,
    }


def _child_env(redis_url: str) -> dict[str, str]:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "TEST_REDIS_URL": redis_url,
        "LIQ_PREFIX": f"test:liq:race:{uuid.uuid4().hex[:8]}",
    }


def run_processes(*, redis_url: str, rounds: dict[str, list[dict]]) -> dict[tuple[str, int], dict]:
    """One spawned process per role; returns each role's outcome per round."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(rounds)), context.Queue()
    env = _child_env(redis_url)
    processes = [
        context.Process(
            target=child_main,
            kwargs={"role": role, "env": env, "barrier": barrier, "rounds": jobs, "results": results},
        )
        for role, jobs in rounds.items()
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=180) for _ in range(sum(len(jobs) for jobs in rounds.values()))]
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    by_key = {(o["role"], o["round"]): o for o in outcomes}
    errors = [o for o in outcomes if "error" in o]
    assert not errors, errors
    return by_key


def _assert_books_balance(*portfolios) -> None:
    for portfolio in portfolios:
        usdt = Balance.objects.get(portfolio=portfolio, asset="USDT")
        spent = sum((o.filled_quote for o in Order.objects.filter(portfolio=portfolio)), D(0))
        assert usdt.locked == 0 and usdt.free == D("10000") - spent
    assert ledger_problems() == []
    call_command("ledger_check")


# -- two processes, one level ---------------------------------------------------------------

ORDERS = {
    # A market order that loses the level fills at the next one.
    "market": ({"side": "buy", "order_type": "market", "quantity": str(LEVEL)}, "filled"),
    # An IOC limit at the level's price that loses it gets nothing and expires.
    "limit_ioc": ({"side": "buy", "order_type": "limit", "quantity": str(LEVEL), "time_in_force": "IOC"}, "expired"),
}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", sorted(ORDERS))
def test_two_processes_never_fill_against_one_book_level(kind, make_portfolio, btc, user, redis_url):
    order, loser_status = ORDERS[kind]
    buyers = {role: make_portfolio(starting_balances={"USDT": "10000"}) for role in ("place:a", "place:b")}
    rounds = {
        role: [
            {
                **_round_book(n),
                "portfolio_id": portfolio.pk,
                "user_id": user.pk,
                "order": {**order, **({"price": str(100 + n)} if kind == "limit_ioc" else {})},
            }
            for n in range(ROUNDS)
        ]
        for role, portfolio in buyers.items()
    }
    outcomes = run_processes(redis_url=redis_url, rounds=rounds)
    for n in range(ROUNDS):
        best = (D(100 + n), LEVEL)
        a, b = outcomes[("place:a", n)], outcomes[("place:b", n)]
        fills = {o["role"]: [(D(p), D(q)) for p, q in o["fills"]] for o in (a, b)}
        winners = [o for o in (a, b) if fills[o["role"]] == [best]]
        assert len(winners) == 1, (a, b)
        loser = b if winners[0] is a else a
        assert loser["status"] == loser_status
        assert all(price > best[0] for price, _ in fills[loser["role"]])
        assert Fill.objects.filter(order__portfolio__in=buyers.values(), price=D(100 + n)).count() == 1
    _assert_books_balance(*buyers.values())


# -- cancel against fill ------------------------------------------------------------------------


def _resting_orders(portfolio, user, count: int) -> list[Order]:
    """``count`` resting buys of 0.5, round n's at 99-n: round n's print (at 98.5-n) trades
    through it and through no order of a later round."""
    books.book_record(make_book([("101", "10")], [("99.5", "10")], ts_ms=900_000))
    return [
        order_place(
            portfolio=portfolio,
            actor=user,
            symbol="BTCUSDT",
            side="buy",
            order_type="limit",
            quantity="0.5",
            price=str(99 - n),
        )
        for n in range(count)
    ]


def _cancel_or_fill_won(order: Order, *, cancel: dict, applied: int) -> str:
    order.refresh_from_db()
    fills = list(Fill.objects.filter(order=order))
    if order.status == "filled":
        assert cancel.get("refused") == UNKNOWN_ORDER, cancel
        assert applied == 1 and sum((f.quantity for f in fills), D(0)) == D("0.5")
        return "fill"
    assert order.status == "canceled" and cancel.get("status") == "canceled", (order.status, cancel)
    assert applied == 0 and fills == []
    return "cancel"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cancel_in_one_process_against_the_matcher_filling_in_another(make_portfolio, btc, user, redis_url):
    portfolio = make_portfolio(starting_balances={"USDT": "10000"})
    orders = _resting_orders(portfolio, user, ROUNDS)
    now = int(time.time() * 1000)
    rounds: dict[str, list[dict]] = {"matcher": [], "cancel": []}
    for n, order in enumerate(orders):
        job = {
            "asks": [("101", "10")],
            "bids": [("90", "10")],
            "book_ts_ms": now + n,
            "order_id": order.pk,
            "user_id": user.pk,
            "trade": (str(D("98.5") - n), "1"),
            "trade_id": f"race-{n}",
            "trade_ts_ms": now + 1_000 + n,
        }
        rounds["matcher"].append(job)
        rounds["cancel"].append(job)
    outcomes = run_processes(redis_url=redis_url, rounds=rounds)
    won = [
        _cancel_or_fill_won(order, cancel=outcomes[("cancel", n)], applied=outcomes[("matcher", n)]["applied"])
        for n, order in enumerate(orders)
    ]
    assert len(won) == ROUNDS
    _assert_books_balance(portfolio)


# -- the same races between threads of one process (in-process store; SQLite and Postgres) ----


def _in_threads(*targets):
    barrier = threading.Barrier(len(targets))
    results: list[object] = [None] * len(targets)

    def run(index, target):
        try:
            barrier.wait(timeout=10)
            results[index] = target()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_threads_never_fill_against_one_book_level(make_portfolio, btc, user):
    portfolios = [make_portfolio(starting_balances={"USDT": "10000"}) for _ in range(2)]
    for n in range(ROUNDS):
        book = _round_book(n)
        books.book_record(make_book(book["asks"], book["bids"], ts_ms=book["book_ts_ms"]))

        def buy(portfolio):
            return lambda: order_place(
                portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="0.5"
            )

        results = _in_threads(*(buy(p) for p in portfolios))
        assert all(isinstance(r, Order) and r.status == "filled" for r in results), results
        at_best = Fill.objects.filter(order__in=results, price=D(100 + n))
        assert at_best.count() == 1 and at_best.get().quantity == LEVEL
    _assert_books_balance(*portfolios)


@pytest.mark.django_db(transaction=True)
def test_cancel_against_the_matcher_in_two_threads(make_portfolio, btc, user):
    portfolio = make_portfolio(starting_balances={"USDT": "10000"})
    orders = _resting_orders(portfolio, user, ROUNDS)
    matcher = Matcher(threaded=False)
    now = int(time.time() * 1000)
    for n, order in enumerate(orders):
        matcher.load()
        trade = make_trade(str(D("98.5") - n), "1", trade_id=f"race-{n}", ts_ms=now + n)

        def fill(trade=trade):
            matcher.on_event(trade)
            return matcher.process_pending()

        def cancel(order=order):
            try:
                return {"status": order_cancel(order=order, actor=user).status}
            except OrderRejectedError as error:
                return {"refused": error.code}

        applied, canceled = _in_threads(fill, cancel)
        assert not isinstance(applied, Exception) and not isinstance(canceled, Exception), (applied, canceled)
        _cancel_or_fill_won(order, cancel=canceled, applied=applied)
    _assert_books_balance(portfolio)
