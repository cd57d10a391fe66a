"""The one JSON body decoder: the safety guard and DRF read a request body the same way.

Refuses, as a 400, what is not strict JSON (NaN and Infinity included) or nests deeper than
JSON_MAX_DEPTH (no API input comes near it, and recursive code further on — the guard's
walk, serializers, error flattening — must never meet a 10,000-deep array); as a 413, a body
over DATA_UPLOAD_MAX_MEMORY_SIZE. Pure but for that setting; no ORM."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from apps.core.exceptions import ApplicationError

JSON_MAX_DEPTH = 32


class MalformedJsonError(ApplicationError):
    status = 400
    code = "malformed_json"


class PayloadTooLargeError(ApplicationError):
    status = 413
    code = "payload_too_large"


def body_size_limit() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def payload_too_large_error() -> PayloadTooLargeError:
    limit = body_size_limit() or 0
    return PayloadTooLargeError(f"The request body is larger than {limit / (1024 * 1024):.1f} MB ({limit} bytes).")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_depth(value: Any, *, limit: int) -> int:
    """Nesting depth of a decoded JSON value, counted without recursion; stops past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def json_body_parse(raw: bytes | str, *, encoding: str = "utf-8") -> Any:
    """The decoded body, or MalformedJsonError / PayloadTooLargeError."""
    limit = body_size_limit()
    if limit is not None and len(raw) > limit:
        raise payload_too_large_error()
    try:
        text = raw.decode(encoding) if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, LookupError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise MalformedJsonError(f"The request body is not valid JSON: {exc}") from None
    if json_depth(value, limit=JSON_MAX_DEPTH) > JSON_MAX_DEPTH:
        raise _too_deep()
    return value


def _too_deep() -> MalformedJsonError:
    return MalformedJsonError(f"The request body is not valid JSON: nested too deep (at most {JSON_MAX_DEPTH} levels).")
