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


def money_pattern(*, signed: bool, max_value: decimal.Decimal | None = None) -> str:
    """The one regex a money input must match: the validator of MoneyInputField and the
    pattern its schema documents. Digits, then optionally "." and 1-18 digits; no exponent,
    no leading zeros, a sign only when negatives are allowed. ``max_value`` (a power of ten,
    e.g. 0.1 or 10000) is part of the pattern, so the schema states the range exactly."""
    whole, places = settings.MONEY_MAX_DIGITS - settings.MONEY_DECIMAL_PLACES, settings.MONEY_DECIMAL_PLACES
    fraction = rf"(?:\.\d{{1,{places}}})?"
    if max_value is None:
        body = rf"(?:0|[1-9]\d{{0,{whole - 1}}}){fraction}"
    else:
        sign, digits, exponent = max_value.normalize().as_tuple()
        if sign or digits != (1,) or not isinstance(exponent, int):
            raise ValueError(f"money max_value must be a power of ten, got {max_value}")
        if exponent > 0:  # 10, 100, ...: fewer whole digits, or exactly the maximum
            body = rf"(?:(?:0|[1-9]\d{{0,{exponent - 1}}}){fraction}|10{{{exponent}}}(?:\.0{{1,{places}}})?)"
        elif exponent == 0:
            body = rf"(?:0{fraction}|1(?:\.0{{1,{places}}})?)"
        else:  # 0.1, 0.01, ...: leading fraction zeros, or exactly the maximum
            m = -exponent
            below = rf"0{{1,{m}}}|0{{{m}}}\d{{1,{places - m}}}"
            top = rf"0{{{m - 1}}}10{{0,{places - m}}}" if m > 1 else rf"10{{0,{places - 1}}}"
            body = rf"0(?:\.(?:{below}|{top}))?"
    return rf"^{'-?' if signed else ''}{body}$"


def _below_pattern(min_value: decimal.Decimal) -> str:
    """Non-negative decimal strings (money_pattern's form) below ``min_value`` (0 or 10^-k):
    what "not" excludes from the pattern when the minimum is above zero."""
    places = settings.MONEY_DECIMAL_PLACES
    if min_value == 0:
        return rf"^-?0(?:\.0{{1,{places}}})?$"  # zero itself (for "more than zero")
    sign, digits, exponent = min_value.normalize().as_tuple()
    if sign or digits != (1,) or not isinstance(exponent, int) or exponent >= 0:
        raise ValueError(f"money min_value must be 0 or 10^-k, got {min_value}")
    k = -exponent - 1  # 0.00000001: the first 7 fraction digits zero, then a zero or nothing
    return rf"^0(?:\.(?:0{{1,{k + 1}}}|0{{{k + 1}}}\d{{1,{places - k - 1}}}))?$"


class MoneyInputField(serializers.DecimalField):
    """Money input: a decimal *string*, e.g. "0.015". JSON numbers are refused (``numbers``
    lets strategy parameters take them): they are floats on the way in for most clients,
    and money never passes through float.

    The range is part of the string pattern, so the schema documents exactly what is
    accepted: ``min_value`` None, 0 or a power of ten below 1, ``positive`` for "more than
    zero", ``max_value`` a power of ten."""

    default_error_messages = {
        "not_decimal_string": 'Send a decimal string, e.g. "0.015".',
        "not_positive": "Ensure this value is greater than 0.",
    }

    def __init__(self, *, positive: bool = False, numbers: bool = False, **kwargs: Any):
        kwargs.setdefault("max_digits", settings.MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", settings.MONEY_DECIMAL_PLACES)
        kwargs.setdefault("normalize_output", True)
        if positive:
            kwargs.setdefault("min_value", decimal.Decimal(0))
        super().__init__(**kwargs)
        self.positive, self.numbers = positive, numbers
        self.pattern = re.compile(money_pattern(signed=self.min_value is None, max_value=self.max_value), re.ASCII)
        below = None
        if self.min_value is not None and (positive or self.min_value != 0):
            below = _below_pattern(decimal.Decimal(0) if positive else decimal.Decimal(self.min_value))
        self.below = re.compile(below, re.ASCII) if below else None

    def openapi_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The schema drf-spectacular built for the decimal string, made exact (apps.core.api_schema)."""
        text = {**schema, "pattern": self.pattern.pattern}
        if self.below is not None:
            text["not"] = {"pattern": self.below.pattern}
        if not self.numbers:
            return text
        number: dict[str, Any] = {"type": "number"}
        if self.min_value is not None:
            number["minimum"] = float(self.min_value)
            if self.positive:
                number["exclusiveMinimum"] = True
        if self.max_value is not None:
            number["maximum"] = float(self.max_value)
        meta = {key: text.pop(key) for key in ("description", "title", "default", "nullable") if key in text}
        return {"oneOf": [text, number], **meta}

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # DRF's DecimalField takes "" and "  " as null; the schema's null is null only.
        if isinstance(data, str) and not data.strip():
            self.fail("not_decimal_string")
        return serializers.Field.validate_empty_values(self, data)

    def to_internal_value(self, data: Any) -> Any:
        if self.numbers and isinstance(data, int | float) and not isinstance(data, bool):
            if data != data or data in (float("inf"), float("-inf")):
                self.fail("invalid")
            value = decimal.Decimal(str(data))
            if self.positive and value <= 0:
                self.fail("not_positive")
            return value  # the range validators run next (run_validation)
        if not isinstance(data, str) or not self.pattern.fullmatch(data) or (self.below and self.below.fullmatch(data)):
            if isinstance(data, str) and self.pattern.fullmatch(data):
                self.fail("not_positive" if self.positive else "min_value", min_value=self.min_value)
            self.fail("not_decimal_string")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's IntegerField also takes "5" and 5.0, which the schema's
    integer does not allow."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number only (not "1.5", not true)."""

    def to_internal_value(self, data: Any) -> float:
        if not isinstance(data, int | float) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true/false only: DRF's BooleanField also takes "yes", "1", 0... which the
    schema (type: boolean) does not allow."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ConfirmField(StrictBooleanField):
    """A confirmation: only `true` is accepted (the schema says so: enum [true])."""

    default_error_messages = {"not_true": "Must be true."}

    def to_internal_value(self, data: Any) -> bool:
        if super().to_internal_value(data) is not True:
            self.fail("not_true")
        return True

    def openapi_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {**schema, "enum": [True]}


def _json_types(field: serializers.Field) -> tuple[type, ...] | None:
    """The JSON types a body field documents, or None when the field checks for itself."""
    if isinstance(field, (MoneyInputField, StrictBooleanField, StrictIntegerField, StrictFloatField)):
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
