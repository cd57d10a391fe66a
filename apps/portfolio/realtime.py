"""What the portfolio page's live pushes carry; ``services.pushes.portfolio_push`` sends
them after the transaction commits.

Group: ``portfolio.<portfolio_id>``. Message (channel layer event):

    {"type": "portfolio.update",         # consumer method portfolio_update()
     "event": "order" | "fill" | "cancel" | "trigger" | "reset",
     "portfolio_id": 7,
     "data": {"order": {...order fields, Decimals as strings...},
              "fills": [{"id", "price", "quantity", "fee", "fee_asset", "liquidity",
                         "rule", "slippage_bps"}, ...]}}

A consumer joins the group and forwards ``data`` (or re-renders its fragment).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def portfolio_group(portfolio_id: int) -> str:
    return f"portfolio.{portfolio_id}"


def _s(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def order_payload(*, order: Any, fills: list[Any]) -> dict[str, Any]:
    return {
        "order": {
            "id": order.pk,
            "client_order_id": order.client_order_id,
            "symbol": order.symbol,
            "side": order.side,
            "type": order.order_type,
            "status": order.status,
            "quantity": _s(order.quantity),
            "quote_quantity": _s(order.quote_quantity),
            "price": _s(order.price),
            "stop_price": _s(order.stop_price),
            "filled_qty": _s(order.filled_qty),
            "avg_price": _s(order.avg_price),
        },
        "fills": [
            {
                "id": fill.pk,
                "price": _s(fill.price),
                "quantity": _s(fill.quantity),
                "fee": _s(fill.fee),
                "fee_asset": fill.fee_asset,
                "liquidity": fill.liquidity,
                "rule": fill.rule,
                "slippage_bps": _s(fill.slippage_bps),
            }
            for fill in fills
        ],
    }
