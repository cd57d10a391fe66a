"""Checks on the numbers the simulator puts on the wire: every price is a multiple of the
instrument's tick, every quantity of its step, and every number round-trips through
Decimal and back to the same string (no exponent, no float artefacts)."""

from __future__ import annotations

from decimal import Decimal

from apps.market.simulator.symbols import DEFAULT_SPECS, SymbolSpec

# (payload field -> kind) per wire shape; "quote" values are only checked for the round-trip.
BINANCE_KLINE_EVENT = {"o": "price", "h": "price", "l": "price", "c": "price", "v": "qty", "V": "qty"}
BINANCE_TICKER = {
    "openPrice": "price",
    "highPrice": "price",
    "lowPrice": "price",
    "lastPrice": "price",
    "prevClosePrice": "price",
    "bidPrice": "price",
    "askPrice": "price",
    "priceChange": "price",
    "weightedAvgPrice": "price",
    "volume": "qty",
    "lastQty": "qty",
    "bidQty": "qty",
    "askQty": "qty",
    "quoteVolume": "quote",
}
BINANCE_TICKER_EVENT = {
    "o": "price",
    "h": "price",
    "l": "price",
    "c": "price",
    "x": "price",
    "b": "price",
    "a": "price",
    "p": "price",
    "w": "price",
    "v": "qty",
    "Q": "qty",
    "B": "qty",
    "A": "qty",
    "q": "quote",
}
BINANCE_TRADE = {"p": "price", "q": "qty"}
BINANCE_BOOK_TICKER = {"b": "price", "B": "qty", "a": "price", "A": "qty"}
KUCOIN_STATS = {
    "buy": "price",
    "sell": "price",
    "high": "price",
    "low": "price",
    "last": "price",
    "changePrice": "price",
    "averagePrice": "price",
    "vol": "qty",
    "volValue": "quote",
    "bestBidSize": "qty",
    "bestAskSize": "qty",
}
KUCOIN_TICKER = {
    "price": "price",
    "size": "qty",
    "bestBid": "price",
    "bestAsk": "price",
    "bestBidSize": "qty",
    "bestAskSize": "qty",
}
KUCOIN_MATCH = {"price": "price", "size": "qty"}
BINANCE_KLINE_ROW = ("price", "price", "price", "price", "qty", None, "quote", None, "qty", "quote", None)
KUCOIN_CANDLE_ROW = ("price", "price", "price", "price", "qty", "quote")


class WireChecker:
    """Collects violations instead of stopping at the first: a failure lists them all."""

    def __init__(self, specs: dict[str, SymbolSpec] | None = None) -> None:
        self.specs = specs or DEFAULT_SPECS
        self.problems: list[str] = []
        self.checked = 0

    def _rules(self, exchange: str, symbol: str) -> tuple[Decimal, Decimal]:
        rules = self.specs[symbol.replace("-", "").upper()].rules(exchange)
        return Decimal(rules.tick), Decimal(rules.step)

    def value(self, exchange: str, symbol: str, kind: str, text: object, where: str) -> None:
        if text is None:
            return  # a null is "no value" (thin markets); its absence is checked elsewhere
        self.checked += 1
        if not isinstance(text, str):
            self.problems.append(f"{where}: {text!r} is not a string")
            return
        number = Decimal(text)
        if format(number, "f") != text or "E" in text.upper():
            self.problems.append(f"{where}: {text!r} does not round-trip ({number})")
        tick, step = self._rules(exchange, symbol)
        unit = {"price": tick, "qty": step}.get(kind)
        if unit is not None and number % unit != 0:
            self.problems.append(f"{where}: {text!r} is not a multiple of the {kind} unit {unit}")

    def fields(self, exchange: str, symbol: str, payload: dict, spec: dict[str, str], where: str) -> None:
        for key, kind in spec.items():
            if key in payload:
                self.value(exchange, symbol, kind, payload[key], f"{where}.{key}")

    def levels(self, exchange: str, symbol: str, rows: list, where: str) -> None:
        for i, (p, q, *_) in enumerate(rows):
            self.value(exchange, symbol, "price", p, f"{where}[{i}].price")
            self.value(exchange, symbol, "qty", q, f"{where}[{i}].qty")

    def row(self, exchange: str, symbol: str, row: list, kinds: tuple, where: str) -> None:
        for i, kind in enumerate(kinds):
            if kind is not None:
                self.value(exchange, symbol, kind, row[i + 1], f"{where}[{i + 1}]")

    def assert_clean(self, minimum: int = 1) -> None:
        assert not self.problems, "\n".join(self.problems[:40])
        assert self.checked >= minimum, f"only {self.checked} numbers checked"
