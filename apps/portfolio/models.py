"""Virtual portfolios: a double-entry ledger (the source of truth) with balances kept in step,
orders, fills, positions and equity snapshots. Decimal everywhere (apps.core.money)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from apps.core.money import money_field
from apps.market.models import Exchange


class Portfolio(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolios")
    name = models.CharField(max_length=100)
    exchange = models.CharField(max_length=16, choices=Exchange.choices, default=Exchange.BINANCE)
    quote_asset = models.CharField(max_length=16, default="USDT")
    starting_balances = models.JSONField(default=dict, help_text='{"USDT": "10000"}: decimal strings')
    maker_fee_rate = money_field(default=Decimal("0.001"))
    taker_fee_rate = money_field(default=Decimal("0.001"))
    fee_discount = models.BooleanField(default=False, help_text="pay fees with BNB (-25%) / KCS (-20%)")
    latency_ms = models.PositiveIntegerField(default=250)
    latency_jitter_ms = models.PositiveIntegerField(default=50)
    max_slippage_bps = money_field(
        default=Decimal("500"), help_text="market orders stop walking the book this far from the arrival mid"
    )
    seed = models.BigIntegerField(default=0)
    queue_position_model = models.BooleanField(
        default=False,
        help_text="a print exactly at a resting limit's price fills it once the volume printed there "
        "exceeds the book quantity that was ahead of it on arrival (FILL_REALISM rule 3)",
    )
    # Bumped under the portfolio row lock: with ``seed`` it makes each order's random draws replayable.
    order_seq = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    reset_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="uniq_portfolio_owner_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.exchange})"


class Balance(models.Model):
    """Cached per-asset sums of the ledger's free/locked accounts, updated in the same transaction."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="balances")
    asset = models.CharField(max_length=16)
    free = money_field()
    locked = money_field()

    class Meta:
        ordering = ["portfolio_id", "asset"]
        constraints = [
            models.UniqueConstraint(fields=["portfolio", "asset"], name="uniq_balance_asset"),
            models.CheckConstraint(condition=models.Q(free__gte=0), name="balance_free_nonneg"),
            models.CheckConstraint(condition=models.Q(locked__gte=0), name="balance_locked_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} free={self.free} locked={self.locked}"

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


class Journal(models.Model):
    """One balanced movement: for every asset its entries sum to zero."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit"
        RESET = "reset"
        LOCK = "lock"
        RELEASE = "release"
        FILL = "fill"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="journals")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    order = models.ForeignKey("Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="journals")
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"journal #{self.pk} {self.kind}"


class LedgerEntry(models.Model):
    class Account(models.TextChoices):
        FREE = "free"  # the user's spendable balance
        LOCKED = "locked"  # reserved by open orders
        CAPITAL = "capital"  # deposits and resets (the outside world)
        MARKET = "market"  # the counterparty of every fill
        FEES = "fees"  # fees paid to the (simulated) exchange

    journal = models.ForeignKey(Journal, on_delete=models.CASCADE, related_name="entries")
    # No index of its own: ``ledger_sum`` starts with portfolio (one index less per entry).
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="ledger_entries", db_index=False)
    asset = models.CharField(max_length=16)
    account = models.CharField(max_length=16, choices=Account.choices)
    amount = money_field(help_text="signed: + credits the account")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["portfolio", "asset", "account"], name="ledger_sum")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount} {self.asset}"


class Order(models.Model):
    class Side(models.TextChoices):
        BUY = "buy"
        SELL = "sell"

    class Type(models.TextChoices):
        MARKET = "market"
        LIMIT = "limit"
        STOP_LOSS = "stop_loss"
        STOP_LOSS_LIMIT = "stop_loss_limit"
        TAKE_PROFIT = "take_profit"
        TAKE_PROFIT_LIMIT = "take_profit_limit"
        TRAILING_STOP = "trailing_stop"

    class TimeInForce(models.TextChoices):
        GTC = "GTC"
        IOC = "IOC"
        FOK = "FOK"

    class Status(models.TextChoices):
        NEW = "new"
        PARTIALLY_FILLED = "partially_filled"
        FILLED = "filled"
        CANCELED = "canceled"
        REJECTED = "rejected"
        EXPIRED = "expired"

    OPEN_STATUSES = (Status.NEW, Status.PARTIALLY_FILLED)

    # No index of its own: ``uniq_client_order_id`` starts with portfolio.
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="orders", db_index=False)
    client_order_id = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64, help_text="fingerprint of the request, for idempotency")
    exchange = models.CharField(max_length=16, choices=Exchange.choices)
    symbol = models.CharField(max_length=32)
    base_asset = models.CharField(max_length=16)
    quote_asset = models.CharField(max_length=16)
    side = models.CharField(max_length=4, choices=Side.choices)
    order_type = models.CharField(max_length=20, choices=Type.choices)
    time_in_force = models.CharField(max_length=3, choices=TimeInForce.choices, default=TimeInForce.GTC)
    quantity = money_field(null=True, blank=True)
    quote_quantity = money_field(null=True, blank=True)
    price = money_field(null=True, blank=True)
    stop_price = money_field(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    triggered = models.BooleanField(default=False, help_text="a stop/take-profit that has triggered")
    trailing_delta_bps = models.PositiveIntegerField(
        null=True, blank=True, help_text="trailing stop: how far (bps) the trigger trails the best price"
    )
    trail_best = money_field(
        null=True, blank=True, help_text="trailing stop: the best print since placement (highest for a sell)"
    )
    order_list = models.ForeignKey(
        "OrderList", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders", db_index=True
    )
    filled_qty = money_field()
    filled_quote = money_field()
    fees_paid = money_field()
    avg_price = money_field(null=True, blank=True)
    locked_asset = models.CharField(max_length=16, blank=True)
    locked_amount = money_field(help_text="what this order still reserves")
    arrival_mid = money_field(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    seq = models.BigIntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=32, default="api")
    extra = models.JSONField(default=dict, blank=True)
    # Matcher state (apps.portfolio.matcher): the queue estimate, the last event applied,
    # the cancel deadline (rule 6) and whether part of the order's life went unsimulated.
    queue_ahead = money_field(
        default=None,
        null=True,
        blank=True,
        help_text="book quantity still ahead of this order at its price (queue model)",
    )
    matched_until_ms = models.BigIntegerField(null=True, blank=True, help_text="last market event applied (ms)")
    cancel_deadline_ms = models.BigIntegerField(
        null=True, blank=True, help_text="exchange time the cancel took effect: cancel time + sampled latency"
    )
    not_simulated = models.BooleanField(
        default=False, help_text="the engine was down for part of this order's life and nothing was replayed"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["portfolio", "client_order_id"], name="uniq_client_order_id")]
        # A plain index on status (the ``db_index`` one adds a LIKE-pattern twin nobody uses).
        indexes = [
            models.Index(fields=["exchange", "symbol", "status"], name="order_open_idx"),
            models.Index(fields=["status"], name="order_status_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.side} {self.order_type} {self.symbol} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class OrderList(models.Model):
    """Orders linked as one-cancels-the-others (an OCO): the first of them to trigger or fill
    cancels the rest in the same transaction, canceling one cancels them all, and the list
    reserves its funds once (held by one of its orders, ``Order.locked_amount``)."""

    class Contingency(models.TextChoices):
        OCO = "oco"

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="order_lists")
    contingency = models.CharField(max_length=8, choices=Contingency.choices, default=Contingency.OCO)
    symbol = models.CharField(max_length=32)
    source = models.CharField(max_length=32, default="api")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.contingency} list #{self.pk} {self.symbol}"


class Fill(models.Model):
    class Liquidity(models.TextChoices):
        MAKER = "maker"
        TAKER = "taker"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fills")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="fills")
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4)
    price = money_field()
    quantity = money_field()
    quote_quantity = money_field()
    fee = money_field()
    fee_asset = models.CharField(max_length=16)
    liquidity = models.CharField(max_length=5, choices=Liquidity.choices)
    arrival_mid = money_field(null=True, blank=True)
    slippage_bps = money_field(null=True, blank=True)
    rule = models.CharField(max_length=32, help_text="the fill rule that produced this fill")
    trade_id = models.CharField(max_length=64, blank=True, help_text="the print that filled a resting order")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.side} {self.quantity} {self.symbol} @ {self.price} ({self.liquidity})"


class Position(models.Model):
    """Average-cost position per symbol (spot: the base asset held through this symbol)."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="positions")
    symbol = models.CharField(max_length=32)
    base_asset = models.CharField(max_length=16)
    quantity = money_field()
    avg_cost = money_field()
    realized_pnl = money_field()
    fees_paid = money_field(help_text="in quote, fees charged in base valued at the fill price")
    closed_trades = models.PositiveIntegerField(default=0)
    winning_trades = models.PositiveIntegerField(default=0)
    gross_profit = money_field()
    gross_loss = money_field()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["portfolio_id", "symbol"]
        constraints = [models.UniqueConstraint(fields=["portfolio", "symbol"], name="uniq_position_symbol")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.quantity} @ {self.avg_cost}"


class EquitySnapshot(models.Model):
    class Reason(models.TextChoices):
        FILL = "fill"
        SCHEDULE = "schedule"
        RESET = "reset"

    # No index of its own: ``equity_series`` starts with portfolio.
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="equity_snapshots", db_index=False)
    ts = models.DateTimeField(db_index=True)
    equity = money_field()
    cash = money_field()
    positions_value = money_field()
    reason = models.CharField(max_length=16, choices=Reason.choices)

    class Meta:
        ordering = ["portfolio_id", "ts", "id"]
        indexes = [models.Index(fields=["portfolio", "ts"], name="equity_series")]

    def __str__(self) -> str:
        return f"{self.ts:%Y-%m-%d %H:%M:%S} {self.equity}"


class MatcherCheckpoint(models.Model):
    """The last market event time the matcher processed per (exchange, symbol): on restart,
    the downtime since then is replayed from stored candles or marked as not simulated."""

    exchange = models.CharField(max_length=16, choices=Exchange.choices)
    symbol = models.CharField(max_length=32)
    last_event_ms = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["exchange", "symbol"]
        constraints = [models.UniqueConstraint(fields=["exchange", "symbol"], name="uniq_matcher_checkpoint")]

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol} @ {self.last_event_ms}"


class OrderDowntime(models.Model):
    """A stretch of an open order's life while the matcher was down: replayed from stored
    1m candles, or not simulated (no candles), so the order history says which."""

    class Kind(models.TextChoices):
        REPLAYED = "replayed"
        NOT_SIMULATED = "not_simulated"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="downtimes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    start_ms = models.BigIntegerField()
    end_ms = models.BigIntegerField()
    candles = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order_id", "start_ms", "id"]

    def __str__(self) -> str:
        return f"order #{self.order_id} {self.kind} {self.start_ms}..{self.end_ms}"
