"""What ops hears from the apps below it: safety alerts and bot alerts become routed alerts.

The apps below never import ops; they announce (``apps.safety.alerts``, ``apps.bots.signals``)
and ``listeners_connect`` (called by ``OpsConfig.ready``) subscribes ops to them.
"""

from __future__ import annotations

from typing import Any

from apps.bots.signals import bot_alert
from apps.ops.alerting import alert_raise
from apps.safety.alerts import safety_alert_subscribe


def safety_alert_handler(alert: dict[str, Any]) -> None:
    """apps.safety.alerts calls this for every safety alert ({layer, message, detail, raised_at})."""
    layer = str(alert.get("layer", "unknown"))
    message = str(alert.get("message", ""))
    alert_raise(
        kind="safety_violation",
        severity="critical",
        title=f"Real trading refused ({layer})",
        message=message,
        dedup_key=f"safety:{layer}:{message[:120]}",
        data={"layer": layer, "raised_at": alert.get("raised_at"), "detail": alert.get("detail") or {}},
    )


def bot_alert_handler(sender: Any, *, kind: str, title: str, reason: str, bot_id: int, **kwargs: Any) -> None:
    """A bot paused by an error or stopped by its kill switch (``apps.bots.signals.bot_alert``)."""
    alert_raise(
        kind=kind,
        severity="warning",
        title=title,
        message=reason,
        dedup_key=f"{kind}:bot{bot_id}",
        data={"bot_id": bot_id},
    )


def listeners_connect() -> None:
    safety_alert_subscribe("ops-alerting", safety_alert_handler)
    bot_alert.connect(bot_alert_handler, dispatch_uid="ops-bot-alerts")
