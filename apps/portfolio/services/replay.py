"""What happened while the matcher was down (FILL_REALISM rule 10): each open resting order is
replayed from its symbol's checkpoint (or its own arrival) to now against stored 1m candles;
what no candle covers is marked as not simulated. See ``apps.portfolio.matcher`` for the
exact rules. Checkpoints: the last event time the matcher processed per symbol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction

from apps.market.models import Candle
from apps.portfolio import downtime, resting_rules
from apps.portfolio import fills as engine
from apps.portfolio.models import MatcherCheckpoint, Order, OrderDowntime
from apps.portfolio.services.execution import OrderWork, apply_execution, order_work_flush, remaining_qty
from apps.portfolio.services.instruments import instrument_rules_get
from apps.portfolio.services.order_arrival import resting_spec
from apps.portfolio.services.order_lists import order_list_settle
from apps.portfolio.services.resting import (
    order_arrival_ms,
    order_finish,
    order_lock_open,
    order_work_for,
    resting_orders_watch,
)

ZERO = Decimal("0")


def _ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _fmt_ms(ms: int) -> str:
    return _ms_to_dt(ms).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(slots=True)
class ReplayResult:
    order_id: int
    replayed_bars: int = 0
    fills: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)


def _bars(*, exchange: str, symbol: str, start_ms: int, end_ms: int) -> list[downtime.Bar]:
    rows = Candle.objects.filter(
        exchange=exchange,
        symbol=symbol,
        timeframe="1m",
        open_time__gte=_ms_to_dt(start_ms),
        open_time__lt=_ms_to_dt(end_ms),
    ).order_by("open_time")
    return [
        downtime.Bar(
            open_time_ms=int(row.open_time.timestamp() * 1000),
            open=row.open,
            high=row.high,
            low=row.low,
            close=row.close,
            volume=row.volume,
        )
        for row in rows
    ]


def _bar_slice(*, order: Order, bar: downtime.Bar, step: Decimal) -> engine.FillSlice | None:
    """What one candle does to the order (mutates ``order.triggered`` and a trailing stop's
    best price; cancels the rest of its OCO when it triggers or first fills)."""
    left = remaining_qty(order) or ZERO
    trade_id = f"candle:{bar.open_time_ms}"
    if order.order_type in engine.STOP_TYPES and not order.triggered:
        # The same trigger rule as a live print, along the candle's intra-candle path.
        hit, order.trail_best = resting_rules.path_trigger(
            resting_spec(order), best_price=order.trail_best, path=downtime.bar_prints(bar)
        )
        if hit is None:
            return None
        order.triggered = True
        if order.order_list_id is not None:
            order_list_settle(order=order, why="triggered")
        if order.order_type not in engine.STOP_MARKET_TYPES:
            return None  # a stop-limit rests from the next bar on (order inside the bar unknown)
        price = hit.fill_price
    elif order.order_type in engine.STOP_MARKET_TYPES:
        price = downtime.market_fill_price_in_bar(side=order.side, bar=bar)
    else:
        qty = downtime.limit_fill_in_bar(
            side=order.side, limit_price=order.price, remaining=left, bar=bar, step_size=step
        )
        if qty <= 0:
            return None
        if order.order_list_id is not None and order.filled_qty == 0:
            order_list_settle(order=order, why="filled")
        return engine.FillSlice(
            price=order.price, quantity=qty, liquidity=engine.MAKER, rule=engine.RULE_REPLAY_CANDLE, trade_id=trade_id
        )
    qty = min(engine.step_down(left, step), downtime.replay_volume_cap(bar=bar, step_size=step))
    if order.side == "buy":  # a buy stop-market never spends more than its reserve
        qty = min(qty, engine.step_down(order.locked_amount / price, step))
    if qty <= 0:
        return None
    return engine.FillSlice(
        price=price, quantity=qty, liquidity=engine.TAKER, rule=engine.RULE_REPLAY_CANDLE, trade_id=trade_id
    )


def order_downtime_replay(*, order_id: int, start_ms: int, end_ms: int) -> ReplayResult | None:
    """Replay stored 1m candles over (start, end) for one open order; mark what they do not
    cover as not simulated. One transaction. None when the order is no longer open."""
    with transaction.atomic():
        locked = order_lock_open(order_id)
        if locked is None:
            return None
        portfolio, order = locked
        start_ms = max(start_ms, order_arrival_ms(order), order.matched_until_ms or 0)
        result = ReplayResult(order_id=order_id)
        if end_ms <= start_ms:
            return result
        bars = _bars(exchange=order.exchange, symbol=order.symbol, start_ms=start_ms, end_ms=end_ms)
        used, result.gaps = downtime.downtime_coverage(
            start_ms=start_ms, end_ms=end_ms, bar_opens=[b.open_time_ms for b in bars]
        )
        if not used and not result.gaps:
            return result  # a window shorter than the checkpoint's precision
        work = order_work_for(portfolio, order)
        step = instrument_rules_get(exchange=order.exchange, symbol=order.symbol).filters.step_size
        for bar in (b for b in bars if b.open_time_ms in set(used)):
            if not order.is_open:
                break
            part = _bar_slice(order=order, bar=bar, step=step)
            result.replayed_bars += 1
            if part is not None:
                apply_execution(
                    work=work, execution=engine.Execution(side=order.side, slices=(part,), arrival_mid=bar.open)
                )
                order_finish(posting=work.posting, order=order)
                result.fills += 1
        _record_downtime(work=work, order=order, start_ms=start_ms, end_ms=end_ms, result=result)
        order.matched_until_ms = end_ms
        order_work_flush(work=work, event="replay")
        return result


def _record_downtime(*, work: OrderWork, order: Order, start_ms: int, end_ms: int, result: ReplayResult) -> None:
    rows = [
        OrderDowntime(
            order=order,
            kind=OrderDowntime.Kind.REPLAYED,
            start_ms=start_ms,
            end_ms=end_ms,
            candles=result.replayed_bars,
        )
    ][: 1 if result.replayed_bars else 0]
    rows += [
        OrderDowntime(order=order, kind=OrderDowntime.Kind.NOT_SIMULATED, start_ms=a, end_ms=b) for a, b in result.gaps
    ]
    OrderDowntime.objects.bulk_create(rows)
    if result.replayed_bars:
        work.audit.add(
            category="order",
            action="order.downtime_replayed",
            message=f"#{order.pk}: replayed {result.replayed_bars} 1m candles between "
            f"{_fmt_ms(start_ms)} and {_fmt_ms(end_ms)} ({result.fills} reconstructed fills)",
            data={"order_id": order.pk, "start_ms": start_ms, "end_ms": end_ms, "fills": result.fills},
            portfolio_id=order.portfolio_id,
            exchange=order.exchange,
            symbol=order.symbol,
        )
    for gap_start, gap_end in result.gaps:
        order.not_simulated = True
        work.audit.add(
            category="order",
            action="order.not_simulated",
            message=f"#{order.pk}: not simulated during downtime from {_fmt_ms(gap_start)} to {_fmt_ms(gap_end)} "
            "(no stored 1m candles)",
            data={"order_id": order.pk, "start_ms": gap_start, "end_ms": gap_end},
            portfolio_id=order.portfolio_id,
            exchange=order.exchange,
            symbol=order.symbol,
        )


def matcher_downtime_replay(*, now_ms: int, checkpoints: dict[tuple[str, str], int]) -> list[ReplayResult]:
    """Replay every open resting order from its symbol's checkpoint (or its own arrival, if the
    matcher never saw the symbol) up to ``now_ms``, then move those checkpoints to ``now_ms``."""
    results: list[ReplayResult] = []
    symbols: set[tuple[str, str]] = set()
    starts = {
        order.pk: (order, checkpoints.get((order.exchange, order.symbol), order_arrival_ms(order)))
        for order in resting_orders_watch()
    }
    for order_id in _replay_order(starts=starts, end_ms=now_ms):
        order, start = starts[order_id]
        key = (order.exchange, order.symbol)
        result = order_downtime_replay(order_id=order.pk, start_ms=start, end_ms=now_ms)
        if result is not None:
            results.append(result)
            symbols.add(key)
    checkpoints_save(marks=dict.fromkeys(symbols, now_ms))
    return results


def _replay_order(*, starts: dict[int, tuple[Order, int]], end_ms: int) -> list[int]:
    """Order ids in replay order: as loaded, except that the orders of one list (an OCO) are
    replayed in the order the downtime reached them, so the one that triggered or filled
    first cancels the others (``order_list_settle``), as it did on the exchange."""
    out: list[int] = []
    groups: dict[int, list[int]] = {}
    for order_id, (order, _) in starts.items():
        if order.order_list_id is None:
            out.append(order_id)
        elif order.order_list_id not in groups:
            groups[order.order_list_id] = [order_id]
            out.append(-order.order_list_id)  # the group's place
        else:
            groups[order.order_list_id].append(order_id)
    never = (len(starts) + 10**9, 0)
    ordered: list[int] = []
    for item in out:
        if item >= 0:
            ordered.append(item)
            continue
        members = groups[-item]
        reached = {pk: _first_reached(*starts[pk], end_ms=end_ms) or never for pk in members}
        ordered += sorted(members, key=lambda pk: (reached[pk], pk))
    return ordered


def _first_reached(order: Order, start_ms: int, *, end_ms: int) -> tuple[int, int] | None:
    start_ms = max(start_ms, order_arrival_ms(order), order.matched_until_ms or 0)
    bars = _bars(exchange=order.exchange, symbol=order.symbol, start_ms=start_ms, end_ms=end_ms)
    stop = order.order_type in engine.STOP_TYPES and not order.triggered
    return downtime.first_reached(
        spec=resting_spec(order) if stop else None,
        side=order.side,
        limit_price=order.price,
        best_price=order.trail_best,
        bars=bars,
    )


def checkpoints_get() -> dict[tuple[str, str], int]:
    return {(c.exchange, c.symbol): c.last_event_ms for c in MatcherCheckpoint.objects.all()}


def checkpoints_save(*, marks: dict[tuple[str, str], int]) -> None:
    """Upsert; a checkpoint only moves forward."""
    if not marks:
        return
    current = checkpoints_get()
    rows = [
        MatcherCheckpoint(exchange=exchange, symbol=symbol, last_event_ms=ms)
        for (exchange, symbol), ms in marks.items()
        if ms > current.get((exchange, symbol), -1)
    ]
    MatcherCheckpoint.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["exchange", "symbol"], update_fields=["last_event_ms", "updated_at"]
    )
