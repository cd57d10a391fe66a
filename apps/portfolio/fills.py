"""The paper fill engine (pure: no ORM, no I/O). Follows ../shared/docs/FILL_REALISM.md.

- Marketable orders walk the L2 book level by level; liquidity we consumed at a level is
  remembered until the book at that level refreshes, by a store shared by every process
  that fills orders (``apps.portfolio.liquidity``): the walk asks it for each level's grant.
- Resting limit orders fill only on trade prints *through* their price, capped by the printed
  size; a touch is not a fill.
- Stops trigger on trades; a triggered stop-market walks the book and a gap fills at the
  worse of the book and the triggering print, never at the stop price.
- Maker/taker is decided by how the order filled; fees use the tier and the BNB/KCS discount.
- Latency is drawn from a generator seeded per (portfolio seed, order sequence): replayable.

Resting-order and stop rules live in ``resting_rules``, arrival delays in ``arrival``.
The backtester reuses this module, so it stays importable without Django and cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Context, Decimal
from typing import TYPE_CHECKING

from apps.market.events import BookSnapshot

if TYPE_CHECKING:
    from apps.portfolio.liquidity import LiquidityStore

ZERO = Decimal("0")
ONE = Decimal("1")
BPS = Decimal("10000")
Q18 = Decimal("1e-18")
_WIDE = Context(prec=60)

BUY, SELL = "buy", "sell"
MAKER, TAKER = "maker", "taker"

# The rule names stored on every Fill.
RULE_BOOK_WALK = "book_walk"
RULE_TRADE_THROUGH = "trade_through"
RULE_STOP_GAP = "stop_gap"
RULE_QUEUE_TOUCH = "queue_touch"  # a print at our price, after the queue ahead of us was used up
RULE_REPLAY_CANDLE = "replay_candle"  # reconstructed from a stored 1m candle (apps.portfolio.downtime)

# Exchange fee discounts when fees are paid in the exchange token.
FEE_DISCOUNTS = {"binance": Decimal("0.25"), "kucoin": Decimal("0.20")}

STOP_TYPES = frozenset({"stop_loss", "stop_loss_limit", "take_profit", "take_profit_limit", "trailing_stop"})
STOP_MARKET_TYPES = frozenset({"stop_loss", "take_profit", "trailing_stop"})
TRAILING_TYPES = frozenset({"trailing_stop"})


def q18(value: Decimal, *, rounding: str | None = None) -> Decimal:
    """Quantize to the storage precision (18 dp) with a context wide enough never to raise."""
    return value.quantize(Q18, rounding=rounding, context=_WIDE)


def step_down(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN, context=_WIDE) * step


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    maker_rate: Decimal = Decimal("0.001")
    taker_rate: Decimal = Decimal("0.001")
    discount: Decimal = ZERO

    def rate(self, liquidity: str) -> Decimal:
        base = self.maker_rate if liquidity == MAKER else self.taker_rate
        return base * (ONE - self.discount)

    def fee(self, *, side: str, quantity: Decimal, quote: Decimal, liquidity: str) -> Decimal:
        """Charged in the asset received (base on a buy, quote on a sell), rounded up."""
        received = quantity if side == BUY else quote
        return q18(received * self.rate(liquidity), rounding=ROUND_UP)


def fee_schedule_for(*, exchange: str, maker_rate: Decimal, taker_rate: Decimal, use_discount: bool) -> FeeSchedule:
    discount = FEE_DISCOUNTS.get(exchange, ZERO) if use_discount else ZERO
    return FeeSchedule(maker_rate=maker_rate, taker_rate=taker_rate, discount=discount)


@dataclass(frozen=True, slots=True)
class FillSlice:
    price: Decimal
    quantity: Decimal
    liquidity: str
    rule: str
    trade_id: str = ""

    @property
    def quote(self) -> Decimal:
        return q18(self.price * self.quantity)


# Why a book walk ended before the order was done (Execution.stopped_by).
STOP_BOOK_DEPTH = "book_depth"
STOP_SLIPPAGE_CAP = "slippage_cap"
STOP_LIMIT_PRICE = "limit_price"


@dataclass(frozen=True, slots=True)
class Execution:
    """What the engine decided for one order event: zero or more slices at one arrival mid."""

    side: str
    slices: tuple[FillSlice, ...]
    arrival_mid: Decimal | None
    exhausted: bool = False  # the book (or slippage band) ran out before the order was done
    stopped_by: str = ""  # why a walk ended short: STOP_BOOK_DEPTH, STOP_SLIPPAGE_CAP, STOP_LIMIT_PRICE
    levels: int = 0  # visible levels on the side walked

    @property
    def quantity(self) -> Decimal:
        return sum((s.quantity for s in self.slices), ZERO)

    @property
    def quote(self) -> Decimal:
        return sum((s.quote for s in self.slices), ZERO)

    @property
    def avg_price(self) -> Decimal | None:
        qty = self.quantity
        return q18(self.quote / qty) if qty else None

    @property
    def slippage_bps(self) -> Decimal | None:
        avg = self.avg_price
        if avg is None or not self.arrival_mid:
            return None
        return slippage_bps(side=self.side, price=avg, mid=self.arrival_mid)


def slippage_bps(*, side: str, price: Decimal, mid: Decimal) -> Decimal:
    """Positive = worse than the arrival mid (paid more on a buy, got less on a sell)."""
    diff = price - mid if side == BUY else mid - price
    return (diff / mid * BPS).quantize(Decimal("0.0001"), context=_WIDE)


def _within(side: str, price: Decimal, bound: Decimal | None) -> bool:
    if bound is None:
        return True
    return price <= bound if side == BUY else price >= bound


def _worse(side: str, a: Decimal, b: Decimal | None) -> Decimal:
    if b is None:
        return a
    return max(a, b) if side == BUY else min(a, b)


def slippage_bound(*, side: str, mid: Decimal | None, max_slippage_bps: Decimal | None) -> Decimal | None:
    if mid is None or max_slippage_bps is None:
        return None
    band = mid * max_slippage_bps / BPS
    return mid + band if side == BUY else mid - band


def walk_book(
    *,
    book: BookSnapshot,
    side: str,
    quantity: Decimal | None = None,
    quote_quantity: Decimal | None = None,
    limit_price: Decimal | None = None,
    step_size: Decimal = ZERO,
    consumed: LiquidityStore | None = None,
    max_slippage_bps: Decimal | None = None,
    gap_price: Decimal | None = None,
    rule: str = RULE_BOOK_WALK,
) -> Execution:
    """Take liquidity level by level (taker). ``quantity`` is base, ``quote_quantity`` spends
    quote; ``limit_price`` bounds the walk (a marketable limit order); ``gap_price`` is a
    triggering print that the fill can never be better than (stop gap fills).

    With a ``consumed`` store each level yields what the store grants (atomic, so another
    walk of the same level, in any process, cannot be granted it too)."""
    mid = book.mid
    levels, book_side = (book.asks, "ask") if side == BUY else (book.bids, "bid")
    bound = slippage_bound(side=side, mid=mid, max_slippage_bps=max_slippage_bps)
    remaining_qty, remaining_quote = quantity, quote_quantity
    slices: list[FillSlice] = []
    stopped_by = STOP_BOOK_DEPTH
    for level_price, displayed in levels:
        bounded = _bound_reached(side, level_price, limit_price=limit_price, slippage_bound=bound)
        if bounded:
            stopped_by = bounded
            break
        price = _worse(side, level_price, gap_price)
        bounded = _bound_reached(side, price, limit_price=limit_price, slippage_bound=bound)
        if bounded:
            stopped_by = bounded
            break
        want = displayed if remaining_qty is None else min(displayed, remaining_qty)
        if remaining_quote is not None:
            want = min(want, remaining_quote / price)
        want = step_down(want, step_size)
        if want <= 0:
            if remaining_quote is not None and displayed > 0:
                break  # quote left cannot buy one more step
            continue
        take = want
        if consumed is not None:
            take = consumed.take(
                book=book, book_side=book_side, price=level_price, displayed=displayed, quantity=want, step=step_size
            )
        if take <= 0:
            continue  # all of it is taken (by us, in this or another process)
        slices.append(FillSlice(price=price, quantity=take, liquidity=TAKER, rule=rule))
        if remaining_qty is not None:
            remaining_qty -= take
            if remaining_qty <= 0:
                break
        if remaining_quote is not None:
            remaining_quote -= q18(take * price)
            if remaining_quote <= 0:
                break
    done = (remaining_qty is not None and remaining_qty <= 0) or (
        remaining_quote is not None and remaining_quote < remaining_quote_floor(levels, step_size)
    )
    return Execution(
        side=side,
        slices=tuple(slices),
        arrival_mid=mid,
        exhausted=not done,
        stopped_by="" if done else stopped_by,
        levels=len(levels),
    )


def _bound_reached(
    side: str, price: Decimal, *, limit_price: Decimal | None, slippage_bound: Decimal | None
) -> str | None:
    if not _within(side, price, limit_price):
        return STOP_LIMIT_PRICE
    if not _within(side, price, slippage_bound):
        return STOP_SLIPPAGE_CAP
    return None


def remaining_quote_floor(levels: Sequence[tuple[Decimal, Decimal]], step_size: Decimal) -> Decimal:
    """Quote too small to buy one step at the best level counts as fully spent."""
    if not levels or step_size <= 0:
        return Decimal("1e-12")
    return levels[0][0] * step_size
