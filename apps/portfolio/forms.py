"""Page forms: the paper order ticket (instant validation) and portfolio create/reset."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from apps.core.exceptions import ApplicationError
from apps.market.models import Exchange
from apps.portfolio.models import Fill, Portfolio

# The ticket's types: market, limit, stop (market), stop-limit, take-profit (market and
# limit) and trailing stop.
TICKET_TYPES = (
    ("market", "Market"),
    ("limit", "Limit"),
    ("stop_loss", "Stop"),
    ("stop_loss_limit", "Stop-limit"),
    ("take_profit", "Take-profit"),
    ("take_profit_limit", "Take-profit limit"),
    ("trailing_stop", "Trailing stop"),
)
PRICE_TYPES = {"limit", "stop_loss_limit", "take_profit_limit"}
STOP_TYPES = {"stop_loss", "stop_loss_limit", "take_profit", "take_profit_limit"}
TRAILING_TYPES = {"trailing_stop"}


class OrderTicketForm(forms.Form):
    portfolio = forms.ModelChoiceField(queryset=Portfolio.objects.none(), label="Portfolio", empty_label=None)
    side = forms.ChoiceField(choices=(("buy", "Buy"), ("sell", "Sell")), widget=forms.RadioSelect, initial="buy")
    order_type = forms.ChoiceField(choices=TICKET_TYPES, label="Order type", initial="market")
    quantity = forms.DecimalField(label="Quantity", min_value=Decimal("0"), required=False)
    price = forms.DecimalField(label="Limit price", min_value=Decimal("0"), required=False)
    stop_price = forms.DecimalField(label="Stop price", min_value=Decimal("0"), required=False)
    trailing_delta_bps = forms.IntegerField(
        label="Trail (bps)", min_value=10, max_value=2000, required=False, help_text="100 bps = 1 %"
    )

    def __init__(self, *args: Any, user: Any, exchange: str, symbol: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.exchange = exchange
        self.symbol = symbol
        self.fields["portfolio"].queryset = Portfolio.objects.filter(owner=user, exchange=exchange).order_by("name")
        for name in ("quantity", "price", "stop_price"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any", "autocomplete": "off"})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        order_type = cleaned["order_type"]
        if not cleaned.get("quantity"):
            self.add_error("quantity", "Enter a quantity above 0.")
        if order_type in PRICE_TYPES and not cleaned.get("price"):
            self.add_error("price", "A limit price is required for this order type.")
        if order_type in STOP_TYPES and not cleaned.get("stop_price"):
            self.add_error("stop_price", "A stop price is required for this order type.")
        if order_type in TRAILING_TYPES and not cleaned.get("trailing_delta_bps"):
            self.add_error("trailing_delta_bps", "A trail in basis points (10-2000) is required.")
        if self.errors:
            return cleaned
        self._check_exchange_rules(cleaned)
        return cleaned

    def order_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        order_type = data["order_type"]
        return {
            "symbol": self.symbol,
            "side": data["side"],
            "order_type": order_type,
            "quantity": data["quantity"],
            "price": data["price"] if order_type in PRICE_TYPES else None,
            "stop_price": data["stop_price"] if order_type in STOP_TYPES else None,
            "trailing_delta_bps": data["trailing_delta_bps"] if order_type in TRAILING_TYPES else None,
        }

    def add_application_error(self, error: ApplicationError) -> None:
        placed = False
        for name, messages in (error.fields or {}).items():
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)
                placed = True
        if not placed:
            self.add_error(None, error.message)

    def _check_exchange_rules(self, cleaned: dict[str, Any]) -> None:
        # The same shape and filter rules order_place applies, before anything is sent.
        from apps.market.cache import ticker_get
        from apps.portfolio import rules
        from apps.portfolio.order_request import order_request_build
        from apps.portfolio.services.instruments import instrument_rules_get

        kwargs = self.order_kwargs()
        try:
            request = order_request_build(
                exchange=self.exchange,
                symbol=self.symbol,
                side=kwargs["side"],
                order_type=kwargs["order_type"],
                time_in_force="GTC",
                quantity=kwargs["quantity"],
                quote_quantity=None,
                price=kwargs["price"],
                stop_price=kwargs["stop_price"],
                trailing_delta_bps=kwargs["trailing_delta_bps"],
            )
            instrument = instrument_rules_get(exchange=self.exchange, symbol=request.symbol)
            ticker = ticker_get(self.exchange, request.symbol)
            rules.check_filters(
                exchange=self.exchange,
                filters=instrument.filters,
                quantity=request.quantity,
                quote_quantity=None,
                price=request.price,
                stop_price=request.stop_price,
                reference_price=ticker.last if ticker else None,
            )
        except ApplicationError as error:
            self.add_application_error(error)


class PortfolioCreateForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name")
    exchange = forms.ChoiceField(choices=Exchange.choices, label="Exchange")
    starting_quote = forms.DecimalField(
        label="Starting USDT", min_value=Decimal("1"), max_digits=20, decimal_places=8, initial=Decimal("10000")
    )


class PortfolioResetForm(forms.Form):
    confirm_name = forms.CharField(label="Type the portfolio name to confirm")

    def __init__(self, *args: Any, portfolio: Portfolio, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.portfolio = portfolio

    def clean_confirm_name(self) -> str:
        value = self.cleaned_data["confirm_name"]
        if value.strip() != self.portfolio.name:
            raise forms.ValidationError("The name does not match: nothing was reset.")
        return value


class FillFilterForm(forms.Form):
    symbol = forms.CharField(required=False, label="Symbol", max_length=32)
    side = forms.ChoiceField(required=False, choices=(("", "Any side"), ("buy", "Buy"), ("sell", "Sell")), label="Side")
    liquidity = forms.ChoiceField(
        required=False, choices=(("", "Any liquidity"), *Fill.Liquidity.choices), label="Liquidity"
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def apply(self, queryset: Any) -> Any:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data.get("symbol"):
            queryset = queryset.filter(symbol=data["symbol"].strip().upper())
        if data.get("side"):
            queryset = queryset.filter(side=data["side"])
        if data.get("liquidity"):
            queryset = queryset.filter(liquidity=data["liquidity"])
        if data.get("since"):
            queryset = queryset.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            queryset = queryset.filter(created_at__date__lte=data["until"])
        return queryset
