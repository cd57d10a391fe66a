"""Prometheus metrics of the safety layer."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SAFETY_VIOLATIONS = Counter(
    "ptp_safety_violations_total",
    "Real-trading attempts refused, by the layer that refused them.",
    ["layer"],
)
SAFETY_SCORE = Gauge("ptp_safety_score", "Environment safety score in percent (passed weight / total weight).")
SAFETY_CHECK_PASSED = Gauge("ptp_safety_check_passed", "1 when the safety check passes, else 0.", ["check"])
