"""Backtests from the bot page (model + task + progress) and paper-vs-backtest reconciliation."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from apps.bots.backtest import backtest_run
from apps.bots.models import Backtest
from apps.bots.selectors import candle_bars
from apps.bots.services import (
    backtest_create,
    backtest_create_for_bot,
    bot_create,
    bot_evaluate,
    bot_reconcile,
    bot_start,
)
from apps.bots.tasks import backtest_run_task
from apps.core.exceptions import ApplicationError
from tests.bots.conftest import set_book, store_candles

pytestmark = pytest.mark.django_db

SERIES = [100, 99, 98, 99, 100, 101, 99, 97, 96, 98, 100]


def test_invalid_backtest_is_refused_with_field_errors(user):
    with pytest.raises(ApplicationError) as exc:
        backtest_create(
            owner=user,
            strategy="grid",
            symbol="BTCUSDT",
            params={"levels": 1},
            risk={"order_size": "x"},
            initial_quote="0",
        )
    assert set(exc.value.fields) == {"params.levels", "risk.order_size", "initial_quote"}
    assert not Backtest.objects.exists()


def test_backtest_task_runs_to_100_percent_with_the_same_trades_as_the_engine(
    user, instrument, django_capture_on_commit_callbacks
):
    store_candles(SERIES)
    with django_capture_on_commit_callbacks(execute=True):
        backtest = backtest_create(
            owner=user,
            strategy="rsi_mean_reversion",
            symbol="BTCUSDT",
            params={"period": 2},
            risk={"order_size": "100"},
            enqueue=backtest_run_task.delay,
        )
    backtest.refresh_from_db()
    assert (backtest.status, backtest.progress, backtest.error) == ("done", 100, "")
    direct = backtest_run(
        strategy="rsi_mean_reversion",
        params={"period": 2},
        bars=candle_bars(exchange="binance", symbol="BTCUSDT", timeframe="1m"),
        risk={"order_size": "100"},
        timeframe_ms=60_000,
        fill_model=__import__("apps.bots.services.backtests", fromlist=["x"])._fill_model_for(
            None, "BTCUSDT", "binance"
        ),
    )
    assert backtest.trade_hash == direct.trade_hash
    assert [t["side"] for t in backtest.report["trades"]] == ["buy", "sell", "buy", "sell"]
    assert set(backtest.report["metrics"]) >= {
        "total_return_pct",
        "max_drawdown_pct",
        "sharpe",
        "sortino",
        "win_rate_pct",
        "profit_factor",
        "exposure_pct",
        "fees_paid",
        "avg_slippage_bps",
    }


def test_backtest_without_candles_ends_in_error_shown(user):
    backtest = backtest_create(owner=user, strategy="dca", symbol="ETHUSDT")
    from apps.bots.services import backtest_execute

    backtest = backtest_execute(backtest=backtest)
    assert backtest.status == "error" and "No stored candles" in backtest.error


def _live_bot(user, portfolio):
    bot = bot_create(
        owner=user, portfolio=portfolio, name="rec", symbol="BTCUSDT", strategy="rsi_mean_reversion",
        params={"period": 2}, risk={"order_size": "100"},
    )  # fmt: skip
    return bot_start(bot=bot, actor=user)


def test_reconciliation_explains_price_differences_and_missed_candles(user, portfolio):
    times = store_candles(SERIES)
    bot = _live_bot(user, portfolio)
    skipped = times[4]  # the sell candle: the live bot "was down" then
    for i, (t, close) in enumerate(zip(times, SERIES, strict=True)):
        set_book(close, ts_ms=1_000 + i)
        if i >= 2 and t != skipped:  # the bot started at the third candle
            bot_evaluate(bot=bot, candle_open_time_ms=t)
    result = bot_reconcile(bot=bot)
    assert result["window"]["start_ms"] == times[2]
    by_time = {(d["open_time_ms"], d["side"]): d for d in result["differences"]}
    buy = by_time[(times[2], "buy")]
    assert buy["kind"] == "fill_differs"
    assert D(buy["live"]["price"]) == D("98.5") and D(buy["backtest"]["price"]) == D("98") * D("1.0001")
    assert "fill price" in buy["why"][0]
    missed = by_time[(skipped, "sell")]
    assert missed["kind"] == "backtest_only"
    assert "did not evaluate" in missed["why"][0]
    assert result["summary"]["live_trades"] >= 2


def test_backtest_for_bot_and_management_command(user, portfolio, capsys, tmp_path):
    store_candles(SERIES)
    bot = _live_bot(user, portfolio)
    backtest = backtest_create_for_bot(bot=bot, actor=user)
    assert (backtest.strategy, backtest.params["period"], backtest.bot_id) == ("rsi_mean_reversion", 2, bot.pk)
    csv = tmp_path / "c.csv"
    csv.write_text(
        "open_time_ms,open,high,low,close,volume\n"
        + "".join(f"{60_000 * i},{c},{c},{c},{c},50\n" for i, c in enumerate(SERIES))
    )
    call_command(
        "backtest", "--strategy", "rsi_mean_reversion", "--params", '{"period": 2}', "--csv", str(csv), "--json"
    )
    report = json.loads(capsys.readouterr().out)
    assert [t["side"] for t in report["trades"]] == ["buy", "sell", "buy", "sell"]
    call_command("backtest", "--strategy", "rsi_mean_reversion", "--params", '{"period": 2}', "--symbol", "btcusdt")
    assert "trade_hash" in capsys.readouterr().out


def test_a_bots_backtest_starts_from_what_its_portfolio_holds(user, instrument):
    from apps.portfolio.services import portfolio_create

    small = portfolio_create(owner=user, name="small", starting_balances={"USDT": "2500"}, latency_ms=0)
    bot = _live_bot(user, small)
    assert backtest_create_for_bot(bot=bot, actor=user).initial_quote == D("2500")
    chosen = backtest_create_for_bot(bot=bot, actor=user, initial_quote="750")
    assert chosen.initial_quote == D("750")


def test_a_bots_backtest_needs_an_amount_when_its_portfolio_holds_no_quote(user, instrument):
    from apps.portfolio.services import portfolio_create

    empty = portfolio_create(owner=user, name="empty", starting_balances={"BTC": "1"}, latency_ms=0)
    with pytest.raises(ApplicationError) as caught:
        backtest_create_for_bot(bot=_live_bot(user, empty), actor=user)
    assert "initial_quote" in caught.value.fields
