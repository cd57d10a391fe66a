"""Read-only context for the pages that compose several apps (dashboard, status).

Composes other apps' selectors into template-ready rows; no writes and no business rules.
Chart values are floats (display only); money stays Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.bots.models import Bot, BotEvent
from apps.bots.selectors import bot_list
from apps.core.formatting import plain
from apps.market.cache import backfill_progress_get, feed_status_get, ticker_get
from apps.market.models import Candle, Instrument
from apps.ops.models import AlertNotification
from apps.ops.selectors import health_report_get

EXCHANGE_LABELS = {"binance": "Binance", "kucoin": "KuCoin"}
SPARKLINE_POINTS = 60


@dataclass(frozen=True)
class WatchRow:
    exchange: str
    symbol: str
    last: Decimal | None
    change_pct: Decimal | None
    points: list[float]
    tick: Decimal | None = None  # the instrument's: the price shows to it


def watchlist_symbols() -> list[tuple[str, str]]:
    return [(exchange, symbol) for exchange in EXCHANGE_LABELS for symbol in settings.MARKET_SYMBOLS]


def sparkline_points(*, exchange: str, symbol: str, count: int = SPARKLINE_POINTS) -> list[float]:
    closes = (
        Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe="1m")
        .order_by("-open_time")
        .values_list("close", flat=True)[:count]
    )
    return [float(c) for c in reversed(list(closes))]


def watchlist_rows() -> list[WatchRow]:
    rows = []
    ticks = {(ex, sym): tick for ex, sym, tick in Instrument.objects.values_list("exchange", "symbol", "tick_size")}
    for exchange, symbol in watchlist_symbols():
        ticker = ticker_get(exchange, symbol)
        rows.append(
            WatchRow(
                exchange=exchange,
                symbol=symbol,
                last=ticker.last if ticker else None,
                change_pct=ticker.change_pct if ticker else None,
                points=sparkline_points(exchange=exchange, symbol=symbol),
                tick=ticks.get((exchange, symbol)),
            )
        )
    return rows


def feed_state_label(status: dict[str, Any]) -> str:
    """live | simulated | stalled | reconnecting | down | unknown, from the feed's status record."""
    state = str(status.get("state") or "unknown").lower()
    lag_ms = status.get("lag_ms")
    if state in ("live", "simulated") and lag_ms is not None and lag_ms > settings.MARKET_FEED_STALE_S * 3000:
        return "stalled"  # connected, but no data (a frozen exchange or simulator)
    if state in ("live", "simulated"):
        return state
    if state in ("starting", "connecting", "reconnecting", "standby", "stale"):
        return "reconnecting"
    return state or "unknown"


def backfill_view(progress: dict[str, Any]) -> dict[str, Any] | None:
    """The history backfill as a progress bar, or None once it is done (or never started):
    the bar only shows while the candles are still being fetched, or when the fetch failed."""
    state = str(progress.get("state") or "idle")
    total = int(progress.get("total") or 0)
    done = min(int(progress.get("done") or 0), total)
    if state in ("idle", "done") or (state == "running" and total == 0):
        return None
    return {"state": state, "done": done, "total": total, "pct": done * 100 // total if total else 0}


def feed_rows() -> list[dict[str, Any]]:
    rows = []
    for exchange, label in EXCHANGE_LABELS.items():
        status = feed_status_get(exchange) or {}
        progress = backfill_progress_get(exchange)
        rows.append(
            {
                "exchange": exchange,
                "label": label,
                "state": feed_state_label(status),
                "lag_ms": status.get("lag_ms"),
                "reconnects": status.get("reconnects", 0),
                "messages": status.get("messages", 0),
                "symbols": status.get("symbols") or [],
                "backfill": backfill_view(progress),
                "backfill_state": str(progress.get("state") or "idle"),
            }
        )
    return rows


def feeds_context() -> dict[str, Any]:
    """The feed strip's context; it polls faster while a history backfill is running."""
    feeds = feed_rows()
    # Feeds not streaming right now: shown with the alerts, which stay empty when no alert
    # channel is configured (make run), so the page never says "All quiet" during an outage.
    outages = [f"{f['label']} feed {f['state']}" for f in feeds if f["state"] not in ("live", "simulated")]
    return {"feeds": feeds, "backfilling": any(f["backfill"] for f in feeds), "feed_outages": outages}


def running_bots(*, owner: Any) -> list[dict[str, Any]]:
    rows = []
    for bot in bot_list(owner=owner).filter(status=Bot.Status.RUNNING)[:20]:
        signal = BotEvent.objects.filter(bot=bot, kind=BotEvent.Kind.SIGNAL).order_by("-id").first()
        rows.append({"bot": bot, "last_signal": signal})
    return rows


def status_components() -> list[Any]:
    return list(health_report_get().results)


def recent_alerts(*, limit: int = 20) -> list[dict[str, Any]]:
    """One row per raised alert (its notifications of one raise share the dedup key and the
    second), with how each channel fared: "email sent · page"."""
    rows: list[dict[str, Any]] = []
    for n in AlertNotification.objects.order_by("-id")[: limit * 4]:
        last = rows[-1] if rows else None
        same_raise = last is not None and last["dedup_key"] == n.dedup_key
        if same_raise and abs((last["created_at"] - n.created_at).total_seconds()) < 1:
            last["deliveries"].insert(0, _delivery(n))
            continue
        if len(rows) == limit:
            break
        rows.append({**{k: getattr(n, k) for k in ("created_at", "severity", "title", "dedup_key")},
                     "deliveries": [_delivery(n)]})  # fmt: skip
    return rows


def _delivery(notification: AlertNotification) -> str:
    if notification.channel == AlertNotification.Channel.PAGE:
        return "page"
    return f"{notification.channel} {notification.status.replace('_', ' ')}"


def ticket_balances(*, ticket: Any, instrument: Any) -> dict[str, dict[str, str]]:
    """Free base and quote of each portfolio the ticket offers, for its "available" line and
    its % buttons (strings: Decimal digits, formatted by static/js/format.js)."""
    assets = (instrument.base_asset, instrument.quote_asset)
    rows: dict[str, dict[str, str]] = {}
    for portfolio in ticket.fields["portfolio"].queryset.prefetch_related("balances"):
        free = {b.asset: b.free for b in portfolio.balances.all()}
        rows[str(portfolio.pk)] = {asset: plain(free.get(asset, Decimal(0))) for asset in assets}
    return rows
