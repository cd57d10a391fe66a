"""Order errors that carry the exchange's own code and message (what a trader would see)."""

from __future__ import annotations

from apps.core.exceptions import ApplicationError, ConflictError


class OrderRejectedError(ApplicationError):
    """The order breaks an exchange rule. ``code`` is the exchange's code (Binance "-1013",
    KuCoin "400100"), ``message`` its message; ``fields`` names the offending input.

    422: the body matched the schema, but not the rules it cannot state (which parameters an
    order type takes, the instrument's tick, step and minimum notional, a listed symbol)."""

    status = 422

    def __init__(self, message: str, *, code: str, exchange: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message, code=code, fields=fields)
        self.exchange = exchange


class InsufficientBalanceError(OrderRejectedError):
    """409: the portfolio's current balance does not cover the order."""

    status = 409


class OrderStateError(OrderRejectedError):
    """409: the order's current state refuses the action (cancelling a closed order)."""

    status = 409


class MarketDataUnavailableError(ApplicationError):
    status = 503
    code = "market_data_unavailable"


def name_taken_error() -> ConflictError:
    """The owner already has a portfolio of that name (create or rename): a 409 on the API, the
    message next to the name field on the pages."""
    message = "You already have a portfolio with this name."
    return ConflictError(f"name: {message}", code="name_taken", fields={"name": [message]})
