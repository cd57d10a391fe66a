"""Writes for portfolios, orders and fills. Import the public functions from here."""

from __future__ import annotations

from apps.portfolio.services.matching import order_match_event
from apps.portfolio.services.orders import order_cancel, order_place
from apps.portfolio.services.portfolios import portfolio_create, portfolio_reset

__all__ = ["order_cancel", "order_match_event", "order_place", "portfolio_create", "portfolio_reset"]
