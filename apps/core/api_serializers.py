"""Serializer building blocks shared by the apps' APIs."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from rest_framework import serializers

# Money in and out of the API: exact decimal strings, trailing zeros dropped ("50000", "0.01").
MONEY = {
    "max_digits": settings.MONEY_MAX_DIGITS,
    "decimal_places": settings.MONEY_DECIMAL_PLACES,
    "normalize_output": True,
}


class MoneyModelSerializer(serializers.ModelSerializer):
    """ModelSerializer whose DecimalFields print normalized (no 18 trailing zeros)."""

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(field_class, serializers.DecimalField):
            kwargs["normalize_output"] = True
        return field_class, kwargs


def _money_pattern() -> re.Pattern[str]:
    # The same shape drf-spectacular documents for these fields (whole and fraction digits).
    whole = settings.MONEY_MAX_DIGITS - settings.MONEY_DECIMAL_PLACES
    return re.compile(rf"^-?\d{{0,{whole}}}(?:\.\d{{0,{settings.MONEY_DECIMAL_PLACES}}})?$", re.ASCII)


class MoneyInputField(serializers.DecimalField):
    """Money input: a decimal *string*, e.g. "0.015". JSON numbers are refused: they are
    floats on the way in for most clients, and money never passes through float."""

    default_error_messages = {"not_decimal_string": 'Send a decimal string, e.g. "0.015".'}

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("max_digits", settings.MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", settings.MONEY_DECIMAL_PLACES)
        kwargs.setdefault("normalize_output", True)
        super().__init__(**kwargs)
        self.pattern = _money_pattern()

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not self.pattern.match(data):
            self.fail("not_decimal_string")
        return super().to_internal_value(data)
