"""Parameter declarations: the one description of a strategy's knobs (pure, no Django).

A strategy lists its ``Param``s once; that list drives the pure validator below, the DRF
serializer and the Django form (``apps.bots.params``) and the admin. Values are stored in
the bot's JSON ``params``: decimals as strings so no precision is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

ParamKind = Literal["int", "float", "decimal", "choice", "bool"]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind
    default: Any
    help: str = ""
    min: int | float | Decimal | None = None
    max: int | float | Decimal | None = None
    choices: tuple[str, ...] = ()
    label: str = ""

    @property
    def verbose_name(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def describe(self) -> dict[str, Any]:
        """JSON-friendly description (API schema endpoint, UI hints)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "label": self.verbose_name,
            "default": to_json_value(self.default),
            "min": to_json_value(self.min),
            "max": to_json_value(self.max),
            "choices": list(self.choices),
            "help": self.help,
        }


class ParamsInvalid(ValueError):
    """Field-level errors: ``errors`` maps a parameter name to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class ParamsRuleBroken(ParamsInvalid):
    """Each value is valid alone, a rule between them is broken (fast < slow): the API
    answers 422, where a field error is a 400."""


def to_json_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _coerce(param: Param, raw: Any) -> Any:
    """Convert one raw value (JSON, form string or Python) to the declared type."""
    if param.kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "1", "on", "yes", "false", "0", "off", "no", ""):
            return raw.strip().lower() in ("true", "1", "on", "yes")
        raise ValueError("Must be true or false.")
    if param.kind == "choice":
        if raw not in param.choices:
            raise ValueError(f"Must be one of: {', '.join(param.choices)}.")
        return raw
    if isinstance(raw, bool):
        raise ValueError("Must be a number.")
    if param.kind == "int":
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError("Must be a whole number.")
        try:
            return int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)
        except ValueError:
            raise ValueError("Must be a whole number.") from None
    if param.kind == "decimal":
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError("Must be a decimal number.") from None
        if not value.is_finite():
            raise ValueError("Must be a finite number.")
        return value
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise ValueError("Must be a number.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("Must be a finite number.")
    return number


def _check_range(param: Param, value: Any) -> None:
    if param.min is not None and value < param.min:
        raise ValueError(f"Must be at least {param.min}.")
    if param.max is not None and value > param.max:
        raise ValueError(f"Must be at most {param.max}.")


def clean_param(param: Param, raw: Any) -> Any:
    value = _coerce(param, raw)
    if param.kind in ("int", "float", "decimal"):
        _check_range(param, value)
    return value


def validate_params(
    params: Iterable[Param], data: Mapping[str, Any] | None, *, partial: bool = False
) -> dict[str, Any]:
    """Return typed values (defaults filled in) or raise ``ParamsInvalid`` with every error.

    Unknown keys and nulls are errors too: a typo or a null must not silently fall back to a
    default (forms leave out the fields left empty before they call this)."""
    data = dict(data or {})
    declared = {p.name: p for p in params}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in data:
        if name not in declared:
            errors.setdefault(name, []).append("Unknown parameter.")
    for name, param in declared.items():
        if name in data and data[name] is None:
            errors.setdefault(name, []).append("This field may not be null.")
            continue
        if name not in data or data[name] == "":
            if not partial:
                cleaned[name] = param.default
            continue
        try:
            cleaned[name] = clean_param(param, data[name])
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    if errors:
        raise ParamsInvalid(errors)
    return cleaned


def params_to_json(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_json_value(v) for k, v in values.items()}
