"""Subscription planning and the client-side budgets (pure)."""

from __future__ import annotations

import pytest

from apps.market.feeds import binance_parse, kucoin_parse
from apps.market.feeds.budget import QuotaBudget, WindowPacer
from apps.market.feeds.subscriptions import FeedLimits, binance_plan, kucoin_plan, topic_count
from apps.market.feeds.symbols import TIMEFRAMES

SYMBOLS = [f"C{i:03d}USDT" for i in range(300)]


def _binance(group: list[str]) -> list[str]:
    return binance_parse.stream_names(group, TIMEFRAMES)


def _kucoin(group: list[str]) -> list[str]:
    return kucoin_parse.topics(group, TIMEFRAMES)


def test_binance_plan_keeps_every_connection_under_its_stream_and_url_limits() -> None:
    limits = FeedLimits()
    plans = binance_plan(SYMBOLS, _binance, limits)
    flat = [s for plan in plans for s in plan]
    assert sorted(flat) == sorted(_binance(SYMBOLS))  # every stream, once
    assert all(len(p) <= 1024 * 0.8 and len("/".join(p)) <= limits.binance_url_chars for p in plans)


def test_kucoin_plan_keeps_topics_per_connection_and_per_message() -> None:
    plans = kucoin_plan(SYMBOLS, _kucoin, FeedLimits())
    assert all(sum(topic_count(t) for t in plan) <= 300 * 0.8 for plan in plans)
    assert all(topic_count(t) <= 100 for plan in plans for t in plan)
    covered = {
        item
        for plan in plans
        for t in plan
        for item in [f"{t.partition(':')[0]}:{x}" for x in t.partition(":")[2].split(",")]
    }
    wanted = {f"{t.partition(':')[0]}:{x}" for t in _kucoin(SYMBOLS) for x in t.partition(":")[2].split(",")}
    assert covered == wanted
    assert len(plans) <= 50 * 0.8  # connections open at once


def test_kucoin_plan_splits_multi_symbol_topics_per_message() -> None:
    plans = kucoin_plan(SYMBOLS[:5], _kucoin, FeedLimits(kucoin_topics_per_subscribe=2))
    assert [t for t in plans[0] if t.startswith("/market/match")] == [
        "/market/match:C000-USDT,C001-USDT",
        "/market/match:C002-USDT,C003-USDT",
        "/market/match:C004-USDT",
    ]


def test_a_symbol_too_big_for_one_connection_is_an_error() -> None:
    with pytest.raises(ValueError, match="alone exceed"):
        binance_plan(["BTCUSDT"], _binance, FeedLimits(binance_streams=5))


def test_quota_budget_waits_for_the_reset_instead_of_passing_its_share() -> None:
    now = [100.0]
    budget = QuotaBudget(limit=100, window_s=30, clock=lambda: now[0])
    budget.observe(used=70, reset_in_s=5)
    assert budget.delay(5) == 0.0  # 75 <= 80
    assert budget.delay(10) == pytest.approx(5.0)  # 85 > 80: after the reset
    now[0] = 106.0
    assert budget.delay(10) == 0.0  # the new window holds 10 + 10


def test_window_pacer_spaces_sends_to_the_limit() -> None:
    now = [0.0]
    pacer = WindowPacer(limit=3, window_s=10, clock=lambda: now[0])
    assert [pacer.delay() for _ in range(5)] == [0.0, 0.0, 0.0, 10.0, 10.0]
    now[0] = 10.0
    assert pacer.delay() == 0.0  # the third slot at 10
    assert pacer.delay() == pytest.approx(10.0)  # three at 10 already: the next at 20
