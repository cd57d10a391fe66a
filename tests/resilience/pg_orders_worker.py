"""Order placement client for the Postgres-restart test (run as a subprocess against the
private cluster in DATABASE_URL). Places N market orders with idempotency keys, retrying
each on database errors exactly like an API client retrying a failed request.

    python tests/resilience/pg_orders_worker.py place N     -> progress lines, then a JSON summary
    python tests/resilience/pg_orders_worker.py verify N    -> JSON: orders, fills per order
"""

from __future__ import annotations

import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import DatabaseError, InterfaceError, OperationalError, connection  # noqa: E402

from apps.market.events import BookSnapshot  # noqa: E402
from apps.market.models import Instrument  # noqa: E402
from apps.ops.health import registry  # noqa: E402
from apps.portfolio import books  # noqa: E402
from apps.portfolio.models import Fill, Order, Portfolio  # noqa: E402
from apps.portfolio.services import order_place, portfolio_create  # noqa: E402

D = Decimal


def setup() -> tuple[object, Portfolio]:
    user, _ = get_user_model().objects.get_or_create(username="pg-restart")
    Instrument.objects.get_or_create(
        exchange="binance",
        symbol="BTCUSDT",
        defaults={
            "exchange_symbol": "BTCUSDT", "base_asset": "BTC", "quote_asset": "USDT", "tick_size": D("0.01"),
            "step_size": D("0.001"), "min_qty": D("0.001"), "max_qty": D("9000"), "min_notional": D("5"),
        },
    )  # fmt: skip
    portfolio = Portfolio.objects.filter(owner=user).first() or portfolio_create(
        owner=user, name="pg", starting_balances={"USDT": "1000000", "BTC": "100"}, latency_ms=0
    )
    return user, portfolio


def book() -> None:
    now = int(time.time() * 1000)
    books.book_record(
        BookSnapshot(
            exchange="binance", symbol="BTCUSDT", asks=((D("100.50"), D("50")), (D("101"), D("50"))),
            bids=((D("99.50"), D("50")), (D("99"), D("50"))), ts_ms=now, update_id=now,
        )
    )  # fmt: skip


def place(n: int) -> dict[str, object]:
    user, portfolio = setup()
    retries, outage_probe = 0, None
    for i in range(n):
        for _attempt in range(600):
            try:
                book()
                order_place(
                    portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy" if i % 2 == 0 else "sell",
                    order_type="market", quantity="0.1", client_order_id=f"pg-{i}", source="api",
                )  # fmt: skip
                break
            except (OperationalError, InterfaceError, DatabaseError):
                retries += 1
                if outage_probe is None:  # what /health/ready (and ComponentNotReady) sees now
                    outage_probe = registry.run(["database"]).results[0].status
                connection.close()
                time.sleep(0.05)
        else:
            raise SystemExit(f"order pg-{i} never placed")
        print(f"placed {i + 1}", flush=True)
    after = registry.run(["database"]).results[0].status
    return {"placed": n, "retries": retries, "probe_during_outage": outage_probe, "probe_after": after}


def verify(n: int) -> dict[str, object]:
    orders = Order.objects.filter(client_order_id__startswith="pg-")
    fills = {o.client_order_id: Fill.objects.filter(order=o).count() for o in orders}
    return {
        "orders": orders.count(),
        "distinct": len(set(orders.values_list("client_order_id", flat=True))),
        "missing": [f"pg-{i}" for i in range(n) if f"pg-{i}" not in fills],
        "not_one_fill": {k: v for k, v in fills.items() if v != 1},
        "statuses": sorted(set(orders.values_list("status", flat=True))),
    }


if __name__ == "__main__":
    action, count = sys.argv[1], int(sys.argv[2])
    print("JSON" + json.dumps(place(count) if action == "place" else verify(count)), flush=True)
