"""The order hot path on Postgres: two round trips per batch of order events instead of ~11
per order.

Through the ORM every statement costs a network round trip plus ~0.4 ms of Python. Here:

* ``orders_open`` (one pipeline, one round trip): lock the batch's portfolio rows (taking
  sequence numbers), lock their balance rows, read their positions and (for orders that
  carry one) look up client order ids; and switch the transaction to asynchronous commit
  when configured. The
  statements run in that order on the server, so everything after a portfolio lock sees the
  latest committed state, exactly as the ORM path did.
* ``work_write`` (one statement for the whole batch): each event's order, its audit row,
  fills (+ their audit rows), journals with their ledger entries and equity snapshot, and
  the changed balances and positions once, from one JSON document; the COMMIT is Django's,
  when the caller's ``atomic`` block ends.

Transactions stay with Django's ``transaction.atomic`` (``on_commit`` hooks and savepoints
behave as everywhere else). Other databases (SQLite in embedded mode) keep the ORM path;
``enabled()`` decides. Errors are raised as Django's database exceptions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

import orjson
import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from apps.portfolio.models import Balance, EquitySnapshot, Fill, Journal, LedgerEntry, Order, Portfolio, Position
from apps.portfolio.services.auditing import AuditRow
from apps.portfolio.services.ledger import PendingJournal
from apps.safety.models import AuditEvent

SQL = str
_NEVER = 2**31 - 1
_M = TypeVar("_M", bound=Model)


def enabled() -> bool:
    return connection.vendor == "postgresql"


# -- model <-> row helpers ------------------------------------------------------------------


def _columns(model: type[Model]) -> list[Any]:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _select_list(model: type[Model], prefix: str = "") -> str:
    # A concrete field always has a column; the stubs type Field.column as Optional.
    return ", ".join(prefix + cast(str, field.column) for field in model._meta.concrete_fields)


@cache
def _loaders(model: type[Model]) -> tuple[tuple[str, Any], ...]:
    """(attname, the field's from_db_value or None) per concrete field, in column order."""
    return tuple((field.attname, getattr(field, "from_db_value", None)) for field in model._meta.concrete_fields)


def _instance(model: type[_M], row: tuple) -> _M:
    """A model instance from a raw row in ``_select_list`` order: what ``Model.from_db``
    builds, plus the field converters the ORM would apply (e.g. JSON text -> dict), without
    ``Model.__init__`` (a fifth of the lock phase's Python time) unless something listens
    to its init signals. No deferred fields here: every column is in the row."""
    loaders = _loaders(model)
    values = {
        attname: value if value is None or from_db_value is None else from_db_value(value, None, connection)
        for (attname, from_db_value), value in zip(loaders, row, strict=True)
    }
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(connection.alias, None, list(values.values()))  # type: ignore[arg-type]
    obj = model.__new__(model)
    obj.__dict__.update(values)
    state = obj._state = ModelState()
    state.adding, state.db = False, connection.alias
    return obj


_ORDER_FIELDS = _columns(Order)
_POSITION_FIELDS = _columns(Position)
_SNAPSHOT_FIELDS = _columns(EquitySnapshot)

# -- phase 1: lock and read -----------------------------------------------------------------

# Batch-wide statements (arrays in, one statement whatever the batch size). Row locks are
# taken in id order (a locking SELECT locks rows as its ORDER BY returns them), so batches
# sharing portfolios never wait on each other in a cycle; the UPDATE then only touches rows
# this transaction holds already.
_PT, _OT, _BT, _PST = (
    Portfolio._meta.db_table,
    Order._meta.db_table,
    Balance._meta.db_table,
    Position._meta.db_table,
)
# The sub-select locks the rows in id order before the UPDATE touches them (however the join
# is executed, each row is locked by the sub-select first, in its ORDER BY order).
_LOCK_PORTFOLIOS = (
    f"UPDATE {_PT} AS p SET order_seq = p.order_seq + v.n "  # noqa: S608  # nosec B608 - model constants
    f"FROM (SELECT id FROM {_PT} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE) AS l, "
    "unnest(%s::bigint[], %s::bigint[]) AS v(id, n) WHERE p.id = l.id AND p.id = v.id "
    f"RETURNING {_select_list(Portfolio, 'p.')}"
)
_ASYNC_COMMIT = "SELECT set_config('synchronous_commit', 'off', true)"
_EXISTING_ORDERS = (
    f"SELECT o.portfolio_id, o.client_order_id, o.id FROM {_OT} AS o "  # noqa: S608  # nosec B608 - model constants
    "JOIN unnest(%s::bigint[], %s::text[]) AS v(portfolio_id, client_order_id) "
    "ON o.portfolio_id = v.portfolio_id AND o.client_order_id = v.client_order_id"
)
_LOCK_BALANCES = (
    f"SELECT {_select_list(Balance)} FROM {_BT} "  # noqa: S608  # nosec B608 - model constants
    "WHERE portfolio_id = ANY(%s::bigint[]) ORDER BY portfolio_id, asset FOR UPDATE"
)
_POSITIONS = (
    f"SELECT {_select_list(Position, 'p.')} FROM {_PST} AS p "  # noqa: S608  # nosec B608 - model constants
    "JOIN unnest(%s::bigint[], %s::text[]) AS v(portfolio_id, symbol) "
    "ON p.portfolio_id = v.portfolio_id AND p.symbol = v.symbol"
)


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """What one batch needs of one portfolio."""

    orders: int  # sequence numbers to take
    symbols: frozenset[str]
    client_order_ids: frozenset[str]


@dataclass(slots=True)
class OpenState:
    portfolio: Portfolio  # order_seq: the last sequence number taken
    balances: dict[str, Balance]
    positions: dict[str, Position]  # by symbol; a symbol asked for and missing has no row yet
    existing_order_ids: dict[str, int]  # client order id -> order id


def _run(statements: list[tuple[SQL, Any]]) -> list[list[tuple]]:
    """Execute ``statements`` in one pipeline (one round trip); the rows of each, in order.
    Statements with parameters are prepared: their plans are cached on the connection."""
    connection.ensure_connection()
    pg = connection.connection
    if pg.prepare_threshold is None:
        # Django turns psycopg's statement preparation off, and psycopg then ignores
        # prepare=True. A threshold never reached keeps automatic preparation off (Django's
        # own client-side-bound cursors never prepare) and lets ours be prepared: planning
        # the write statement costs more than executing it. Needs a session-level
        # connection to Postgres (no transaction-pooling PgBouncer).
        pg.prepare_threshold = _NEVER
    with connection.wrap_database_errors, pg.pipeline():
        cursors = []
        for sql, params in statements:
            cursor = psycopg.Cursor(pg)
            cursor.execute(sql, params, prepare=params is not None)
            cursors.append(cursor)
    # pgresult, not description: description builds a Column object per column each time.
    return [cursor.fetchall() if _has_rows(cursor) else [] for cursor in cursors]


def _has_rows(cursor: psycopg.Cursor) -> bool:
    result = cursor.pgresult
    return result is not None and result.status == psycopg.pq.ExecStatus.TUPLES_OK


def orders_open(*, wanted: dict[int, OpenRequest], async_commit: bool) -> dict[int, OpenState]:
    """Lock the batch's portfolios (taking their next sequence numbers) and their balances,
    read their positions and earlier client order ids: three or four statements, one round
    trip, whatever the batch size. The statements run in that order on the server, so the reads
    see the latest committed state. A portfolio that no longer exists is missing from the
    result."""
    ids = sorted(wanted)
    keys = [(pid, cid) for pid in ids for cid in sorted(wanted[pid].client_order_ids)]
    symbols = [(pid, symbol) for pid in ids for symbol in sorted(wanted[pid].symbols)]
    statements: list[tuple[SQL, Any]] = [(_ASYNC_COMMIT, None)] if async_commit else []
    statements += [
        (_LOCK_PORTFOLIOS, (ids, ids, [wanted[pid].orders for pid in ids])),
        (_LOCK_BALANCES, (ids,)),
        (_POSITIONS, ([pid for pid, _ in symbols], [symbol for _, symbol in symbols])),
    ]
    if keys:  # only orders with a client order id can be repeats
        statements.append((_EXISTING_ORDERS, ([pid for pid, _ in keys], [cid for _, cid in keys])))
    results = _run(statements)[1 if async_commit else 0 :]
    portfolios, balances, positions = results[:3]
    existing = results[3] if keys else []
    states = {
        portfolio.pk: OpenState(portfolio=portfolio, balances={}, positions={}, existing_order_ids={})
        for portfolio in (_instance(Portfolio, row) for row in portfolios)
    }
    for portfolio_id, client_order_id, order_id in existing:
        states[portfolio_id].existing_order_ids[client_order_id] = order_id
    for balance in (_instance(Balance, row) for row in balances):
        states[balance.portfolio_id].balances[balance.asset] = balance
    for position in (_instance(Position, row) for row in positions):
        states[position.portfolio_id].positions[position.symbol] = position
    return states


# -- phase 2: write -------------------------------------------------------------------------
#
# One statement writes every order event of the batch from one JSON document (Decimals
# travel as strings, so amounts stay exact). One parameter is far cheaper to send than ~8
# statements with typed arrays, and one statement for the batch pays the executor's fixed
# cost (a dozen CTEs) once, not once per order. The prepared plan is reused.
# jsonb_populate_record(NULL::<table>, ...) turns each JSON object into a typed row of that
# table. Ids that other rows point at (orders, fills, journals) are drawn first in
# materialized CTEs; rows refer to each other by their position in the document ("order_n",
# "fill_n", "journal_n"). Every data-modifying CTE runs exactly once whether or not it is read.


def _cols(fields: list[Any], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{field.column}" for field in fields)


def _ids(table: str, key: str) -> str:
    return (
        f"SELECT n, nextval(pg_get_serial_sequence('{table}', 'id')) AS id "  # noqa: S608 - model constants  # nosec B608
        f"FROM doc CROSS JOIN LATERAL generate_series(1, jsonb_array_length(d->'{key}')) AS n"
    )


def _elements(table: str, key: str, alias: str) -> str:
    """The document's list ``key`` as rows of ``table`` (``{alias}``), with their JSON (x.j)
    and position (x.n)."""
    return (
        f"CROSS JOIN LATERAL jsonb_array_elements(d->'{key}') WITH ORDINALITY AS x(j, n) "
        f"CROSS JOIN LATERAL jsonb_populate_record(NULL::{table}, x.j) AS {alias}"
    )


def _order_of(alias: str = "oi") -> str:
    """Join the row's order (its ``order_n``) to get the order's id."""
    return f"JOIN order_ids AS {alias} ON {alias}.n = (x.j->>'order_n')::bigint"


_O, _F, _J, _E = Order._meta.db_table, Fill._meta.db_table, Journal._meta.db_table, LedgerEntry._meta.db_table
_B, _P, _S, _A = (
    Balance._meta.db_table,
    Position._meta.db_table,
    EquitySnapshot._meta.db_table,
    AuditEvent._meta.db_table,
)
_FILL_FIELDS = [f for f in _columns(Fill) if f.attname != "order_id"]
_JOURNAL_FIELDS = [f for f in _columns(Journal) if f.attname != "order_id"]
_ENTRY_FIELDS = [f for f in _columns(LedgerEntry) if f.attname != "journal_id"]
_AUDIT_FIELDS = [f for f in _columns(AuditEvent) if f.attname != "data"]
# Journals and ledger entries travel as plain data (ledger.PendingJournal), named here.
if {f.column for f in _JOURNAL_FIELDS} != {"portfolio_id", "kind", "memo", "created_at"} or {
    f.column for f in _ENTRY_FIELDS
} != {"portfolio_id", "asset", "account", "amount"}:
    raise ImproperlyConfigured("Journal or LedgerEntry columns changed: update fastpath._Document.add")

_WRITE = f"""
WITH doc AS (SELECT %s::jsonb AS d),
order_ids AS MATERIALIZED (
    SELECT x.n, x.j->'id' = 'null' AS is_new,
           CASE WHEN x.j->'id' = 'null' THEN nextval(pg_get_serial_sequence('{_O}', 'id'))
                ELSE (x.j->>'id')::bigint END AS id
    FROM doc CROSS JOIN LATERAL jsonb_array_elements(d->'orders') WITH ORDINALITY AS x(j, n)
), new_orders AS (
    INSERT INTO {_O} (id, {_cols(_ORDER_FIELDS)})
    SELECT i.id, {_cols(_ORDER_FIELDS, "r.")}
    FROM doc {_elements(_O, "orders", "r")} JOIN order_ids AS i ON i.n = x.n
    WHERE i.is_new
), changed_orders AS (
    UPDATE {_O} AS o SET ({_cols(_ORDER_FIELDS)}) = ({_cols(_ORDER_FIELDS, "r.")})
    FROM doc {_elements(_O, "orders", "r")} JOIN order_ids AS i ON i.n = x.n
    WHERE NOT i.is_new AND o.id = i.id
), fill_ids AS MATERIALIZED ({_ids(_F, "fills")}
), new_fills AS (
    INSERT INTO {_F} (id, order_id, {_cols(_FILL_FIELDS)})
    SELECT i.id, oi.id, {_cols(_FILL_FIELDS, "f.")}
    FROM doc {_elements(_F, "fills", "f")} JOIN fill_ids AS i ON i.n = x.n {_order_of()}
), new_audits AS (
    INSERT INTO {_A} ({_cols(_AUDIT_FIELDS)}, data)
    SELECT {_cols(_AUDIT_FIELDS, "a.")},
           a.data || CASE WHEN i.id IS NULL THEN jsonb_build_object('order_id', oi.id)
                          ELSE jsonb_build_object('order_id', oi.id, 'fill_id', i.id) END
    FROM doc {_elements(_A, "audits", "a")} {_order_of()}
    LEFT JOIN fill_ids AS i ON i.n = (x.j->>'fill_n')::bigint
    ORDER BY x.n
), journal_ids AS MATERIALIZED ({_ids(_J, "journals")}
), new_journals AS (
    INSERT INTO {_J} (id, order_id, {_cols(_JOURNAL_FIELDS)})
    SELECT i.id, oi.id, {_cols(_JOURNAL_FIELDS, "r.")}
    FROM doc {_elements(_J, "journals", "r")} JOIN journal_ids AS i ON i.n = x.n {_order_of()}
), new_entries AS (
    INSERT INTO {_E} (journal_id, {_cols(_ENTRY_FIELDS)})
    SELECT i.id, {_cols(_ENTRY_FIELDS, "e.")}
    FROM doc {_elements(_E, "entries", "e")} JOIN journal_ids AS i ON i.n = (x.j->>'journal_n')::bigint
    ORDER BY x.n
), changed_balances AS (
    UPDATE {_B} AS b SET free = v.free, locked = v.locked
    FROM doc {_elements(_B, "balances", "v")}
    WHERE b.id = v.id
), new_balances AS (
    INSERT INTO {_B} (portfolio_id, asset, free, locked)
    SELECT v.portfolio_id, v.asset, v.free, v.locked
    FROM doc {_elements(_B, "balances", "v")}
    WHERE v.id IS NULL
    RETURNING portfolio_id, asset, id
), changed_position AS (
    UPDATE {_P} AS p SET ({_cols(_POSITION_FIELDS)}) = ({_cols(_POSITION_FIELDS, "v.")})
    FROM doc {_elements(_P, "positions", "v")}
    WHERE p.id = v.id
), new_position AS (
    INSERT INTO {_P} ({_cols(_POSITION_FIELDS)})
    SELECT {_cols(_POSITION_FIELDS, "v.")}
    FROM doc {_elements(_P, "positions", "v")}
    WHERE v.id IS NULL
    RETURNING portfolio_id, symbol, id
), new_snapshots AS (
    INSERT INTO {_S} ({_cols(_SNAPSHOT_FIELDS)})
    SELECT {_cols(_SNAPSHOT_FIELDS, "v.")}
    FROM doc {_elements(_S, "snapshots", "v")}
    ORDER BY x.n
)
SELECT 'order', n, id FROM order_ids
UNION ALL SELECT 'fill', n, id FROM fill_ids
UNION ALL SELECT 'balance:' || portfolio_id || ':' || asset, 0, id FROM new_balances
UNION ALL SELECT 'position:' || portfolio_id || ':' || symbol, 0, id FROM new_position
"""  # noqa: S608 - table and column names come from the models  # nosec B608


def _json_row(obj: Model, fields: list[Any]) -> dict[str, Any]:
    return {field.column: getattr(obj, field.attname) for field in fields}


@dataclass(slots=True)
class WriteSet:
    """One order event's own rows, already computed in memory by the execution module."""

    order: Order
    order_audits: list[AuditRow]  # about the order as a whole
    fills: list[Fill]
    fill_audits: list[AuditRow]  # one per fill, in the same order
    journals: list[PendingJournal]
    snapshot: EquitySnapshot | None


@dataclass(slots=True)
class _Document:
    """The write statement's one parameter, filled event by event."""

    now: datetime
    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    audits: list[dict[str, Any]]
    journals: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    snapshots: list[dict[str, Any]]

    def add(self, rows: WriteSet) -> None:
        order, now = rows.order, self.now
        order.updated_at = now
        if order.pk is None:
            order.created_at = now
        self.orders.append({**_json_row(order, _ORDER_FIELDS), "id": order.pk})
        order_n = len(self.orders)
        for event in rows.order_audits:
            self._audit(event, order_n)
        for fill, event in zip(rows.fills, rows.fill_audits, strict=True):
            fill.created_at = now
            self.fills.append({**_json_row(fill, _FILL_FIELDS), "order_n": order_n})
            self._audit(event, order_n, fill_n=len(self.fills))
        portfolio_id = order.portfolio_id
        for journal in rows.journals:
            self.journals.append(
                {
                    "portfolio_id": portfolio_id,
                    "kind": journal.kind,
                    "memo": journal.memo,
                    "created_at": now,
                    "order_n": order_n,
                }
            )
            journal_n = len(self.journals)
            self.entries += [
                {
                    "portfolio_id": portfolio_id,
                    "asset": asset,
                    "account": account,
                    "amount": amount,
                    "journal_n": journal_n,
                }
                for asset, account, amount in journal.entries
            ]
        if rows.snapshot is not None:
            self.snapshots.append(_json_row(rows.snapshot, _SNAPSHOT_FIELDS))

    def _audit(self, event: AuditRow, order_n: int, fill_n: int | None = None) -> None:
        # order_id / fill_id are added by the statement (they are not known yet here).
        data = {k: v for k, v in event["data"].items() if k not in ("order_id", "fill_id")}
        row = {**event, "data": data, "created_at": self.now, "order_n": order_n}
        if fill_n is not None:
            row["fill_n"] = fill_n
        self.audits.append(row)

    def state(self, balances: list[Balance], positions: list[Position]) -> dict[str, Any]:
        for position in positions:
            position.updated_at = self.now
        return {
            "orders": self.orders,
            "fills": self.fills,
            "audits": self.audits,
            "journals": self.journals,
            "entries": self.entries,
            "snapshots": self.snapshots,
            "balances": [
                {"id": b.pk, "portfolio_id": b.portfolio_id, "asset": b.asset, "free": b.free, "locked": b.locked}
                for b in balances
            ],
            "positions": [{**_json_row(p, _POSITION_FIELDS), "id": p.pk} for p in positions],
        }


def work_write(*, rows: list[WriteSet], balances: list[Balance], positions: list[Position]) -> None:
    """Write order events and the final state of the balances and positions they changed,
    in one statement (one round trip). Sets the new primary keys on the objects in memory.
    An order appears at most once (one statement must not update a row twice; an order's
    successive events are one event's final state). The COMMIT stays with the caller's
    ``atomic`` block: sending it with the writes would save a loopback round trip but
    commit before the rest of the block had run."""
    if not rows:
        if balances or positions:
            raise ValueError("balances or positions changed without an order event to write")
        return
    saved = [write_set.order.pk for write_set in rows if write_set.order.pk is not None]
    if len(saved) != len(set(saved)):
        raise ValueError("one order twice in one write: merge its events first")
    document = _Document(now=timezone.now(), orders=[], fills=[], audits=[], journals=[], entries=[], snapshots=[])
    for write_set in rows:
        document.add(write_set)
    parameter = _dumps(document.state(balances, positions))
    (result,) = _run([(_WRITE, (parameter,))])
    ids = {(kind, n): pk for kind, n, pk in result}
    fill_n = 0
    for order_n, write_set in enumerate(rows, start=1):
        order = write_set.order
        _mark_saved(order, ids[("order", order_n)])
        for fill in write_set.fills:
            fill_n += 1
            fill.order_id = order.pk
            _mark_saved(fill, ids[("fill", fill_n)])
    for balance in balances:
        if balance.pk is None:
            _mark_saved(balance, ids[(f"balance:{balance.portfolio_id}:{balance.asset}", 0)])
    for position in positions:
        if position.pk is None:
            _mark_saved(position, ids[(f"position:{position.portfolio_id}:{position.symbol}", 0)])


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # exact: the statement casts the text to numeric
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(document: dict[str, Any]) -> str:
    """orjson (~5x json's speed on this document); the standard library for what orjson
    refuses (integers beyond 64 bits in a caller's free-form data)."""
    try:
        return orjson.dumps(document, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(document, default=str)


def _mark_saved(obj: Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
