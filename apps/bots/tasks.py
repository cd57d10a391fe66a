"""Celery tasks: thin wrappers over the services. Tasks import services, never the reverse:
a service that queues work takes the enqueuer as an argument (``bot_evaluate_task.delay``)."""

from __future__ import annotations

import logging
import threading

from celery import shared_task

from apps.bots.models import Backtest, Bot
from apps.bots.services import backtest_execute, bot_evaluate, bots_candle_closed

logger = logging.getLogger(__name__)


@shared_task(name="apps.bots.tasks.bot_evaluate_task", acks_late=True)
def bot_evaluate_task(bot_id: int, candle_open_time_ms: int) -> str:
    """Evaluate one bot on one closed candle. Safe to deliver twice: see bot_evaluate."""
    bot = Bot.objects.filter(pk=bot_id).first()
    if bot is None:
        return "missing"
    run = bot_evaluate(bot=bot, candle_open_time_ms=int(candle_open_time_ms))
    return "skipped" if run is None else f"{run.status}:{run.action}"


@shared_task(name="apps.bots.tasks.bots_candle_closed_task")
def bots_candle_closed_task(exchange: str, symbol: str, timeframe: str, open_time_ms: int) -> int:
    """The feeds call this when a candle closes (after storing it): fans out one task per running bot."""
    bot_ids = bots_candle_closed(
        exchange=exchange,
        symbol=symbol,
        timeframe=timeframe,
        open_time_ms=int(open_time_ms),
        enqueue=bot_evaluate_task.delay,
    )
    return len(bot_ids)


# The feeds of one process enqueue one at a time. In embedded mode Celery runs the task
# eagerly, inside Celery's process-global "join would block" flag, which each eager task sets
# and restores on exit: two feeds' tasks overlapping in two threads can restore it in the
# wrong order and leave it set for the rest of the process (every later result.get() refused).
_ENQUEUE_LOCK = threading.Lock()


def bots_closes_enqueue(*, exchange: str, closes: dict[tuple[str, str], int]) -> None:
    """The feeds' close sink (``FeedConfig.closes_sink``, wired by run_feeds and serve): one
    ``bots_candle_closed_task`` per (symbol, timeframe), naming its newest final close."""
    with _ENQUEUE_LOCK:
        for (symbol, timeframe), open_time_ms in closes.items():
            try:
                bots_candle_closed_task.delay(exchange, symbol, timeframe, open_time_ms)
            except Exception:  # a broker hiccup must not stop the feed; the candle is stored
                logger.exception("bot notification failed for %s %s %s", exchange, symbol, timeframe)


@shared_task(name="apps.bots.tasks.backtest_run_task", acks_late=True)
def backtest_run_task(backtest_id: int) -> str:
    backtest = Backtest.objects.filter(pk=backtest_id, status=Backtest.Status.PENDING).first()
    if backtest is None:
        return "missing"
    return backtest_execute(backtest=backtest).status
