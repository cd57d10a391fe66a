"""Portfolio, order and fill API serializers (unique names: drf-spectacular components)."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.core.api_serializers import MONEY as _MONEY
from apps.core.api_serializers import (
    ConfirmField,
    JsonInputSerializer,
    MoneyInputField,
    MoneyModelSerializer,
    StrictBooleanField,
)
from apps.core.exceptions import RuleError
from apps.market.models import Exchange
from apps.portfolio.models import Balance, EquitySnapshot, Fill, Order, Portfolio


class PortfolioOutputSerializer(MoneyModelSerializer):
    class Meta:
        model = Portfolio
        fields = [
            "id",
            "name",
            "exchange",
            "quote_asset",
            "starting_balances",
            "maker_fee_rate",
            "taker_fee_rate",
            "fee_discount",
            "latency_ms",
            "latency_jitter_ms",
            "max_slippage_bps",
            "seed",
            "queue_position_model",
            "created_at",
            "reset_at",
        ]
        read_only_fields = fields


class PortfolioCreateInputSerializer(JsonInputSerializer):
    name = serializers.CharField(max_length=100)
    exchange = serializers.ChoiceField(choices=Exchange.choices, default=Exchange.BINANCE)
    quote_asset = serializers.RegexField(r"^[A-Za-z0-9]{2,16}$", default="USDT")
    starting_balances = serializers.DictField(
        child=MoneyInputField(min_value=Decimal("0")),
        required=False,
        help_text='Asset -> amount, e.g. {"USDT": "10000"}. Default: 10000 in the quote asset. '
        "Asset names are 2-16 letters or digits (422 otherwise).",
    )
    maker_fee_rate = MoneyInputField(min_value=Decimal("0"), max_value=Decimal("0.1"), default="0.001")
    taker_fee_rate = MoneyInputField(min_value=Decimal("0"), max_value=Decimal("0.1"), default="0.001")
    fee_discount = StrictBooleanField(default=False)
    latency_ms = serializers.IntegerField(min_value=0, max_value=60_000, default=250)
    latency_jitter_ms = serializers.IntegerField(min_value=0, max_value=60_000, default=50)
    max_slippage_bps = MoneyInputField(min_value=Decimal("0"), max_value=Decimal("10000"), default="500")
    seed = serializers.IntegerField(min_value=0, max_value=2**62, default=0)

    def validate_name(self, value: str) -> str:
        # A taken name is the service's 409 (portfolio_create: the one check, also the pages').
        return value.strip()

    def validate_starting_balances(self, value: dict) -> dict:
        if not all(isinstance(k, str) and k.isalnum() and 2 <= len(k) <= 16 for k in value):
            # OpenAPI 3.0 cannot constrain object keys (no propertyNames): a 422, documented.
            message = "Asset names are 2-16 letters or digits."
            raise RuleError(f"starting_balances: {message}", fields={"starting_balances": [message]})
        # Plain decimal strings: the portfolio keeps them as given ("2500.5", not 18 zeros).
        return {asset: f"{amount.normalize():f}" for asset, amount in value.items()}


class PortfolioUpdateInputSerializer(JsonInputSerializer):
    """The settings a portfolio may change; every field is optional (PATCH). Exchange, quote
    asset and balances are fixed: balances change only through orders and resets."""

    name = serializers.CharField(max_length=100, required=False)
    maker_fee_rate = MoneyInputField(min_value=Decimal("0"), max_value=Decimal("0.1"), required=False)
    taker_fee_rate = MoneyInputField(min_value=Decimal("0"), max_value=Decimal("0.1"), required=False)
    fee_discount = StrictBooleanField(required=False)
    latency_ms = serializers.IntegerField(min_value=0, max_value=60_000, required=False)
    latency_jitter_ms = serializers.IntegerField(min_value=0, max_value=60_000, required=False)
    max_slippage_bps = MoneyInputField(min_value=Decimal("0"), max_value=Decimal("10000"), required=False)
    queue_position_model = StrictBooleanField(
        required=False, help_text="Fill a resting limit at its price only after the volume ahead of it traded."
    )


class PortfolioResetInputSerializer(JsonInputSerializer):
    confirm = ConfirmField(help_text="Must be true: a reset cancels open orders and restores balances.")


class PortfolioBalanceSerializer(MoneyModelSerializer):
    total = serializers.DecimalField(read_only=True, **_MONEY)

    class Meta:
        model = Balance
        fields = ["asset", "free", "locked", "total"]
        read_only_fields = fields


class PortfolioPositionSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    quantity = serializers.DecimalField(**_MONEY)
    avg_cost = serializers.DecimalField(**_MONEY)
    mark = serializers.DecimalField(allow_null=True, **_MONEY)
    unrealized_pnl = serializers.DecimalField(**_MONEY)
    realized_pnl = serializers.DecimalField(**_MONEY)
    fees_paid = serializers.DecimalField(**_MONEY)


class PortfolioMetricsSerializer(serializers.Serializer):
    equity = serializers.DecimalField(**_MONEY)
    total_return = serializers.DecimalField(allow_null=True, **_MONEY)
    max_drawdown = serializers.DecimalField(allow_null=True, **_MONEY)
    sharpe = serializers.FloatField(allow_null=True)
    sortino = serializers.FloatField(allow_null=True)
    win_rate = serializers.DecimalField(allow_null=True, **_MONEY)
    profit_factor = serializers.DecimalField(allow_null=True, **_MONEY)
    exposure = serializers.DecimalField(allow_null=True, **_MONEY)
    fees_paid = serializers.DecimalField(**_MONEY)
    realized_pnl = serializers.DecimalField(**_MONEY)
    unrealized_pnl = serializers.DecimalField(**_MONEY)
    average_slippage_bps = serializers.DecimalField(allow_null=True, **_MONEY)
    trades = serializers.IntegerField()


class PortfolioEquityPointSerializer(MoneyModelSerializer):
    class Meta:
        model = EquitySnapshot
        fields = ["ts", "equity", "cash", "positions_value", "reason"]
        read_only_fields = fields


class PortfolioEquityQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=5000, default=1000)


class OrderOutputSerializer(MoneyModelSerializer):
    type = serializers.CharField(source="order_type", read_only=True)
    portfolio = serializers.IntegerField(source="portfolio_id", read_only=True)
    order_list = serializers.IntegerField(
        source="order_list_id", read_only=True, allow_null=True, help_text="the OCO list this order belongs to"
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "portfolio",
            "client_order_id",
            "exchange",
            "symbol",
            "side",
            "type",
            "time_in_force",
            "quantity",
            "quote_quantity",
            "price",
            "stop_price",
            "trailing_delta_bps",
            "trail_best",
            "order_list",
            "status",
            "triggered",
            "filled_qty",
            "filled_quote",
            "fees_paid",
            "avg_price",
            "reason",
            "source",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def trailing_delta_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=10,
        max_value=2000,
        required=False,
        allow_null=True,
        help_text="trailing_stop only: how far the trigger trails the best price since placement, in basis "
        "points (Binance trailingDelta: 10-2000; 100 = 1 %).",
    )


class OrderCreateInputSerializer(JsonInputSerializer):
    portfolio = serializers.IntegerField(min_value=1, max_value=2**62)
    symbol = serializers.RegexField(r"^[A-Za-z0-9]{2,32}$")
    side = serializers.ChoiceField(choices=Order.Side.choices)
    type = serializers.ChoiceField(choices=Order.Type.choices)
    time_in_force = serializers.ChoiceField(choices=Order.TimeInForce.choices, default=Order.TimeInForce.GTC)
    quantity = MoneyInputField(positive=True, required=False, allow_null=True)
    quote_quantity = MoneyInputField(positive=True, required=False, allow_null=True)
    price = MoneyInputField(positive=True, required=False, allow_null=True)
    stop_price = MoneyInputField(positive=True, required=False, allow_null=True)
    trailing_delta_bps = trailing_delta_field()
    client_order_id = serializers.RegexField(
        r"^[A-Za-z0-9._:-]{1,64}$",
        required=False,
        help_text="Idempotency key: the same id with the same content returns the existing order; "
        "with different content it is a 409.",
    )


class OcoLegInputSerializer(JsonInputSerializer):
    """One order of an OCO: its type and prices (side and quantity are the list's)."""

    openapi_additional_properties = False  # nested: closed like the body (apps.core.api_schema)
    type = serializers.ChoiceField(
        choices=[
            (t, t)
            for t in ("limit", "take_profit", "take_profit_limit", "stop_loss", "stop_loss_limit", "trailing_stop")
        ]
    )
    price = MoneyInputField(positive=True, required=False, allow_null=True)
    stop_price = MoneyInputField(positive=True, required=False, allow_null=True)
    trailing_delta_bps = trailing_delta_field()


class OcoCreateInputSerializer(JsonInputSerializer):
    portfolio = serializers.IntegerField(min_value=1, max_value=2**62)
    symbol = serializers.RegexField(r"^[A-Za-z0-9]{2,32}$")
    side = serializers.ChoiceField(choices=Order.Side.choices)
    quantity = MoneyInputField(positive=True)
    above = OcoLegInputSerializer(
        help_text="The order above the market: for a sell a limit, take_profit or take_profit_limit; "
        "for a buy a stop_loss, stop_loss_limit or trailing_stop."
    )
    below = OcoLegInputSerializer(
        help_text="The order below the market: for a sell a stop_loss, stop_loss_limit or trailing_stop; "
        "for a buy a limit, take_profit or take_profit_limit."
    )
    client_order_id = serializers.RegexField(
        r"^[A-Za-z0-9._:-]{1,60}$",
        required=False,
        help_text="Names the list: its orders get `<id>-a` (above) and `<id>-b` (below).",
    )


class OcoOutputSerializer(serializers.Serializer):
    order_list = serializers.IntegerField(source="pk")
    contingency = serializers.CharField()
    symbol = serializers.CharField()
    orders = OrderOutputSerializer(many=True, source="orders_sorted")


class OrderFilterSerializer(serializers.Serializer):
    portfolio = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    symbol = serializers.CharField(required=False, max_length=32)
    side = serializers.ChoiceField(choices=Order.Side.choices, required=False)
    type = serializers.ChoiceField(choices=Order.Type.choices, required=False)
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    open = serializers.BooleanField(required=False, help_text="true: only open orders; false: only closed ones.")
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class FillOutputSerializer(MoneyModelSerializer):
    order = serializers.IntegerField(source="order_id", read_only=True)
    portfolio = serializers.IntegerField(source="portfolio_id", read_only=True)

    class Meta:
        model = Fill
        fields = [
            "id",
            "order",
            "portfolio",
            "symbol",
            "side",
            "price",
            "quantity",
            "quote_quantity",
            "fee",
            "fee_asset",
            "liquidity",
            "arrival_mid",
            "slippage_bps",
            "rule",
            "trade_id",
            "created_at",
        ]
        read_only_fields = fields


class FillFilterSerializer(serializers.Serializer):
    portfolio = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    order = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    symbol = serializers.CharField(required=False, max_length=32)
    side = serializers.ChoiceField(choices=Order.Side.choices, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class FillExportQuerySerializer(serializers.Serializer):
    portfolio = serializers.IntegerField(min_value=1, max_value=2**62)
