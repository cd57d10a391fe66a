from __future__ import annotations

from datetime import UTC, datetime

from apps.ops.evaluate import feed_health_evaluate, safety_health_evaluate, timestamp_to_epoch

NOW = 1_700_000_000.0


def test_timestamp_forms():
    assert timestamp_to_epoch(NOW) == NOW
    assert timestamp_to_epoch(NOW * 1000) == NOW
    assert timestamp_to_epoch(datetime.fromtimestamp(NOW, tz=UTC)) == NOW
    assert timestamp_to_epoch(datetime.fromtimestamp(NOW, tz=UTC).isoformat()) == NOW
    assert timestamp_to_epoch("garbage") is None
    assert timestamp_to_epoch(None) is None


def test_feed_fresh_stale_and_down():
    assert feed_health_evaluate({"connected": True, "last_message_at": NOW - 2}, now=NOW, stale_after=30).status == "ok"
    stale = feed_health_evaluate({"last_message_ts": (NOW - 31) * 1000}, now=NOW, stale_after=30)
    assert stale.status == "stale"
    assert stale.data["age_seconds"] == 31.0
    assert feed_health_evaluate({"connected": False, "age_seconds": 0}, now=NOW, stale_after=30).status == "down"
    assert feed_health_evaluate({"connected": True}, now=NOW, stale_after=30).status == "down"
    assert feed_health_evaluate(None, now=NOW, stale_after=30).status == "down"


def test_feed_status_as_object():
    class Status:
        connected = True
        lag_seconds = 1.5

    assert feed_health_evaluate(Status(), now=NOW, stale_after=30).status == "ok"


def test_safety_score_and_flags():
    assert safety_health_evaluate({"score": 100, "ok": True}, min_score=90).status == "ok"
    assert safety_health_evaluate({"score": 0.95}, min_score=90).status == "ok"
    low = safety_health_evaluate({"score": 85}, min_score=90)
    assert low.status == "down"
    assert "85.0%" in low.detail
    assert safety_health_evaluate({"score": 100, "safe": False}, min_score=90).status == "down"
    assert safety_health_evaluate(None, min_score=90).status == "down"


def test_market_cache_shape():
    """apps.market.cache.feed_status_get: state, last_message_ts (ms), lag_ms, updated_at."""
    live = {"state": "live", "last_message_ts": (NOW - 1) * 1000, "lag_ms": 900, "reconnects": 2, "updated_at": NOW}
    outcome = feed_health_evaluate(live, now=NOW, stale_after=30)
    assert outcome.status == "ok"
    assert outcome.data["reconnects"] == 2
    assert feed_health_evaluate({**live, "state": "down"}, now=NOW, stale_after=30).status == "down"
    no_ts = {"state": "live", "last_message_ts": None, "lag_ms": 40_000}
    assert feed_health_evaluate(no_ts, now=NOW, stale_after=30).status == "stale"
