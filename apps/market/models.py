from __future__ import annotations

from django.db import models

from apps.core.money import money_field
from apps.market.feeds.symbols import TIMEFRAME_MS as TIMEFRAME_MS  # for market/views.py until it moves


class Exchange(models.TextChoices):
    BINANCE = "binance", "Binance"
    KUCOIN = "kucoin", "KuCoin"


class Timeframe(models.TextChoices):
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"


class Instrument(models.Model):
    """A spot pair on one exchange with its trading rules (synced from exchangeInfo / symbols).

    ``symbol`` is the exchange-neutral form (BTCUSDT); ``exchange_symbol`` is what the
    exchange calls it (BTCUSDT on Binance, BTC-USDT on KuCoin)."""

    exchange = models.CharField(max_length=16, choices=Exchange.choices)
    symbol = models.CharField(max_length=32)
    exchange_symbol = models.CharField(max_length=32)
    base_asset = models.CharField(max_length=16)
    quote_asset = models.CharField(max_length=16)
    status = models.CharField(max_length=16, default="TRADING")
    tick_size = money_field()
    step_size = money_field()
    min_qty = money_field()
    max_qty = money_field()
    min_notional = money_field()
    is_active = models.BooleanField(default=True, help_text="streamed by the feeds")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["exchange", "symbol"], name="uniq_instrument")]
        ordering = ["exchange", "symbol"]

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol}"


class Candle(models.Model):
    """A closed candle. Upserted idempotently on (exchange, symbol, timeframe, open_time)."""

    exchange = models.CharField(max_length=16, choices=Exchange.choices)
    symbol = models.CharField(max_length=32)
    timeframe = models.CharField(max_length=4, choices=Timeframe.choices)
    open_time = models.DateTimeField()
    open = money_field()
    high = money_field()
    low = money_field()
    close = money_field()
    volume = money_field()
    quote_volume = money_field()
    trades = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exchange", "symbol", "timeframe", "open_time"], name="uniq_candle")
        ]
        indexes = [models.Index(fields=["exchange", "symbol", "timeframe", "-open_time"], name="candle_recent")]
        ordering = ["exchange", "symbol", "timeframe", "open_time"]

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol} {self.timeframe} {self.open_time:%Y-%m-%d %H:%M}"
