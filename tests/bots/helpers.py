from __future__ import annotations

from decimal import Decimal

from apps.bots.strategies import Bar, PositionView, Signal, Strategy

TF = 60_000


def bars(closes: list[str | int | float], *, start_ms: int = 0, volume: str = "1000") -> list[Bar]:
    out = []
    for i, c in enumerate(closes):
        d = Decimal(str(c))
        out.append(Bar(start_ms + i * TF, d, d, d, d, Decimal(volume), float(d)))
    return out


def run_signals(strategy: Strategy, series: list[Bar], *, hold_after_buy: bool = True) -> list[tuple[int, Signal]]:
    """Feed candles; track a one-unit position the way the runner would. Returns (index, signal)
    for every non-hold signal."""
    position = PositionView()
    out = []
    for i, bar in enumerate(series):
        signal = strategy.on_candle(bar, position)
        if signal.action == "hold":
            continue
        out.append((i, signal))
        if hold_after_buy and signal.action == "buy":
            position.quantity += 1
            position.entries += 1
        elif signal.action == "sell":
            sold = position.quantity * Decimal(repr(signal.fraction))
            position.quantity -= sold
            position.entries = 0 if position.quantity <= 0 else position.entries - 1
    return out


def quiet_bot_start(*, owner, portfolio, symbol: str = "BTCUSDT"):
    """A running 1m RSI bot whose thresholds no market reaches: it evaluates every close and
    never orders (the count of its evaluations is the point)."""
    from apps.bots.services import bot_create, bot_start

    bot = bot_create(
        owner=owner,
        portfolio=portfolio,
        name="quiet",
        symbol=symbol,
        strategy="rsi_mean_reversion",
        params={"period": 2, "oversold": 1, "overbought": 99},
        risk={"order_size": "100"},
    )
    return bot_start(bot=bot, actor=owner)
