"""What the matcher knows of each resting order, and the process's link to its matcher.

The order service tells the matcher about orders that start or stop resting (on commit), and
a latent cancel asks it for the events it holds for one order. Both go through this module,
which sits below the services, so the services never import the matcher (which calls them).
A process that runs a matcher attaches it (``matcher.enable``); elsewhere both calls are
no-ops.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from apps.market.events import BookSnapshot, MarketEvent, TradeEvent
from apps.portfolio import fills as engine
from apps.portfolio import resting_rules


@dataclass(frozen=True, slots=True)
class RestingView:
    """What the cheap check needs to know about one resting order."""

    order_id: int
    side: str
    order_type: str
    price: Decimal | None
    stop_price: Decimal | None
    triggered: bool
    at_touch: bool = False  # queue model: a print exactly at the price may fill it too
    trailing_delta_bps: int | None = None
    trail_best: Decimal | None = None


def _queue_model(order: Any) -> bool:
    # Only from an already loaded portfolio: this runs on commit hooks and must not query.
    from apps.portfolio.models import Order

    return Order.portfolio.is_cached(order) and bool(order.portfolio.queue_position_model)


def resting_view(order: Any) -> RestingView:
    return RestingView(
        order_id=order.pk,
        side=order.side,
        order_type=order.order_type,
        price=order.price,
        stop_price=order.stop_price,
        triggered=order.triggered,
        at_touch=_queue_model(order),
        trailing_delta_bps=order.trailing_delta_bps,
        trail_best=order.trail_best,
    )


def may_fill(view: RestingView, event: MarketEvent) -> bool:
    """Could this event change this order? False positives only cost a transaction."""
    if view.order_type in engine.STOP_TYPES and not view.triggered:
        if not isinstance(event, TradeEvent):
            return False
        spec = resting_rules.ExitSpec(view.order_type, view.side, view.stop_price, view.trailing_delta_bps)
        best, hit = resting_rules.trigger_on_trade(spec, best_price=view.trail_best, trade_price=event.price)
        # A trailing stop's new best price must be stored too (it moves the trigger).
        return hit or best != view.trail_best
    if view.order_type in engine.STOP_MARKET_TYPES:
        return isinstance(event, TradeEvent | BookSnapshot)  # triggered, still filling
    if not isinstance(event, TradeEvent) or view.price is None:
        return False
    if view.at_touch and event.price == view.price:
        return True
    return event.price < view.price if view.side == "buy" else event.price > view.price


class MatcherPort(Protocol):
    def update(self, *, key: tuple[str, str, int], view: RestingView | None) -> None: ...

    def pending_events(self, *, order_id: int) -> list[MarketEvent]: ...


_attached: MatcherPort | None = None


def matcher_attach(matcher: MatcherPort | None) -> None:
    """The process's matcher (None detaches it)."""
    global _attached
    _attached = matcher


def index_update(*, key: tuple[str, str, int], view: RestingView | None) -> None:
    """Called on commit by the order service; a no-op outside a matcher process."""
    if _attached is not None:
        _attached.update(key=key, view=view)


def pending_events(*, order_id: int) -> list[MarketEvent]:
    """The process matcher's queued events for one order (none outside a matcher process)."""
    return _attached.pending_events(order_id=order_id) if _attached is not None else []
