"""Serializer building blocks shared by the apps' APIs."""

from __future__ import annotations

import decimal
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import serializers

# Money in and out of the API: exact decimal strings, trailing zeros dropped ("50000", "0.01").
MONEY = {
    "max_digits": settings.MONEY_MAX_DIGITS,
    "decimal_places": settings.MONEY_DECIMAL_PLACES,
    "normalize_output": True,
}


_MONEY_CONTEXT = decimal.Context(prec=settings.MONEY_MAX_DIGITS)
_MONEY_QUANTUM = decimal.Decimal(1).scaleb(-settings.MONEY_DECIMAL_PLACES)


def money_str(value: decimal.Decimal | None) -> str | None:
    """A Decimal as the API prints money (the same string as a MONEY DecimalField), for hot
    read endpoints that build plain dicts instead of paying DRF's per-field overhead."""
    if value is None:
        return None
    return f"{value.quantize(_MONEY_QUANTUM, context=_MONEY_CONTEXT).normalize():f}"


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


class StrictBooleanField(serializers.BooleanField):
    """A JSON true/false only: DRF's BooleanField also takes "yes", "1", 0... which the
    schema (type: boolean) does not allow."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _json_types(field: serializers.Field) -> tuple[type, ...] | None:
    """The JSON types a body field documents, or None when the field checks for itself."""
    if isinstance(field, (MoneyInputField, StrictBooleanField)):
        return None
    if isinstance(field, serializers.BooleanField):
        return (bool,)
    if isinstance(field, serializers.IntegerField):
        return (int,)
    if isinstance(field, serializers.FloatField):
        return (int, float)
    if isinstance(field, (serializers.DictField, serializers.JSONField, serializers.Serializer)):
        return (dict,)
    if isinstance(field, serializers.ListField):
        return (list,)
    if isinstance(field, (serializers.CharField, serializers.ChoiceField, serializers.DateTimeField)):
        return (str,)
    return None


class StrictFieldsMixin:
    """Refuses the body keys a serializer does not take as input (unknown, or output-only):
    a silently ignored `real: true` or `starting_balances` would look like success. Every
    API request body goes through it (tests/api/test_unknown_fields.py walks the URL conf).

    The refusal is reported together with the other fields' errors, each field named."""

    unknown_field_message = "Unknown field."

    def input_errors(self, data: Mapping[str, Any]) -> dict[str, list[str]]:
        """Errors found in the raw body before the fields validate it (extend in subclasses)."""
        writable = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
        return {name: [self.unknown_field_message] for name in sorted(set(data) - writable, key=str)}

    def to_internal_value(self, data: Any) -> Any:
        errors = self.input_errors(data) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            if not errors or not isinstance(exc.detail, Mapping):
                raise
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value


class JsonInputSerializer(StrictFieldsMixin, serializers.Serializer):
    """Request bodies: only the declared fields (StrictFieldsMixin), with the JSON types the
    schema documents.

    DRF coerces (12 -> "12", "5" -> 5, "yes" -> True): convenient for HTML forms, but the
    API's schema promises types, so a wrong JSON type is a 400 here."""

    def input_errors(self, data: Mapping[str, Any]) -> dict[str, list[str]]:
        errors = super().input_errors(data)
        for name, field in self.fields.items():
            if field.read_only or name not in data:
                continue
            value, types = data[name], _json_types(field)
            if value is None or types is None:
                continue
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                errors[name] = [f"Expected {' or '.join(t.__name__ for t in types)}, got {type(value).__name__}."]
        return errors


class EmptyInputSerializer(JsonInputSerializer):
    """The body of an action that takes no input: nothing, `{}`, or a 400 naming each key."""
