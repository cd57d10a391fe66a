"""Paper market orders placed, filled and committed per second through ``order_place`` on
Postgres, in one process, with p50/p99 latency.

Headline: ``--threads`` callers (default 16; each its own connection and portfolio, like the
worker threads of a web process or a bot runner) placing orders at once in one process,
durable commits (the default, PAPER_ORDER_ASYNC_COMMIT=false: an acknowledged order
survives a Postgres crash), group commit on (the default: orders placed at the same moment
share a transaction, apps.portfolio.group_commit). Also measured in the same run: one
caller alone (sequential latency), the same callers with group commit off
(PAPER_ORDER_GROUP_MAX=1, one transaction per order), and everything again with
asynchronous commit.

Baselines in the same run, same commit mode:

* bare insert: the rows each order wrote (order, fill, journals, ledger entries, audit
  events, equity snapshot, balance updates) inserted again with raw SQL, pipelined, one
  COMMIT per order, without any of the service's logic; and the same rows with one COMMIT
  per ``batch`` orders, ``batch`` being the mean group-commit batch the service formed;
* commit floor: ``INSERT`` of one tiny row + ``COMMIT``, i.e. what one durable transaction
  costs on this machine (the WAL flush) whatever it contains.

Consumed liquidity (``liquidity`` in the JSON): the same market orders with the shared Redis
store (``apps.portfolio.liquidity.redis_store``, production) against the in-process store
(embedded mode, the in-run baseline), alternated so both see the same machine: one caller's
p50 and the callers' throughput and p99 with each, and the latency the shared store adds per
order: one take per level walked (these orders walk one), against a bare Redis round trip. Redis: BENCH_REDIS_URL, or redis://127.0.0.1:6379/13
(keys under a prefix of its own, deleted at the end).

Database: DATABASE_URL, or postgres://postgres@127.0.0.1:5432/ptp_bench_orders (its own: created if
missing, migrated, and its order tables emptied on start so that runs compare).

Embedded mode (``--sqlite``): the same service figures (the callers with group commit, one
caller) on a fresh SQLite file configured as ``make run``'s (WAL, IMMEDIATE transactions),
with the in-process liquidity store; baseline: the commit floor on the same file.

Usage: python bench/orders.py [--quick] [--threads N] [--sqlite]   (last line: one JSON object)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
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


def _setup_sqlite() -> Path:
    import tempfile

    path = Path(tempfile.gettempdir()) / "ptp_bench_orders.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["PROCESS_ROLE"] = "test"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("LOG_LEVEL", "warning")  # one audit line per order would be the output
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _market()
    return path


def _setup() -> None:
    own_database = "DATABASE_URL" not in os.environ
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ["PROCESS_ROLE"] = "test"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if own_database:
        _empty_order_tables()
    _market()


def _empty_order_tables() -> None:
    """Every run starts from the same (empty) tables: rows left by earlier runs would make
    indexes deeper run after run and the figures drift."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE portfolio_portfolio, portfolio_order, portfolio_fill, portfolio_journal, "
            "portfolio_ledgerentry, portfolio_balance, portfolio_position, portfolio_equitysnapshot, "
            "safety_auditevent RESTART IDENTITY CASCADE"
        )


def _market() -> None:
    from apps.market.events import BookSnapshot
    from apps.market.models import Instrument
    from apps.portfolio import books

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


def _portfolio(tag: str):
    from django.contrib.auth import get_user_model

    from apps.portfolio.services import portfolio_create

    user, _ = get_user_model().objects.get_or_create(username="bench-orders")
    portfolio = portfolio_create(
        owner=user,
        name=f"bench-{tag}-{time.time_ns()}",
        starting_balances={"USDT": "100000000", "BTC": "10000"},
        latency_ms=0,
    )
    return user, portfolio


def _place_loop(count: int, account: tuple, latencies: list[float], order_ids: list[int]) -> None:
    from apps.portfolio.services import order_place

    user, portfolio = account
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


def _in_threads(threads: int, target) -> float:
    """Run ``target(thread_number)`` in ``threads`` threads, each with its database
    connection open before the clock starts; wall seconds from the common start."""
    from django.db import connection

    ready = threading.Barrier(threads + 1)

    def body(number: int) -> None:
        try:
            connection.ensure_connection()
            ready.wait()
            target(number)
        finally:
            connection.close()  # each thread has its own Django connection

    workers = [threading.Thread(target=body, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def run_service(*, count: int, threads: int, tag: str) -> dict:
    from apps.portfolio.services import placement

    latencies: list[float] = []
    order_ids: list[int] = []
    per_thread = count // threads
    # Set up before the clock starts: a portfolio per caller.
    accounts = [_portfolio(f"{tag}-{number}") for number in range(threads)]
    group = placement._group()
    batches, requests = (group.batches, group.requests) if group is not None else (0, 0)

    def work(number: int) -> None:
        _place_loop(per_thread, accounts[number], latencies, order_ids)

    cpu_started = time.process_time()
    wall = _in_threads(threads, work)
    cpu = time.process_time() - cpu_started
    done = per_thread * threads
    formed = (group.batches - batches) if group is not None else done
    return {
        "orders": done,
        "orders_per_s": round(done / wall, 1),
        "p50_ms": _ms(_pct(latencies, 0.50)),
        "p99_ms": _ms(_pct(latencies, 0.99)),
        "client_cpu_ms_per_order": _ms(cpu / done),
        "mean_batch": round(((group.requests - requests) if group is not None else done) / max(1, formed), 2),
        "_order_ids": order_ids,
    }


# -- baselines -------------------------------------------------------------------------------

_COPY_TABLES = (
    "portfolio_order",
    "portfolio_fill",
    "portfolio_journal",
    "portfolio_ledgerentry",
    "safety_auditevent",
    "portfolio_equitysnapshot",
)


def _order_rows(conn, order_id: int) -> list[tuple[str, list[str], list[tuple]]]:
    """The rows one order wrote, as (table, columns without id, values) to insert again."""
    queries = {
        "portfolio_order": "SELECT * FROM portfolio_order WHERE id = %s",
        "portfolio_fill": "SELECT * FROM portfolio_fill WHERE order_id = %s",
        "portfolio_journal": "SELECT * FROM portfolio_journal WHERE order_id = %s",
        "portfolio_ledgerentry": "SELECT e.* FROM portfolio_ledgerentry e JOIN portfolio_journal j "
        "ON j.id = e.journal_id WHERE j.order_id = %s",
        # Through the (portfolio, time) index: the audit rows share the order's timestamp.
        "safety_auditevent": "SELECT a.* FROM safety_auditevent a JOIN portfolio_order o ON o.id = %s "
        "AND a.portfolio_id = o.portfolio_id AND a.created_at >= o.created_at "
        "WHERE (a.data->>'order_id')::bigint = o.id",
        "portfolio_equitysnapshot": "SELECT s.* FROM portfolio_equitysnapshot s JOIN portfolio_order o "
        "ON o.portfolio_id = s.portfolio_id WHERE o.id = %s ORDER BY s.id DESC LIMIT 1",
    }
    from psycopg.types.json import Jsonb

    rows = []
    for table in _COPY_TABLES:
        cursor = conn.execute(queries[table], (order_id,))
        names = [column.name for column in cursor.description]
        keep = [i for i, name in enumerate(names) if name != "id"]
        values = []
        for row in cursor.fetchall():
            value = [Jsonb(row[i]) if isinstance(row[i], dict) else row[i] for i in keep]
            if table == "portfolio_order":  # the unique client order id must differ
                value[keep.index(names.index("client_order_id"))] = f"copy-{time.time_ns()}"
            values.append(tuple(value))
        rows.append((table, [names[i] for i in keep], values))
    return rows


def run_baseline(*, order_ids: list[int], async_commit: bool, per_transaction: int = 1) -> dict:
    """Insert the same rows again, ``per_transaction`` orders per transaction: pipelined
    INSERTs (and each order's balance update) + COMMIT."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.prepare_threshold = 0
        work = [_order_rows(conn, order_id) for order_id in order_ids]
        balance = conn.execute("SELECT id, free FROM portfolio_balance ORDER BY id DESC LIMIT 1").fetchone()
        conn.commit()
        latencies = []
        for start in range(0, len(work), per_transaction):
            started = time.perf_counter()
            with conn.pipeline():
                cursor = conn.cursor()
                if async_commit:
                    cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")
                for rows in work[start : start + per_transaction]:
                    for table, columns, values in rows:
                        placeholders = ", ".join(["%s"] * len(columns))
                        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
                        cursor.executemany(sql, values)
                    cursor.execute("UPDATE portfolio_balance SET free = %s WHERE id = %s", (balance[1], balance[0]))
                conn.commit()
            latencies.append((time.perf_counter() - started, len(work[start : start + per_transaction])))
    seconds = sum(took for took, _ in latencies)
    return {
        "orders_per_s": round(len(work) / seconds, 1),
        "p50_ms": _ms(_pct([took for took, _ in latencies], 0.50)),
    }


def run_commit_floor(*, count: int, async_commit: bool) -> dict:
    """``INSERT`` one tiny row + ``COMMIT``: the cost of a transaction on this machine."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_floor (id bigserial PRIMARY KEY, v int)")
        conn.commit()
        latencies = []
        for i in range(count):
            started = time.perf_counter()
            with conn.pipeline():
                if async_commit:
                    conn.execute("SELECT set_config('synchronous_commit', 'off', true)")
                conn.execute("INSERT INTO bench_commit_floor (v) VALUES (%s)", (i,))
                conn.commit()
            latencies.append(time.perf_counter() - started)
        conn.execute("TRUNCATE bench_commit_floor")
        conn.commit()
    return {"commits_per_s": round(len(latencies) / sum(latencies), 1), "p50_ms": _ms(_pct(latencies, 0.50))}


# -- report ----------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _mode(*, async_commit: bool, count: int, threads: int) -> dict:
    from django.conf import settings
    from django.core.management import call_command

    from apps.portfolio.models import Order

    settings.PAPER_ORDER_ASYNC_COMMIT = async_commit
    tag = "async" if async_commit else "durable"
    _place_loop(50, _portfolio(f"warmup-{tag}"), [], [])
    grouped = run_service(count=count, threads=threads, tag=f"{tag}-group")
    single = run_service(count=max(200, count // 4), threads=1, tag=tag)
    group_max = settings.PAPER_ORDER_GROUP_MAX
    settings.PAPER_ORDER_GROUP_MAX = 1
    try:
        ungrouped = run_service(count=count, threads=threads, tag=f"{tag}-nogroup")
    finally:
        settings.PAPER_ORDER_GROUP_MAX = group_max
    order_ids = grouped.pop("_order_ids")
    single.pop("_order_ids")
    ungrouped.pop("_order_ids")
    # The service's books must balance.
    call_command("ledger_check", portfolio=Order.objects.get(pk=order_ids[0]).portfolio_id, verbosity=0)
    sample = order_ids[: max(64, count // 4)]
    baseline = run_baseline(order_ids=sample, async_commit=async_commit)
    batch = max(1, round(grouped["mean_batch"]))
    baseline_batched = run_baseline(order_ids=sample, async_commit=async_commit, per_transaction=batch)
    floor = run_commit_floor(count=max(200, count // 2), async_commit=async_commit)
    return {
        **grouped,
        "threads": threads,
        "one_caller": single,
        "no_group_commit": ungrouped,
        "baseline_bare_insert_per_s": baseline["orders_per_s"],
        "baseline_p50_ms": baseline["p50_ms"],
        f"baseline_bare_insert_batch_{batch}_per_s": baseline_batched["orders_per_s"],
        "ratio_vs_baseline": round(grouped["orders_per_s"] / baseline["orders_per_s"], 3),
        "commit_floor_per_s": floor["commits_per_s"],
        "commit_floor_p50_ms": floor["p50_ms"],
    }


# -- consumed liquidity: shared store against in-process ------------------------------------

DEFAULT_REDIS = "redis://127.0.0.1:6379/13"


def _take_us(store, *, calls: int) -> float:
    """Microseconds per take of one level: the store's own cost, no order around it (a
    market order filled at one level makes one take)."""
    from apps.portfolio import books

    book = books.book_for(exchange="binance", symbol="BTCUSDT")
    price, displayed = book.asks[0]
    started = time.perf_counter()
    for _ in range(calls):
        store.take(
            book=book, book_side="ask", price=price, displayed=displayed, quantity=Decimal("0.01"), step=Decimal("0")
        )
    return round((time.perf_counter() - started) / calls * 1e6, 1)


def _ping_us(client, *, calls: int) -> float:
    """A bare Redis round trip on this machine: the floor under a take."""
    started = time.perf_counter()
    for _ in range(calls):
        client.ping()
    return round((time.perf_counter() - started) / calls * 1e6, 1)


def run_liquidity(*, count: int, threads: int) -> dict:
    import uuid

    from apps.portfolio.liquidity import liquidity_store_set
    from apps.portfolio.liquidity.memory import MemoryLiquidity
    from apps.portfolio.liquidity.redis_store import RedisLiquidity

    shared = RedisLiquidity(
        url=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS), prefix=f"bench:liq:{uuid.uuid4().hex}"
    )
    stores = {"memory": MemoryLiquidity(), "redis": shared}
    one: dict[str, list[dict]] = {"memory": [], "redis": []}
    many: dict[str, dict] = {}
    previous = liquidity_store_set(None)
    try:
        for name in ("memory", "redis", "memory", "redis", "memory", "redis"):
            liquidity_store_set(stores[name])
            one[name].append(run_service(count=max(100, count // 8), threads=1, tag=f"liq-{name}"))
        for name in ("memory", "redis"):
            liquidity_store_set(stores[name])
            many[name] = run_service(count=count, threads=threads, tag=f"liq-{name}-{threads}")
        take_us = {name: _take_us(store, calls=2000) for name, store in stores.items()}
        ping_us = _ping_us(shared._client, calls=2000)
    finally:
        liquidity_store_set(previous)
        shared.clear()
    p50 = {name: sorted(run["p50_ms"] for run in runs)[len(runs) // 2] for name, runs in one.items()}
    return {
        # The store's own cost in one market order filled at one level: one take.
        "take_us": take_us,
        "redis_ping_us": ping_us,
        "added_ms_per_order": round((take_us["redis"] - take_us["memory"]) / 1000, 3),
        "one_caller_p50_ms": p50,
        "one_caller_p50_added_ms": round(p50["redis"] - p50["memory"], 3),
        "one_caller_p50_ratio": round(p50["redis"] / p50["memory"], 3),
        "threads": threads,
        "orders_per_s": {name: run["orders_per_s"] for name, run in many.items()},
        "p99_ms": {name: run["p99_ms"] for name, run in many.items()},
        "orders_per_s_ratio": round(many["redis"]["orders_per_s"] / many["memory"]["orders_per_s"], 3),
    }


def run_sqlite_commit_floor(path: Path, *, count: int) -> dict:
    """``BEGIN IMMEDIATE`` + ``INSERT`` one tiny row + ``COMMIT`` on the benchmark's file, with
    the embedded mode's pragmas."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_floor (id INTEGER PRIMARY KEY, v int)")
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bench_commit_floor (v) VALUES (?)", (i,))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - started)
    conn.execute("DROP TABLE bench_commit_floor")
    conn.close()
    return {"commits_per_s": round(len(latencies) / sum(latencies), 1), "p50_ms": _ms(_pct(latencies, 0.50))}


def main_sqlite(*, count: int, threads: int, quick: bool) -> None:
    from django.core.management import call_command

    path = _setup_sqlite()
    _place_loop(50, _portfolio("warmup-sqlite"), [], [])
    grouped = run_service(count=count, threads=threads, tag="sqlite-group")
    single = run_service(count=max(200, count // 4), threads=1, tag="sqlite")
    order_ids = grouped.pop("_order_ids")
    single.pop("_order_ids")
    from apps.portfolio.models import Order

    call_command("ledger_check", portfolio=Order.objects.get(pk=order_ids[0]).portfolio_id, verbosity=0)
    floor = run_sqlite_commit_floor(path, count=max(200, count // 2))
    result = {
        "bench": "orders",
        "db": "sqlite",
        "quick": quick,
        "orders_per_s": grouped["orders_per_s"],
        "p50_ms": grouped["p50_ms"],
        "p99_ms": grouped["p99_ms"],
        "threads": threads,
        "mean_batch": grouped["mean_batch"],
        "one_caller": single,
        "commit_floor_per_s": floor["commits_per_s"],
        "ratio_vs_commit_floor": round(grouped["orders_per_s"] / floor["commits_per_s"], 3),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(
        f"sqlite (embedded): {grouped['orders_per_s']:.0f}/s with {threads} callers, group commit "
        f"(mean batch {grouped['mean_batch']}, p50 {grouped['p50_ms']} ms, p99 {grouped['p99_ms']} ms); one caller "
        f"{single['orders_per_s']:.0f}/s (p50 {single['p50_ms']} ms); commit floor {floor['commits_per_s']:.0f}/s"
    )
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--sqlite", action="store_true", help="embedded mode: a SQLite file, as make run")
    args = parser.parse_args()
    count = 800 if args.quick else 6400
    if args.sqlite:
        main_sqlite(count=count, threads=args.threads, quick=args.quick)
        return
    _setup()
    durable = _mode(async_commit=False, count=count, threads=args.threads)
    asynchronous = _mode(async_commit=True, count=count, threads=args.threads)
    from django.conf import settings

    settings.PAPER_ORDER_ASYNC_COMMIT = False
    liquidity = run_liquidity(count=count, threads=args.threads)
    result = {
        "bench": "orders",
        "quick": args.quick,
        # Headline: durable commits, --threads callers in one process, group commit on.
        "orders_per_s": durable["orders_per_s"],
        "p50_ms": durable["p50_ms"],
        "p99_ms": durable["p99_ms"],
        "threads": args.threads,
        "baseline_bare_insert_per_s": durable["baseline_bare_insert_per_s"],
        "ratio_vs_baseline": durable["ratio_vs_baseline"],
        "durable": durable,
        "async_commit": asynchronous,
        "liquidity": liquidity,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "target_orders_per_s": TARGET,
        "meets_target": durable["orders_per_s"] >= TARGET,
    }
    for name, mode in (("durable", durable), ("async commit", asynchronous)):
        alone, ungrouped = mode["one_caller"], mode["no_group_commit"]
        batched = next(v for k, v in mode.items() if k.startswith("baseline_bare_insert_batch_"))
        print(
            f"{name}: {mode['orders_per_s']:.0f}/s with {args.threads} callers, group commit "
            f"(mean batch {mode['mean_batch']}, p50 {mode['p50_ms']} ms, p99 {mode['p99_ms']} ms); "
            f"{ungrouped['orders_per_s']:.0f}/s without; one caller {alone['orders_per_s']:.0f}/s "
            f"(p50 {alone['p50_ms']} ms); bare insert {mode['baseline_bare_insert_per_s']:.0f}/s per order, "
            f"{batched:.0f}/s batched; commit floor {mode['commit_floor_per_s']:.0f}/s"
        )
    print(
        f"consumed liquidity: the shared (Redis) store adds {liquidity['added_ms_per_order']} ms per order "
        f"(one take {liquidity['take_us']['redis']} us, in-process {liquidity['take_us']['memory']} us; a bare "
        f"Redis round trip {liquidity['redis_ping_us']} us); one caller p50 {liquidity['one_caller_p50_ms']['redis']} "
        f"vs {liquidity['one_caller_p50_ms']['memory']} ms; {args.threads} callers "
        f"{liquidity['orders_per_s']['redis']:.0f}/s vs {liquidity['orders_per_s']['memory']:.0f}/s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
