"""What makes a trade request *not* a paper trade. Pure: no Django, no I/O.

The payload is walked recursively (nested dicts/lists), keys are normalised
(``apiKey``, ``X-MBX-APIKEY``, ``api key`` all become snake case) and each key/value
pair is judged. The rules are deliberately strict: a false refusal costs a retry, a
false acceptance could cost real money.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_DEPTH = 10
MAX_NODES = 2000

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEP_RE = re.compile(r"[^a-z0-9]+")

REAL_TOKENS = frozenset(
    {"live", "real", "mainnet", "production", "prod", "exchange", "binance", "kucoin", "broker", "external", "api"}
)
# Keys whose value says how/where an order executes.
MODE_KEYS = frozenset(
    {
        "mode",
        "trading_mode",
        "trade_mode",
        "order_mode",
        "execution_mode",
        "account_mode",
        "account_type",
        "environment",
        "env",
        "execution",
        "execute_on",
        "venue",
        "route",
        "routing",
        "destination",
        "target",
        "executor",
        "execution_venue",
    }
)
# Keys that must not be explicitly false: the request says "this is not paper".
PAPER_KEYS = frozenset(
    {
        "paper",
        "paper_trade",
        "paper_trading",
        "paper_mode",
        "paper_only",
        "simulated",
        "simulation",
        "simulation_only",
        "trading_simulation_only",
        "paper_trading_mode",
        "dry_run",
        "dryrun",
        "virtual",
        "sandbox",
    }
)
REAL_FLAG_EXACT = frozenset({"live", "real", "is_live", "is_real"})
REAL_FLAG_CONTEXT = frozenset(
    {"trade", "trades", "trading", "order", "orders", "execution", "exec", "money", "mode", "account", "funds"}
)
EXCHANGE_VERB_KEYS = frozenset(
    {
        "send_to_exchange",
        "execute_on_exchange",
        "use_exchange",
        "place_on_exchange",
        "exchange_execution",
        "submit_to_exchange",
        "route_to_exchange",
    }
)
ACCOUNT_QUALIFIERS = frozenset(
    {"exchange", "real", "live", "binance", "kucoin", "broker", "external", "sub", "api", "uid"}
)
SECRET_FRAGMENTS = (
    "api_key",
    "apikey",
    "api_secret",
    "apisecret",
    "secret",
    "passphrase",
    "private_key",
    "privatekey",
    "signature",
    "kc_api",
    "mbx_apikey",
)

_TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on", "t", "live", "real", "enabled", "enable"})
_FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", "f", "disabled", "disable", "none", "null", ""})


@dataclass(frozen=True)
class PaperViolation:
    field: str
    reason: str


def normalise_key(key: Any) -> str:
    return _normalise_text(key if isinstance(key, str) else str(key))


# Every order request carries the same dozen keys: normalising and classifying them once
# per process, not per request, takes the guard off the order hot path's profile. Bounded,
# so a stream of made-up keys cannot grow memory.
@lru_cache(maxsize=4096)
def _normalise_text(text: str) -> str:
    text = _CAMEL_RE.sub("_", text).lower()
    return _SEP_RE.sub("_", text).strip("_")


@dataclass(frozen=True, slots=True)
class _KeyRules:
    """Which rules a (normalised) key is subject to, whatever its value."""

    secret: bool
    mode: bool
    paper: bool
    exchange_verb: bool
    real_flag: bool
    account: bool

    def any(self) -> bool:
        return self.secret or self.mode or self.paper or self.exchange_verb or self.real_flag or self.account


@lru_cache(maxsize=4096)
def _key_rules(key: str) -> _KeyRules:
    tokens = set(key.split("_"))
    return _KeyRules(
        secret=any(fragment in key for fragment in SECRET_FRAGMENTS),
        mode=key in MODE_KEYS,
        paper=key in PAPER_KEYS,
        exchange_verb=key in EXCHANGE_VERB_KEYS,
        real_flag=key in REAL_FLAG_EXACT or bool(tokens & {"live", "real"} and tokens & REAL_FLAG_CONTEXT),
        account="account" in tokens and bool(tokens & ACCOUNT_QUALIFIERS),
    )


def _tokens(value: Any) -> set[str]:
    return {token for token in _SEP_RE.split(normalise_key(value)) if token}


def _truthiness(value: Any) -> bool | None:
    """True/False when the value clearly says so, None when it is unclear."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if value is None:
        return False
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE_WORDS:
            return True
        if lowered in _FALSE_WORDS:
            return False
    return None


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict | tuple) and not value)


def judge_pair(key: str, value: Any) -> str | None:
    """The reason this key/value makes the request a real-trading request, or None."""
    rules = _key_rules(key)
    if not rules.any():
        return None
    if rules.secret and not _is_empty(value):
        return "exchange credentials are never accepted in a trade request"
    if rules.mode and not isinstance(value, Mapping | list) and _tokens(value) & REAL_TOKENS:
        return f"asks for real execution ({key}={str(value)[:40]!r}); only paper trading exists"
    if rules.paper and _truthiness(value) is not True:
        return f"{key} must be true (paper trading only)"
    if rules.exchange_verb and _truthiness(value) is not False:
        return f"{key}: orders are never sent to an exchange"
    if rules.real_flag and _truthiness(value) is not False:
        return f"{key}: real/live trading is refused"
    if rules.account and not _is_empty(value):
        return f"{key}: real exchange accounts cannot be referenced"
    return None


def paper_violations(payload: Any) -> list[PaperViolation]:
    """Every reason the payload is not a plain paper trade request (empty: it is one)."""
    if not isinstance(payload, Mapping):
        return [PaperViolation(field="", reason="a trade request must be a JSON object")]
    found: list[PaperViolation] = []
    nodes = 0
    stack: list[tuple[str, Any, int]] = [("", payload, 0)]
    while stack:
        path, node, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            return [*found, PaperViolation(field=path, reason="request too deeply nested or too large to validate")]
        if isinstance(node, Mapping):
            for raw_key, value in node.items():
                key = normalise_key(raw_key)
                field = f"{path}.{raw_key}" if path else str(raw_key)
                reason = judge_pair(key, value)
                if reason:
                    found.append(PaperViolation(field=field, reason=reason))
                if isinstance(value, Mapping | list | tuple):
                    stack.append((field, value, depth + 1))
        elif isinstance(node, list | tuple):
            for index, value in enumerate(node):
                if isinstance(value, Mapping | list | tuple):
                    stack.append((f"{path}[{index}]", value, depth + 1))
    return found


def redact_payload(payload: Any, *, depth: int = 0) -> Any:
    """The payload for the audit log: secrets masked, size bounded."""
    if depth > MAX_DEPTH:
        return "…"
    if isinstance(payload, Mapping):
        result = {}
        for index, (key, value) in enumerate(payload.items()):
            if index >= 100:
                result["…"] = f"{len(payload) - 100} more keys"
                break
            secret = any(fragment in normalise_key(key) for fragment in SECRET_FRAGMENTS)
            result[_clean(str(key)[:100])] = (
                "***" if secret and not _is_empty(value) else redact_payload(value, depth=depth + 1)
            )
        return result
    if isinstance(payload, list | tuple):
        return [redact_payload(item, depth=depth + 1) for item in list(payload)[:100]]
    if isinstance(payload, str):
        return _clean(payload[:500])
    if isinstance(payload, bool | int | float) or payload is None:
        return payload
    return _clean(str(payload)[:500])


def _clean(text: str) -> str:
    """PostgreSQL text and JSON cannot hold NUL; an attacker must not be able to make the
    audit write fail with one."""
    return text.replace("\x00", "\\0")
