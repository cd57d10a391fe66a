"""Paper market orders placed, filled and committed per second through ``order_place`` on
Postgres (one process, one thread), with p50/p99 latency.

Baseline in the same run: a bare insert of the same rows each order wrote (order, fills,
journals, ledger entries, audit events, equity snapshot, balance update) in one transaction
per order, without any of the service's logic.

Database: DATABASE_URL, or postgres://postgres@127.0.0.1:5432/ptp_bench_orders (created if
missing, migrated on start).

Usage: python bench/orders.py [--quick]   (last line: one JSON object)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ptp_bench_orders"
TARGET = 1000.0


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ["PROCESS_ROLE"] = "test"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _fixtures(tag: str):
    from django.contrib.auth import get_user_model

    from apps.market.events import BookSnapshot
    from apps.market.models import Instrument
    from apps.portfolio import books
    from apps.portfolio.services import portfolio_create

    user, _ = get_user_model().objects.get_or_create(username="bench-orders")
    Instrument.objects.update_or_create(
        exchange="binance",
        symbol="BTCUSDT",
        defaults={
            "exchange_symbol": "BTCUSDT",
            "base_asset": "BTC",
            "quote_asset": "USDT",
            "tick_size": Decimal("0.01"),
            "step_size": Decimal("0.00001"),
            "min_qty": Decimal("0.00001"),
            "max_qty": Decimal("9000"),
            "min_notional": Decimal("5"),
            "status": "TRADING",
        },
    )
    deep = Decimal("1000000000")
    books.book_record(
        BookSnapshot(
            exchange="binance",
            symbol="BTCUSDT",
            asks=((Decimal("60000.01"), deep), (Decimal("60000.50"), deep)),
            bids=((Decimal("59999.99"), deep), (Decimal("59999.50"), deep)),
            ts_ms=int(time.time() * 1000),
        )
    )
    portfolio = portfolio_create(
        owner=user,
        name=f"bench-{tag}-{time.time_ns()}",
        starting_balances={"USDT": "100000000", "BTC": "10000"},
        latency_ms=0,
    )
    return user, portfolio


def run_service(count: int, tag: str) -> tuple[list[float], list[int]]:
    from apps.portfolio.services import order_place

    user, portfolio = _fixtures(tag)
    latencies, order_ids = [], []
    for i in range(count):
        started = time.perf_counter()
        order = order_place(
            portfolio=portfolio,
            actor=user,
            symbol="BTCUSDT",
            side="buy" if i % 2 == 0 else "sell",
            order_type="market",
            quantity=Decimal("0.01"),
            source="bench",
        )
        latencies.append(time.perf_counter() - started)
        assert order.status == "filled", order.status
        order_ids.append(order.pk)
    return latencies, order_ids


def run_baseline(order_ids: list[int]) -> list[float]:
    """Re-insert exactly the rows each order produced, one transaction per order."""
    from django.conf import settings
    from django.db import connection, transaction

    from apps.portfolio.models import Balance, EquitySnapshot, Fill, Journal, LedgerEntry, Order
    from apps.safety.models import AuditEvent

    def clone(obj, **changes):
        obj.pk = None
        obj.id = None
        obj._state.adding = True
        for key, value in changes.items():
            setattr(obj, key, value)
        return obj

    async_commit = settings.PAPER_ORDER_ASYNC_COMMIT
    latencies = []
    for order_id in order_ids:
        order = Order.objects.get(pk=order_id)
        fills = list(Fill.objects.filter(order_id=order_id))
        journals = list(Journal.objects.filter(order_id=order_id))
        entries = list(LedgerEntry.objects.filter(journal__in=journals))
        audits = list(AuditEvent.objects.filter(data__order_id=order_id)[:10])
        snapshot = EquitySnapshot.objects.filter(portfolio_id=order.portfolio_id).last()
        balance = Balance.objects.filter(portfolio_id=order.portfolio_id).first()
        started = time.perf_counter()
        with transaction.atomic():
            if async_commit:  # same commit mode as the service, or the comparison is unfair
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")
            new_order = clone(order, client_order_id=f"b-{order_id}-{time.time_ns()}")
            new_order.save()
            Fill.objects.bulk_create([clone(f, order=new_order) for f in fills])
            old_ids = [j.pk for j in journals]
            new_journals = Journal.objects.bulk_create([clone(j, order=new_order) for j in journals])
            mapping = dict(zip(old_ids, new_journals, strict=True))
            LedgerEntry.objects.bulk_create([clone(e, journal=mapping[e.journal_id]) for e in entries])
            AuditEvent.objects.bulk_create([clone(a) for a in audits])
            clone(snapshot).save()
            Balance.objects.filter(pk=balance.pk).update(free=balance.free)
        latencies.append(time.perf_counter() - started)
    return latencies


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 400 if args.quick else 3000
    _setup()
    run_service(50, "warmup")
    started, cpu_started = time.perf_counter(), time.process_time()
    latencies, order_ids = run_service(count, "run")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    from django.core.management import call_command

    from apps.portfolio.models import Order

    # The service's books must balance; the baseline's copies deliberately do not.
    call_command("ledger_check", portfolio=Order.objects.get(pk=order_ids[0]).portfolio_id, verbosity=0)
    baseline = run_baseline(order_ids[: max(50, count // 4)])
    from django.conf import settings

    service_rate = count / wall
    baseline_rate = len(baseline) / sum(baseline)
    result = {
        "bench": "orders",
        "quick": args.quick,
        "orders": count,
        "orders_per_s": round(service_rate, 1),
        "p50_ms": round(_pct(latencies, 0.50) * 1000, 3),
        "p99_ms": round(_pct(latencies, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 3),
        "baseline_bare_insert_per_s": round(baseline_rate, 1),
        "baseline_p50_ms": round(_pct(baseline, 0.50) * 1000, 3),
        "ratio_vs_baseline": round(service_rate / baseline_rate, 3),
        "client_cpu_ms_per_order": round(cpu / count * 1000, 3),
        "async_commit": settings.PAPER_ORDER_ASYNC_COMMIT,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "target_orders_per_s": TARGET,
        "meets_target": service_rate >= TARGET,
    }
    print(f"order_place: {service_rate:.0f} orders/s (p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms)")
    print(f"bare insert of the same rows: {baseline_rate:.0f} orders/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
