"""Instrument specs of the simulated exchanges (pure: no ORM, no I/O).

Prices and quantities are kept as integers in units of 10**-decimals inside the simulator:
exact, fast, and converted to Decimal/strings only at the protocol boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

BINANCE = "binance"
KUCOIN = "kucoin"
EXCHANGES = (BINANCE, KUCOIN)
KNOWN_QUOTES = ("USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB")
DEFAULT_LISTED_MS = 1_500_000_000_000  # 2017-07-14: Binance opened; pairs we have no date for


@dataclass(frozen=True, slots=True)
class ExchangeRules:
    """One exchange's trading rules for a symbol, as decimal strings."""

    tick: str
    step: str
    min_qty: str
    min_notional: str
    listed_ms: int = DEFAULT_LISTED_MS  # first trade on this venue: no kline before it (SIMULATOR.md)


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    symbol: str  # neutral form, BTCUSDT
    base: str
    quote: str
    price: float  # model anchor price (history oscillates around it)
    daily_vol: float  # daily log-return volatility of the model
    trade_size: float  # typical trade size in base units
    binance: ExchangeRules
    kucoin: ExchangeRules
    thin: bool = False  # a quiet pair: a trade every ~4 min, minutes without trades (thin.py)

    def rules(self, exchange: str) -> ExchangeRules:
        return self.binance if exchange == BINANCE else self.kucoin

    @property
    def kucoin_symbol(self) -> str:
        return f"{self.base}-{self.quote}"


def _spec(
    symbol: str, base: str, price: float, vol: float, size: float, bn: tuple, kc: tuple, thin: bool = False
) -> SymbolSpec:
    quote = symbol[len(base) :]
    listed = LISTED_MS[symbol]
    rules = ExchangeRules(*bn, listed_ms=listed[0]), ExchangeRules(*kc, listed_ms=listed[1])
    return SymbolSpec(symbol, base, quote, price, vol, size, *rules, thin)


# First trade per venue (Binance, KuCoin), ms. Binance's are its first klines; KuCoin's are
# not documented anywhere we found: later dates were chosen (less history is the stricter side).
LISTED_MS: dict[str, tuple[int, int]] = {
    "BTCUSDT": (1_502_942_400_000, 1_509_062_400_000),  # 2017-08-17 04:00 / 2017-10-27
    "ETHUSDT": (1_502_942_400_000, 1_509_062_400_000),  # 2017-08-17 04:00 / 2017-10-27
    "SOLUSDT": (1_597_125_600_000, 1_597_190_400_000),  # 2020-08-11 06:00 / 2020-08-12
    "XRPUSDT": (1_525_420_800_000, 1_535_760_000_000),  # 2018-05-04 08:00 / 2018-09-01
    "ADAUSDT": (1_523_937_600_000, 1_541_030_400_000),  # 2018-04-17 04:00 / 2018-11-01
    "DOGEUSDT": (1_562_328_000_000, 1_556_668_800_000),  # 2019-07-05 12:00 / 2019-05-01
}


# Rules mirror the real venues' filters (tick, step, min qty, min notional / minFunds).
DEFAULT_SPECS: dict[str, SymbolSpec] = {
    s.symbol: s
    for s in (
        _spec(
            "BTCUSDT",
            "BTC",
            95000.0,
            0.030,
            0.01,
            ("0.01", "0.00001", "0.00001", "5"),
            ("0.1", "0.00000001", "0.00001", "0.1"),
        ),
        _spec(
            "ETHUSDT",
            "ETH",
            3500.0,
            0.040,
            0.2,
            ("0.01", "0.0001", "0.0001", "5"),
            ("0.01", "0.0000001", "0.0001", "0.1"),
        ),
        _spec("SOLUSDT", "SOL", 180.0, 0.050, 3.0, ("0.01", "0.001", "0.001", "5"), ("0.01", "0.0001", "0.01", "0.1")),
        _spec("XRPUSDT", "XRP", 2.5, 0.050, 500.0, ("0.0001", "0.1", "0.1", "5"), ("0.0001", "0.0001", "0.1", "0.1")),
        _spec(
            "ADAUSDT",
            "ADA",
            0.9,
            0.050,
            1000.0,
            ("0.0001", "0.1", "0.1", "5"),
            ("0.0001", "0.0001", "0.1", "0.1"),
            thin=True,  # the configured quiet pair on both venues
        ),
        _spec("DOGEUSDT", "DOGE", 0.3, 0.060, 3000.0, ("0.00001", "1", "1", "1"), ("0.00001", "0.0001", "1", "0.1")),
    )
}


def split_symbol(symbol: str) -> tuple[str, str]:
    """BTCUSDT -> (BTC, USDT); accepts BTC-USDT too."""
    if "-" in symbol:
        base, quote = symbol.split("-", 1)
        return base, quote
    for quote in KNOWN_QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    raise ValueError(f"cannot split symbol {symbol!r} into base and quote")


def generic_spec(symbol: str, price: float) -> SymbolSpec:
    """A spec for a symbol we have no table entry for (replayed pairs such as XRPETH)."""
    base, quote = split_symbol(symbol)
    decimals = max(2, min(8, 6 - int(f"{price:e}".split("e")[1])))
    tick = format(Decimal(1).scaleb(-decimals), "f")
    rules = ExchangeRules(tick, "0.00000001", "0.00000001", "0")
    return SymbolSpec(base + quote, base, quote, price, 0.04, 1.0, rules, rules)


def resolve_specs(symbols: list[str] | None) -> dict[str, SymbolSpec]:
    if not symbols:
        return dict(DEFAULT_SPECS)
    out: dict[str, SymbolSpec] = {}
    for raw in symbols:
        name = raw.replace("-", "").upper()
        out[name] = DEFAULT_SPECS.get(name) or generic_spec(name, 1.0)
    return out


def decimals_of(value: str) -> tuple[int, int]:
    """'0.05' -> (decimals=2, units=5): the value is ``units * 10**-decimals``."""
    d = Decimal(value).normalize()
    exp = -d.as_tuple().exponent  # type: ignore[operator]
    decimals = max(0, exp)
    return decimals, int(d.scaleb(decimals))


def fmt_units(n: int, decimals: int, pad: bool) -> str:
    """Integer units -> decimal string; ``pad`` keeps all decimals (Binance), else strip zeros (KuCoin)."""
    if decimals == 0:
        return str(n)
    sign = "-" if n < 0 else ""
    s = str(-n if n < 0 else n).rjust(decimals + 1, "0")
    whole, frac = s[:-decimals], s[-decimals:]
    if not pad:
        frac = frac.rstrip("0")
        return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"
    return f"{sign}{whole}.{frac}"


def units_of(value: Decimal | str, decimals: int) -> int:
    return int(Decimal(value).scaleb(decimals).to_integral_value())
