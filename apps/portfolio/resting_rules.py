"""Resting-order rules (pure): when a resting limit order is marketable, how much one trade
print fills it (trade-through, or at its price once the queue ahead is used up), and when a
stop triggers. FILL_REALISM.md rules 2, 3 and 4; the book walk itself is in ``fills``."""

from __future__ import annotations

from decimal import Decimal

from apps.market.events import BookSnapshot
from apps.portfolio.fills import BUY, RULE_QUEUE_TOUCH, RULE_TRADE_THROUGH, SELL, ZERO, step_down


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
    falls_to = trade_price <= stop_price
    rises_to = trade_price >= stop_price
    if order_type.startswith("stop_loss"):
        return falls_to if side == SELL else rises_to
    return rises_to if side == SELL else falls_to


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
