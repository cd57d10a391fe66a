"""Writes for bots and backtests. Import the public functions from here."""

from __future__ import annotations

from apps.bots.services.backtests import backtest_create, backtest_create_for_bot, backtest_execute, bot_reconcile
from apps.bots.services.bots import (
    bot_create,
    bot_delete,
    bot_event_record,
    bot_pause,
    bot_start,
    bot_status_set,
    bot_stop,
    bot_update,
    bot_validate,
)
from apps.bots.services.runner import bot_client_order_id, bot_evaluate, bots_candle_closed

__all__ = [
    "backtest_create",
    "backtest_create_for_bot",
    "backtest_execute",
    "bot_client_order_id",
    "bot_create",
    "bot_delete",
    "bot_evaluate",
    "bot_event_record",
    "bot_pause",
    "bot_reconcile",
    "bot_start",
    "bot_status_set",
    "bot_stop",
    "bot_update",
    "bot_validate",
    "bots_candle_closed",
]
