"""Resting-order rules (pure): when a resting limit order is marketable, how much one trade
print fills it (trade-through, or at its price once the queue ahead is used up), and when a
stop or a trailing stop triggers, on one print (the live matcher) or along a candle's
intra-candle path (the downtime replay and the backtester). FILL_REALISM.md rules 2-5; the
book walk itself is in ``fills``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.market.events import BookSnapshot
from apps.portfolio.fills import BPS, BUY, RULE_QUEUE_TOUCH, RULE_TRADE_THROUGH, SELL, ZERO, _worse, step_down


def is_marketable(*, side: str, price: Decimal, book: BookSnapshot) -> bool:
    if side == BUY:
        return book.best_ask is not None and price >= book.best_ask
    return book.best_bid is not None and price <= book.best_bid


def resting_fill_on_trade(
    *,
    side: str,
    limit_price: Decimal,
    remaining: Decimal,
    trade_price: Decimal,
    trade_qty: Decimal,
    step_size: Decimal = ZERO,
) -> Decimal:
    """Quantity a resting limit order fills from one print: only a print strictly through our
    price (sellers hit below our bid / buyers lifted above our ask) and never more than the
    printed size. A print at our price alone is a touch: queue position unknown, no fill."""
    through = trade_price < limit_price if side == BUY else trade_price > limit_price
    if not through or remaining <= 0:
        return ZERO
    return step_down(min(remaining, trade_qty), step_size)


def stop_triggered(*, order_type: str, side: str, stop_price: Decimal, trade_price: Decimal) -> bool:
    """Stop-loss: a sell triggers when price falls to the stop, a buy when it rises to it.
    Take-profit is the mirror image."""
    spec = ExitSpec(order_type=order_type, side=side, stop_price=stop_price)
    return trigger_on_trade(spec, best_price=None, trade_price=trade_price)[1]


# -- trailing stops (Binance ``trailingDelta``) -------------------------------------------------


def trailing_trigger_price(*, side: str, best_price: Decimal, trailing_delta_bps: int) -> Decimal:
    """A sell trails the highest print since placement ``trailing_delta_bps`` below it; a buy
    the lowest print, that far above it."""
    delta = Decimal(trailing_delta_bps) / BPS
    return best_price * (1 - delta) if side == SELL else best_price * (1 + delta)


@dataclass(frozen=True, slots=True)
class ExitSpec:
    """What decides when a resting stop / take-profit / trailing stop triggers."""

    order_type: str
    side: str
    stop_price: Decimal | None = None
    trailing_delta_bps: int | None = None


def _better(side: str, best: Decimal | None, price: Decimal) -> Decimal:
    """The best print for a trailing stop: the highest for a sell, the lowest for a buy."""
    if best is None:
        return price
    return max(best, price) if side == SELL else min(best, price)


def trigger_level(spec: ExitSpec, *, best_price: Decimal | None) -> Decimal | None:
    """The price a print must reach to trigger (None: a trailing stop with no best price yet)."""
    if spec.trailing_delta_bps is None:
        return spec.stop_price
    if best_price is None:
        return None
    return trailing_trigger_price(side=spec.side, best_price=best_price, trailing_delta_bps=spec.trailing_delta_bps)


def falls_to(spec: ExitSpec) -> bool:
    """Does it trigger on a falling price (stop-loss and trailing sells, take-profit buys)?"""
    if spec.trailing_delta_bps is not None:
        return spec.side == SELL
    return spec.order_type.startswith("stop_loss") == (spec.side == SELL)


def trigger_on_trade(
    spec: ExitSpec, *, best_price: Decimal | None, trade_price: Decimal
) -> tuple[Decimal | None, bool]:
    """One print against a resting exit: (best price after the print, triggered). A print at
    the level triggers (Binance: "reaches"). A trailing stop first moves its best price with
    a print in its favour, so a print can never trigger the stop it just moved."""
    best = best_price
    if spec.trailing_delta_bps is not None:
        best = _better(spec.side, best, trade_price)
    level = trigger_level(spec, best_price=best)
    if level is None:
        return best, False
    return best, (trade_price <= level if falls_to(spec) else trade_price >= level)


# -- the intra-candle path (downtime replay, backtester) ---------------------------------------


def bar_path(*, open_: Decimal, high: Decimal, low: Decimal, close: Decimal) -> tuple[Decimal, ...]:
    """The synthetic prints of one candle, in order: open, both extremes, close.

    Which extreme came first is unknown. The rule: a candle that closed at or above its
    open went down first (open -> low -> high -> close), one that closed below went up
    first (open -> high -> low -> close). For a long position's exits that is the adverse
    extreme first whenever the candle's direction allows it: a rising candle's low is met
    before its high (the stop before the take-profit); only a falling candle, which ended at
    its lows, is taken to have seen its high first."""
    return (open_, low, high, close) if close >= open_ else (open_, high, low, close)


@dataclass(frozen=True, slots=True)
class PathTrigger:
    index: int  # the path point (leg end) at which it triggered; 0: the opening print
    trigger_price: Decimal  # the print that triggered it (the level, when crossed inside a leg)
    fill_price: Decimal  # the worse of the trigger and the path's extreme after it (see below)
    best_price: Decimal | None


def path_trigger(
    spec: ExitSpec, *, best_price: Decimal | None, path: Sequence[Decimal]
) -> tuple[PathTrigger | None, Decimal | None]:
    """Walk ``path`` (``bar_path``: continuous legs between the points) with the same rule as
    a live print (``trigger_on_trade``). (the trigger or None, the best price after the walk).

    The first point is a print by itself (the open: a gap through the level triggers at the
    open). Inside a leg the price passes through every level, so a level crossed there
    triggers at the level itself. A triggered stop-market fills, on a candle, at the worse of
    its trigger and the most extreme price the rest of the path reached in the triggering
    direction: we cannot know where in the candle the walk of the book completed. (For a
    fixed stop that is the candle's extreme in that direction.)"""
    quiet = _path_quiet(spec, best_price=best_price, path=path)
    if quiet is not None:
        return None, quiet[1]
    best = best_price
    previous: Decimal | None = None
    for index, point in enumerate(path):
        level_before = trigger_level(spec, best_price=best) if previous is not None else None
        best, hit = trigger_on_trade(spec, best_price=best, trade_price=point)
        if hit:
            # Inside a leg the price came from the other side of the level: it crossed there.
            trigger = point if level_before is None else level_before
            rest = path[index:]
            extreme = min(rest) if falls_to(spec) else max(rest)
            return PathTrigger(index, trigger, _worse(spec.side, trigger, extreme), best), best
        previous = point
    return None, best


def _path_quiet(
    spec: ExitSpec, *, best_price: Decimal | None, path: Sequence[Decimal]
) -> tuple[None, Decimal | None] | None:
    """(None, best after the path) when no point of the path can reach the exit's level (the
    common case, checked from the path's extremes alone), else None: walk it. Exact: the
    level is at its tightest once the best price has reached the path's extreme."""
    low, high = min(path), max(path)
    best = best_price
    if spec.trailing_delta_bps is not None:
        best = _better(spec.side, best, high if spec.side == SELL else low)
    level = trigger_level(spec, best_price=best)
    if level is None:
        return None, best
    reached = low <= level if falls_to(spec) else high >= level
    return None if reached else (None, best)


def first_path_trigger(
    specs: Sequence[ExitSpec], *, best_prices: list[Decimal | None], path: Sequence[Decimal]
) -> tuple[int, PathTrigger] | None:
    """Which of several linked exits (an OCO) triggers first along ``path``: (its index, the
    trigger), or None; ``best_prices`` (one per exit) are updated in place when none does.
    Two exits triggered in the same leg: the level met first in the leg's direction."""
    hits: list[tuple[int, int, Decimal, PathTrigger]] = []
    bests: list[Decimal | None] = []
    for k, spec in enumerate(specs):
        hit, best = path_trigger(spec, best_price=best_prices[k], path=path)
        bests.append(best)
        if hit is not None:
            falling = hit.index > 0 and path[hit.index] < path[hit.index - 1]
            # falling leg: the higher level is met first; rising: the lower one
            order_in_leg = -hit.trigger_price if falling else hit.trigger_price
            hits.append((hit.index, k, order_in_leg, hit))
    if not hits:
        best_prices[:] = bests
        return None
    index, k, _, hit = min(hits, key=lambda h: (h[0], h[2], h[1]))
    return k, hit


def would_trigger_now(*, order_type: str, side: str, stop_price: Decimal, last_price: Decimal | None) -> bool:
    return last_price is not None and stop_triggered(
        order_type=order_type, side=side, stop_price=stop_price, trade_price=last_price
    )


# -- queue position (rule 3, optional per portfolio) -------------------------------------------


def queue_ahead_estimate(*, side: str, price: Decimal, book: BookSnapshot) -> Decimal:
    """Book quantity ahead of a new resting order at ``price`` on its arrival book.

    At a displayed level: that level's size (we join the back of the queue). Better than the
    best price or in a gap between displayed levels: nothing (we open the level). Beyond the
    displayed depth the size is unknown: the largest displayed size, as a conservative guess.
    """
    levels = book.bids if side == BUY else book.asks
    if not levels:
        return ZERO
    for level_price, size in levels:
        if level_price == price:
            return size
    deepest = levels[-1][0]
    beyond = price < deepest if side == BUY else price > deepest
    return max(size for _, size in levels) if beyond else ZERO


def resting_fill_with_queue(
    *,
    side: str,
    limit_price: Decimal,
    remaining: Decimal,
    trade_price: Decimal,
    trade_qty: Decimal,
    queue_ahead: Decimal,
    step_size: Decimal = ZERO,
) -> tuple[Decimal, Decimal, str]:
    """(fill quantity, queue left ahead, rule) for one print against a resting limit order.

    A print through our price fills as without the model and clears the queue (the level
    traded away). A print exactly at our price first eats the queue ahead of us; only what
    is printed beyond it can fill us.
    """
    through = trade_price < limit_price if side == BUY else trade_price > limit_price
    if through:
        qty = resting_fill_on_trade(
            side=side,
            limit_price=limit_price,
            remaining=remaining,
            trade_price=trade_price,
            trade_qty=trade_qty,
            step_size=step_size,
        )
        return qty, ZERO, RULE_TRADE_THROUGH
    if trade_price != limit_price:
        return ZERO, queue_ahead, RULE_QUEUE_TOUCH
    eaten = min(queue_ahead, trade_qty)
    qty = step_down(min(max(remaining, ZERO), trade_qty - eaten), step_size)
    return qty, queue_ahead - eaten, RULE_QUEUE_TOUCH
