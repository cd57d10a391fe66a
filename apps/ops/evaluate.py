"""Pure rules: turn a feed status or a safety status into a health outcome (no ORM, no I/O).

The feed and safety layers are written by other teams; these functions accept a mapping
or an object and look for the few fields that matter, so a field added or renamed on
their side degrades to "unknown" in the detail instead of breaking readiness.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from apps.ops.health import DOWN, OK, STALE, ProbeOutcome

_TIMESTAMP_FIELDS = ("last_message_at", "last_message_ts", "last_event_at", "last_message", "updated_at", "ts")
_AGE_FIELDS = ("age_seconds", "lag_seconds", "staleness_seconds")
_AGE_MS_FIELDS = ("lag_ms",)
# apps.market.cache.feed_status_get "state": streaming states, everything else is down.
_STREAMING_STATES = frozenset({"live", "simulated", "connected", "ok"})


def _field(status: Any, name: str) -> Any:
    if isinstance(status, Mapping):
        return status.get(name)
    return getattr(status, name, None)


def timestamp_to_epoch(value: Any) -> float | None:
    """Epoch seconds from a datetime, an ISO string, or epoch seconds/milliseconds."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
    number = float(value)
    # Exchanges speak milliseconds; anything past year 5000 in seconds is milliseconds.
    return number / 1000 if number > 1e11 else number


def feed_age_seconds(status: Any, *, now: float) -> float | None:
    """Seconds since the newest message: measured now from its timestamp when there is one
    (a stored lag stops moving when the feed stalls), else the lag the feed reported."""
    for name in _TIMESTAMP_FIELDS:
        epoch = timestamp_to_epoch(_field(status, name))
        if epoch is not None:
            return max(0.0, now - epoch)
    for name in _AGE_FIELDS:
        value = _field(status, name)
        if value is not None:
            return float(value)
    for name in _AGE_MS_FIELDS:
        value = _field(status, name)
        if value is not None:
            return float(value) / 1000
    return None


def feed_health_evaluate(status: Any, *, now: float, stale_after: float) -> ProbeOutcome:
    if status is None:
        return ProbeOutcome(status=DOWN, detail="no status published by the feed")
    age = feed_age_seconds(status, now=now)
    connected = _field(status, "connected")
    state = _field(status, "state")
    data: dict[str, Any] = {"connected": connected, "age_seconds": None if age is None else round(age, 3)}
    for extra in ("state", "source", "reconnects", "simulated"):
        if _field(status, extra) is not None:
            data[extra] = _field(status, extra)
    if connected is False or (state is not None and state not in _STREAMING_STATES):
        return ProbeOutcome(status=DOWN, detail=f"feed {state or 'disconnected'}", data=data)
    if age is None:
        return ProbeOutcome(status=DOWN, detail="feed has not received a message", data=data)
    if age > stale_after:
        return ProbeOutcome(status=STALE, detail=f"last message {age:.1f}s ago (> {stale_after:g}s)", data=data)
    return ProbeOutcome(status=OK, data=data)


def _score_percent(value: Any) -> float | None:
    if value is None:
        return None
    score = float(value)
    return score * 100 if score <= 1 else score


def safety_health_evaluate(status: Any, *, min_score: float) -> ProbeOutcome:
    if status is None:
        return ProbeOutcome(status=DOWN, detail="no safety status")
    score = _score_percent(_field(status, "score"))
    flags = [_field(status, name) for name in ("ok", "safe", "passed")]
    explicit = next((flag for flag in flags if isinstance(flag, bool)), None)
    data: dict[str, Any] = {"score": score}
    critical = _field(status, "critical_failures") or _field(status, "failures")
    if critical:
        data["failures"] = list(critical)[:10]
    if explicit is False:
        return ProbeOutcome(status=DOWN, detail="safety checks failing", data=data)
    if score is not None and score < min_score:
        return ProbeOutcome(status=DOWN, detail=f"safety score {score:.1f}% < {min_score:g}%", data=data)
    return ProbeOutcome(status=OK, data=data)
