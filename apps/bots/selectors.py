"""Reads for bots, their events, runs and backtests."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.bots.backtest import bar_from_values
from apps.bots.models import Backtest, Bot, BotCandleRun, BotEvent
from apps.bots.strategies import Bar
from apps.core.exceptions import NotFoundError
from apps.market.models import Candle
from apps.market.services import ms_to_dt


def bot_list(*, owner: Any) -> QuerySet[Bot]:
    return Bot.objects.filter(owner=owner).select_related("portfolio")


def bot_get(*, owner: Any, bot_id: int) -> Bot:
    bot = Bot.objects.filter(owner=owner, pk=bot_id).select_related("portfolio").first()
    if bot is None:
        raise NotFoundError("Bot not found.")
    return bot


def bot_event_list(*, bot: Bot, limit: int = 100, kind: str | None = None) -> list[BotEvent]:
    qs = BotEvent.objects.filter(bot=bot)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("-id")[:limit])


def bot_run_list(*, bot: Bot, start_ms: int | None = None, end_ms: int | None = None) -> QuerySet[BotCandleRun]:
    qs = BotCandleRun.objects.filter(bot=bot).select_related("order")
    if start_ms is not None:
        qs = qs.filter(candle_open_ms__gte=start_ms)
    if end_ms is not None:
        qs = qs.filter(candle_open_ms__lte=end_ms)
    return qs.order_by("candle_open_ms")


def backtest_list(*, owner: Any, bot: Bot | None = None) -> QuerySet[Backtest]:
    qs = Backtest.objects.filter(owner=owner)
    return qs.filter(bot=bot) if bot is not None else qs


def backtest_get(*, owner: Any, backtest_id: int) -> Backtest:
    backtest = Backtest.objects.filter(owner=owner, pk=backtest_id).first()
    if backtest is None:
        raise NotFoundError("Backtest not found.")
    return backtest


_BAR_FIELDS = ("open_time", "open", "high", "low", "close", "volume")


def _bars(qs: QuerySet[Candle]) -> list[Bar]:
    return [
        bar_from_values(int(t.timestamp() * 1000), o, h, low, c, v)
        for t, o, h, low, c, v in qs.values_list(*_BAR_FIELDS)
    ]


def candle_bars(
    *, exchange: str, symbol: str, timeframe: str, start_ms: int | None = None, end_ms: int | None = None
) -> list[Bar]:
    """Stored closed candles in [start, end], oldest first, as strategy bars."""
    qs = Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe=timeframe)
    if start_ms is not None:
        qs = qs.filter(open_time__gte=ms_to_dt(start_ms))
    if end_ms is not None:
        qs = qs.filter(open_time__lte=ms_to_dt(end_ms))
    return _bars(qs.order_by("open_time"))


def candle_bars_until(*, exchange: str, symbol: str, timeframe: str, end_ms: int, count: int) -> list[Bar]:
    """The ``count`` newest stored candles opening at or before ``end_ms``, oldest first."""
    qs = Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe=timeframe, open_time__lte=ms_to_dt(end_ms))
    return list(reversed(_bars(qs.order_by("-open_time")[:count])))
