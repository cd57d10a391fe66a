"""Reads for bots, their events, runs and backtests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from apps.bots.backtest import bar_from_values
from apps.bots.models import Backtest, Bot, BotCandleRun, BotEvent
from apps.bots.strategies import Bar
from apps.core.exceptions import NotFoundError
from apps.core.money import to_decimal
from apps.market.models import Candle
from apps.market.selectors import dt_to_ms
from apps.market.services import ms_to_dt
from apps.portfolio import books, pnl
from apps.portfolio.models import Fill

ZERO = Decimal("0")


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


def bot_exit_fills(*, bot: Bot, timeframe_ms: int) -> list[tuple[int, Any]]:
    """(candle open ms, order) for each of the bot's exit orders that filled, by the candle in
    which it first filled (exits fill between closes: ``apps.bots.services.exits``)."""
    from apps.portfolio.models import Order

    orders = Order.objects.filter(
        portfolio=bot.portfolio,
        source="bot",
        client_order_id__startswith=f"bot{bot.pk}-",
        order_type__in=("stop_loss", "take_profit", "trailing_stop"),
    ).prefetch_related("fills")
    found = []
    for order in orders:
        fills = sorted(order.fills.all(), key=lambda f: f.pk)
        if fills:
            ms = dt_to_ms(fills[0].created_at)
            found.append((ms - ms % timeframe_ms, order))
    return sorted(found, key=lambda pair: pair[0])


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


def candle_opens_between(
    *, exchange: str, symbol: str, timeframe: str, after_ms: int, before_ms: int, limit: int
) -> list[int]:
    """Open times of the stored candles strictly between ``after_ms`` and ``before_ms``, oldest
    first; the newest ``limit`` when there are more."""
    qs = Candle.objects.filter(
        exchange=exchange,
        symbol=symbol,
        timeframe=timeframe,
        open_time__gt=ms_to_dt(after_ms),
        open_time__lt=ms_to_dt(before_ms),
    )
    return sorted(dt_to_ms(t) for t in qs.order_by("-open_time").values_list("open_time", flat=True)[:limit])


def candle_bars_until(*, exchange: str, symbol: str, timeframe: str, end_ms: int, count: int) -> list[Bar]:
    """The ``count`` newest stored candles opening at or before ``end_ms``, oldest first."""
    qs = Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe=timeframe, open_time__lte=ms_to_dt(end_ms))
    return list(reversed(_bars(qs.order_by("-open_time")[:count])))


# -- performance of the bot's own paper trades (issue 8: the bot detail page) ---------------


def bot_order_prefix(*, bot: Bot) -> str:
    """Every order the runner places carries ``bot<id>-<candle open ms>`` as its client id."""
    return f"bot{bot.pk}-"


def bot_fill_list(*, bot: Bot) -> QuerySet[Fill]:
    """The fills of the bot's orders (not the portfolio's other trades), oldest first."""
    return (
        Fill.objects.filter(portfolio_id=bot.portfolio_id, order__client_order_id__startswith=bot_order_prefix(bot=bot))
        .select_related("order")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True, slots=True)
class BotPerformance:
    quantity: Decimal
    avg_cost: Decimal
    mark: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    total_pnl: Decimal
    return_pct: Decimal | None  # total P&L over the portfolio's starting quote balance
    closed_trades: int
    winning_trades: int
    win_rate_pct: Decimal | None
    fees_paid: Decimal  # in quote
    fills: int
    volume: Decimal  # quote traded


def bot_performance_get(*, bot: Bot, fills: Iterable[Fill] | None = None) -> BotPerformance:
    """Average-cost P&L of the bot's fills alone (the portfolio's Position mixes in every other
    trade on the symbol), marked to the live mid; the maths is the portfolio app's."""
    state = pnl.PositionState()
    volume, count = ZERO, 0
    base = bot.symbol.removesuffix(bot.portfolio.quote_asset)
    for fill in bot_fill_list(bot=bot) if fills is None else fills:
        state = pnl.position_apply_fill(
            state,
            side=fill.side,
            quantity=fill.quantity,
            price=fill.price,
            fee=fill.fee,
            fee_in_base=fill.fee_asset == base,
        )
        volume += fill.quote_quantity
        count += 1
    mark = books.mid_price(exchange=bot.exchange, symbol=bot.symbol)
    unrealized = pnl.unrealized_pnl(quantity=state.quantity, avg_cost=state.avg_cost, mark=mark)
    total = state.realized_pnl + unrealized
    capital = to_decimal(str((bot.portfolio.starting_balances or {}).get(bot.portfolio.quote_asset) or "0"))
    rate = pnl.win_rate(wins=state.winning_trades, trades=state.closed_trades)
    return BotPerformance(
        quantity=state.quantity,
        avg_cost=state.avg_cost,
        mark=mark,
        realized_pnl=state.realized_pnl,
        unrealized_pnl=unrealized,
        total_pnl=total,
        return_pct=total / capital * 100 if capital > 0 else None,
        closed_trades=state.closed_trades,
        winning_trades=state.winning_trades,
        win_rate_pct=rate * 100 if rate is not None else None,
        fees_paid=state.fees_paid,
        fills=count,
        volume=volume,
    )
