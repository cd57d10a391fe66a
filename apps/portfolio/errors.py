"""Order errors that carry the exchange's own code and message (what a trader would see)."""

from __future__ import annotations

from apps.core.exceptions import ApplicationError


class OrderRejectedError(ApplicationError):
    """The order breaks an exchange rule. ``code`` is the exchange's code (Binance "-1013",
    KuCoin "400100"), ``message`` its message; ``fields`` names the offending input."""

    status = 400

    def __init__(self, message: str, *, code: str, exchange: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message, code=code, fields=fields)
        self.exchange = exchange


class InsufficientBalanceError(OrderRejectedError):
    pass


class MarketDataUnavailableError(ApplicationError):
    status = 503
    code = "market_data_unavailable"
