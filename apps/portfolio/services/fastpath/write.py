"""Fast path phase 2: every order event of a batch written by one statement from one JSON
document (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from apps.portfolio.models import Balance, EquitySnapshot, Fill, Journal, LedgerEntry, Order, Position
from apps.portfolio.services.auditing import AuditRow
from apps.portfolio.services.fastpath.rows import columns, dumps, json_row, mark_saved, run
from apps.portfolio.services.ledger import PendingJournal
from apps.safety.models import AuditEvent

_ORDER_FIELDS = columns(Order)
_POSITION_FIELDS = columns(Position)
_SNAPSHOT_FIELDS = columns(EquitySnapshot)

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
_FILL_FIELDS = [f for f in columns(Fill) if f.attname != "order_id"]
_JOURNAL_FIELDS = [f for f in columns(Journal) if f.attname != "order_id"]
_ENTRY_FIELDS = [f for f in columns(LedgerEntry) if f.attname != "journal_id"]
_AUDIT_FIELDS = [f for f in columns(AuditEvent) if f.attname != "data"]
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
        self.orders.append({**json_row(order, _ORDER_FIELDS), "id": order.pk})
        order_n = len(self.orders)
        for event in rows.order_audits:
            self._audit(event, order_n)
        for fill, event in zip(rows.fills, rows.fill_audits, strict=True):
            fill.created_at = now
            self.fills.append({**json_row(fill, _FILL_FIELDS), "order_n": order_n})
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
            self.snapshots.append(json_row(rows.snapshot, _SNAPSHOT_FIELDS))

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
            "positions": [{**json_row(p, _POSITION_FIELDS), "id": p.pk} for p in positions],
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
    parameter = dumps(document.state(balances, positions))
    (result,) = run([(_WRITE, (parameter,))])
    ids = {(kind, n): pk for kind, n, pk in result}
    fill_n = 0
    for order_n, write_set in enumerate(rows, start=1):
        order = write_set.order
        mark_saved(order, ids[("order", order_n)])
        for fill in write_set.fills:
            fill_n += 1
            fill.order_id = order.pk
            mark_saved(fill, ids[("fill", fill_n)])
    for balance in balances:
        if balance.pk is None:
            mark_saved(balance, ids[(f"balance:{balance.portfolio_id}:{balance.asset}", 0)])
    for position in positions:
        if position.pk is None:
            mark_saved(position, ids[(f"position:{position.portfolio_id}:{position.symbol}", 0)])
