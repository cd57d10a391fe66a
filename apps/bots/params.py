"""DRF serializers and Django forms built from the parameter declarations.

``strategy_params_serializer(name)`` (API) and ``strategy_params_form(name, data)`` (HTMX
form with live validation; admin) are generated from the same ``Param`` list the pure
validator uses, and both finish with that validator, so every entry point accepts and
rejects exactly the same input with the same field-level messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from django import forms
from rest_framework import serializers

from apps.bots.risk import RISK_PARAMS, risk_clean
from apps.bots.strategies import Param, ParamsInvalid, strategy_class, strategy_clean_params
from apps.core.api_serializers import (
    MoneyInputField,
    StrictBooleanField,
    StrictFieldsMixin,
    StrictFloatField,
    StrictIntegerField,
)

_DECIMAL_PLACES = 18
_MAX_DIGITS = 36


def _drf_field(param: Param) -> serializers.Field:
    """The API's field for a parameter: JSON-typed (a decimal is a decimal string or a JSON
    number), so the schema it documents is exactly what it accepts."""
    common: dict[str, Any] = {"required": False, "help_text": param.help, "label": param.verbose_name}
    if param.kind == "int":
        return StrictIntegerField(min_value=param.min, max_value=param.max, **common)
    if param.kind == "float":
        return StrictFloatField(min_value=param.min, max_value=param.max, **common)
    if param.kind == "decimal":
        return MoneyInputField(numbers=True, min_value=param.min, max_value=param.max, **common)
    if param.kind == "choice":
        return serializers.ChoiceField(choices=list(param.choices), **common)
    return StrictBooleanField(**common)


def _form_field(param: Param) -> forms.Field:
    common: dict[str, Any] = {
        "required": False,
        "help_text": param.help,
        "label": param.verbose_name,
        "initial": param.default,
    }
    if param.kind == "int":
        return forms.IntegerField(min_value=param.min, max_value=param.max, **common)
    if param.kind == "float":
        return forms.FloatField(min_value=param.min, max_value=param.max, **common)
    if param.kind == "decimal":
        return forms.DecimalField(
            max_digits=_MAX_DIGITS, decimal_places=_DECIMAL_PLACES, min_value=param.min, max_value=param.max, **common
        )
    if param.kind == "choice":
        return forms.ChoiceField(choices=[(c, c) for c in param.choices], **common)
    return forms.BooleanField(**common)


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != ""}


class _ParamsSerializerBase(StrictFieldsMixin, serializers.Serializer):
    """Unknown keys are errors (a typo must not fall back to a default silently)."""

    unknown_field_message = "Unknown parameter."  # the pure validator's words
    clean_params: Any = None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            return type(self).clean_params(_present(attrs))
        except ParamsInvalid as exc:
            raise serializers.ValidationError(exc.errors) from None


def _serializer_class(name: str, params: Iterable[Param], clean: Any) -> type[serializers.Serializer]:
    attrs: dict[str, Any] = {p.name: _drf_field(p) for p in params}
    attrs["clean_params"] = staticmethod(clean)
    attrs["openapi_additional_properties"] = False  # unknown keys are refused (apps.core.api_schema)
    return type(name, (_ParamsSerializerBase,), attrs)


@cache
def strategy_params_serializer(name: str) -> type[serializers.Serializer]:
    """A Serializer class for ``name``'s parameters; ``validated_data`` is the typed params."""
    cls = strategy_class(name)
    camel = "".join(part.title() for part in name.split("_"))
    return _serializer_class(f"{camel}ParamsSerializer", cls.params, lambda data: strategy_clean_params(name, data))


@cache
def risk_params_serializer() -> type[serializers.Serializer]:
    return _serializer_class("BotRiskParamsSerializer", RISK_PARAMS, lambda data: vars_of(risk_clean(data)))


def vars_of(settings: Any) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__slots__}


class _ParamsFormBase(forms.Form):
    clean_params: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            return type(self).clean_params(_present(cleaned))
        except ParamsInvalid as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


def _form_class(name: str, params: Iterable[Param], clean: Any) -> type[forms.Form]:
    attrs: dict[str, Any] = {p.name: _form_field(p) for p in params}
    attrs["clean_params"] = staticmethod(clean)
    return type(name, (_ParamsFormBase,), attrs)


@cache
def _strategy_form_class(name: str) -> type[forms.Form]:
    cls = strategy_class(name)
    return _form_class(f"{cls.__name__}ParamsForm", cls.params, lambda data: strategy_clean_params(name, data))


@cache
def _risk_form_class() -> type[forms.Form]:
    return _form_class("BotRiskParamsForm", RISK_PARAMS, lambda data: vars_of(risk_clean(data)))


def strategy_params_form(
    name: str, data: Mapping[str, Any] | None = None, *, prefix: str | None = "params"
) -> forms.Form:
    """A bound (``data`` given) or unbound form for ``name``'s parameters. Field names are
    prefixed (``params-period``) so it can sit in one HTML form with the bot's own fields."""
    return _strategy_form_class(name)(data=data, prefix=prefix)


def risk_params_form(data: Mapping[str, Any] | None = None, *, prefix: str | None = "risk") -> forms.Form:
    return _risk_form_class()(data=data, prefix=prefix)
