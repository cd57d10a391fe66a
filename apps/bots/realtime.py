"""Live pushes to the bot page, sent after the transaction commits.

Group: ``bot.<bot_id>``. Message (channel layer event):

    {"type": "bot.event",            # consumer method bot_event()
     "bot_id": 3,
     "event": {"id": 41, "kind": "signal" | "order" | "error" | "state" | "risk",
               "message": "RSI 27.1 < 30", "data": {...}, "candle_open_ms": 1700000000000,
               "created_at": "2026-01-01T00:00:00+00:00"},
     "status": "running" | "paused" | "stopped" | "error",
     "status_reason": ""}

Backtest progress goes to the same group:

    {"type": "bot.backtest", "bot_id": 3, "backtest_id": 9, "status": "running", "progress": 40}

A consumer joins the group and forwards the message (or re-renders its fragment).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


def bot_group(bot_id: int) -> str:
    return f"bot.{bot_id}"


def event_payload(event: Any) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "message": event.message,
        "data": event.data,
        "candle_open_ms": event.candle_open_ms,
        "created_at": event.created_at.isoformat() if event.created_at else None,
    }


def _send(group: str, message: dict[str, Any]) -> None:
    from apps.portfolio.services.pushes import group_push

    group_push(group=group, message=message)  # best effort: the page reloads the log anyway


def bot_event_push(*, bot: Any, event: Any) -> None:
    """Queue the push of ``event`` for after commit (never pushes rolled-back events)."""
    message = {
        "type": "bot.event",
        "bot_id": bot.pk,
        "event": event_payload(event),
        "status": bot.status,
        "status_reason": bot.status_reason,
    }
    transaction.on_commit(lambda: _send(bot_group(bot.pk), message))


def backtest_progress_push(*, backtest: Any) -> None:
    if backtest.bot_id is None:
        return
    message = {
        "type": "bot.backtest",
        "bot_id": backtest.bot_id,
        "backtest_id": backtest.pk,
        "status": backtest.status,
        "progress": backtest.progress,
    }
    transaction.on_commit(lambda: _send(bot_group(backtest.bot_id), message))
