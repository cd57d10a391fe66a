"""Fast path phase 1: lock a batch's portfolios and balances and read what its orders need,
in one round trip (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.portfolio.models import Balance, Order, Portfolio, Position
from apps.portfolio.services.fastpath.rows import SQL, instance, run, select_list

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
    f"RETURNING {select_list(Portfolio, 'p.')}"
)
_ASYNC_COMMIT = "SELECT set_config('synchronous_commit', 'off', true)"
_EXISTING_ORDERS = (
    f"SELECT o.portfolio_id, o.client_order_id, o.id FROM {_OT} AS o "  # noqa: S608  # nosec B608 - model constants
    "JOIN unnest(%s::bigint[], %s::text[]) AS v(portfolio_id, client_order_id) "
    "ON o.portfolio_id = v.portfolio_id AND o.client_order_id = v.client_order_id"
)
_LOCK_BALANCES = (
    f"SELECT {select_list(Balance)} FROM {_BT} "  # noqa: S608  # nosec B608 - model constants
    "WHERE portfolio_id = ANY(%s::bigint[]) ORDER BY portfolio_id, asset FOR UPDATE"
)
_POSITIONS = (
    f"SELECT {select_list(Position, 'p.')} FROM {_PST} AS p "  # noqa: S608  # nosec B608 - model constants
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
    results = run(statements)[1 if async_commit else 0 :]
    portfolios, balances, positions = results[:3]
    existing = results[3] if keys else []
    states = {
        portfolio.pk: OpenState(portfolio=portfolio, balances={}, positions={}, existing_order_ids={})
        for portfolio in (instance(Portfolio, row) for row in portfolios)
    }
    for portfolio_id, client_order_id, order_id in existing:
        states[portfolio_id].existing_order_ids[client_order_id] = order_id
    for balance in (instance(Balance, row) for row in balances):
        states[balance.portfolio_id].balances[balance.asset] = balance
    for position in (instance(Position, row) for row in positions):
        states[position.portfolio_id].positions[position.symbol] = position
    return states
