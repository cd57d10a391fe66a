"""A second (and third) OS process for the race tests: a small Django process that plays one
role in each round of a race. Imported by the spawned child before Django is set up, so it
imports nothing of the project at module level.

Every round: ``prepare`` (outside the race: record the round's book, load the matcher's
index), wait at the shared barrier, then ``act`` (the racing call), and report a plain dict.
"""

from __future__ import annotations

import os
from typing import Any


def child_main(*, role: str, env: dict[str, str], barrier: Any, rounds: list[dict], results: Any) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from apps.portfolio.liquidity import liquidity_store_set
    from apps.portfolio.liquidity.redis_store import RedisLiquidity

    liquidity_store_set(RedisLiquidity(url=env["TEST_REDIS_URL"], prefix=env["LIQ_PREFIX"]))
    state: dict[str, Any] = {}
    for number, job in enumerate(rounds):
        try:
            _prepare(role, job, state)
            barrier.wait(timeout=120)
            outcome = _act(role, job, state)
        except Exception as error:  # reported, so the parent fails with the child's reason
            outcome = {"error": f"{type(error).__name__}: {error}"}
        results.put({"role": role, "round": number, **outcome})
    from django.db import connections

    connections.close_all()


def _book(job: dict) -> Any:
    from decimal import Decimal

    from apps.market.events import BookSnapshot

    return BookSnapshot(
        exchange="binance",
        symbol="BTCUSDT",
        asks=tuple((Decimal(p), Decimal(q)) for p, q in job["asks"]),
        bids=tuple((Decimal(p), Decimal(q)) for p, q in job["bids"]),
        ts_ms=job["book_ts_ms"],
    )


def _prepare(role: str, job: dict, state: dict) -> None:
    from apps.portfolio import books

    books.book_record(_book(job))
    if role.startswith("matcher"):
        from apps.portfolio.matcher import Matcher

        state.setdefault("matcher", Matcher(threaded=False)).load()


def _act(role: str, job: dict, state: dict) -> dict:
    """``role`` is "place", "matcher" or "cancel", with an optional ":<name>" suffix."""
    kind = role.split(":")[0]
    if kind == "matcher":
        return _match(job, state["matcher"])
    if kind == "cancel":
        return _cancel(job)
    return _place(job)


def _place(job: dict) -> dict:
    from django.contrib.auth import get_user_model

    from apps.core.exceptions import ApplicationError
    from apps.portfolio.models import Portfolio
    from apps.portfolio.services import order_place

    portfolio = Portfolio.objects.get(pk=job["portfolio_id"])
    user = get_user_model().objects.get(pk=job["user_id"])
    try:
        order = order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", **job["order"])
    except ApplicationError as error:
        return {"refused": error.code}
    fills = [(str(f.price), str(f.quantity)) for f in order.fills.order_by("id")]
    return {"order_id": order.pk, "status": order.status, "fills": fills}


def _match(job: dict, matcher: Any) -> dict:
    from decimal import Decimal

    from apps.market.events import TradeEvent

    price, qty = job["trade"]
    trade = TradeEvent(
        exchange="binance",
        symbol="BTCUSDT",
        trade_id=job["trade_id"],
        price=Decimal(price),
        quantity=Decimal(qty),
        taker_side="sell",
        ts_ms=job["trade_ts_ms"],
    )
    matcher.on_event(trade)  # the feed hub's listener call
    return {"applied": matcher.process_pending()}  # what the matcher's worker thread runs


def _cancel(job: dict) -> dict:
    from django.contrib.auth import get_user_model

    from apps.core.exceptions import ApplicationError
    from apps.portfolio.models import Order
    from apps.portfolio.services import order_cancel

    user = get_user_model().objects.get(pk=job["user_id"])
    try:
        order = order_cancel(order=Order.objects.get(pk=job["order_id"]), actor=user)
    except ApplicationError as error:
        return {"refused": error.code}
    return {"status": order.status}
