"""Celery tasks of the market app (thin: the work is in services and feeds)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def feed_watchdog_task() -> list[str]:
    """Restart dead feeds of this process (embedded) and record each exchange's status."""
    from apps.market.feeds.supervisor import supervisors_check_all

    return supervisors_check_all()


@shared_task
def gap_backfill_task() -> int:
    """REST-backfill candle gaps. Feeds in this process fill their own gaps continuously; a
    worker without feeds does a one-shot pass over the configured exchanges."""
    from django.conf import settings

    from apps.market.feeds.embedded import EXCHANGES, configured_urls, market_current
    from apps.market.feeds.oneshot import backfill_run
    from apps.market.selectors import feed_symbols

    handle = market_current()
    if handle is not None:
        for runner in handle.supervisor.runners.values():
            if runner.loop is not None and not runner.loop.is_closed():
                runner.loop.call_soon_threadsafe(runner.candles.gap_now)
        return 0
    return sum(
        backfill_run(
            exchange=exchange,
            symbols=feed_symbols(exchange=exchange),
            urls=configured_urls(),
            count=settings.MARKET_BACKFILL_CANDLES,
        )
        for exchange in EXCHANGES
    )


@shared_task
def instrument_sync_task() -> int:
    from apps.market.feeds.embedded import EXCHANGES, configured_urls, market_current
    from apps.market.feeds.oneshot import instruments_run

    handle = market_current()
    urls = handle.urls if handle is not None else configured_urls()
    return sum(instruments_run(exchange=exchange, urls=urls) for exchange in EXCHANGES)


@shared_task
def candle_retention_task() -> int:
    from apps.market.services import candles_retention_apply

    return candles_retention_apply()
