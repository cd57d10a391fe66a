"""Writes for portfolios, orders and fills. Import the public functions from here."""

from __future__ import annotations

from apps.portfolio.services.cancels import order_cancel
from apps.portfolio.services.orders import order_place
from apps.portfolio.services.portfolios import portfolio_create, portfolio_reset
from apps.portfolio.services.resting import resting_order_match

__all__ = ["order_cancel", "order_place", "portfolio_create", "portfolio_reset", "resting_order_match"]
