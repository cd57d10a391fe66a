"""Prometheus metrics for paper trading. Labels are bounded: order type, status, event;
equity per portfolio only for the top N portfolios (plus an aggregate)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TOP_N_EQUITY = 20

ORDERS = Counter("ptp_paper_orders_total", "Paper orders by type and resulting status", ["order_type", "status"])
REJECTIONS = Counter("ptp_paper_order_rejections_total", "Refused paper orders by error code", ["code"])
FILLS = Counter("ptp_paper_fills_total", "Paper fills", ["event"])
LATENCY = Histogram(
    "ptp_paper_order_latency_seconds",
    "order_place wall time (validation, fill engine, commit)",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
OPEN_ORDERS = Gauge("ptp_paper_open_orders", "Resting paper orders watched by the matcher")
EQUITY_TOTAL = Gauge("ptp_paper_equity_total", "Sum of all portfolio equity in their quote assets")
EQUITY_TOP = Gauge("ptp_paper_equity", "Equity of the largest portfolios", ["rank"])

_KNOWN_CODES: set[str] = set()


def order_observed(*, order_type: str, status: str, fills: int, event: str) -> None:
    if event == "order":
        ORDERS.labels(order_type=order_type, status=status).inc()
    if fills:
        FILLS.labels(event=event).inc(fills)


def order_rejected(*, order_type: str, code: str) -> None:
    # Codes come from a fixed table, but cap them anyway so a bug cannot explode cardinality.
    if code not in _KNOWN_CODES and len(_KNOWN_CODES) >= 50:
        code = "other"
    _KNOWN_CODES.add(code)
    REJECTIONS.labels(code=code).inc()


def order_latency_observe(seconds: float) -> None:
    LATENCY.observe(seconds)


def open_orders_set(count: int) -> None:
    OPEN_ORDERS.set(count)


def equity_set(*, total: float, top: list[float]) -> None:
    EQUITY_TOTAL.set(total)
    for rank in range(TOP_N_EQUITY):
        EQUITY_TOP.labels(rank=str(rank + 1)).set(top[rank] if rank < len(top) else 0)
