"""What makes a trade request *not* a paper trade. Pure: no Django, no I/O.

The payload is walked (nested dicts and lists), every key is read through
``apps.safety.markers`` (Unicode look-alikes, fullwidth, zero-width and combining characters
folded; ``apiKey``, ``X-MBX-APIKEY``, ``api key`` all snake case) and each key/value pair is
judged. Values are judged whatever their JSON type: ``mode: ["live"]`` and
``mode: {"name": "live"}`` are ``mode: live``; a flag that must say "paper" (``paper``,
``testnet``, ``simulate``, ``dry_run``...) must be clearly true, a flag that says "real" must
be clearly false, and anything unclear is refused. The rules are deliberately strict: a
false refusal costs a retry, a false acceptance could cost real money.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from apps.safety.markers import (
    CACHED_TEXT_MAX,
    TOO_LARGE,
    marker_compact,
    marker_text,
    marker_tokens,
    scalar_leaves,
    truthiness,
)

MAX_DEPTH = 10
MAX_NODES = 2000

# A mode-like value asking for real execution (matched against its words and against all of
# them run together, so ``live``, ``Live-Trading`` and ``l i v e`` all hit).
REAL_TOKENS = frozenset(
    {
        "live",
        "real",
        "mainnet",
        "production",
        "prod",
        "exchange",
        "binance",
        "kucoin",
        "broker",
        "external",
        "api",
        "livetrading",
        "livetrade",
        "realtrading",
        "realtrade",
        "realmoney",
        "liveaccount",
        "realaccount",
        "livemode",
        "realmode",
        "mainaccount",
    }
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
        "network",
    }
)
# Any key containing one of these words is judged like a mode key too (``x_mode``,
# ``execution_target``...): default-deny for keys nobody listed.
MODE_WORDS = frozenset({"mode", "execution", "venue", "environment", "env", "routing", "executor", "network"})
# Keys that must be clearly true: anything else says "this is not paper".
PAPER_KEYS = frozenset(
    {
        "paper",
        "paper_trade",
        "paper_trading",
        "paper_mode",
        "paper_only",
        "is_paper",
        "simulate",
        "simulated",
        "simulation",
        "simulation_only",
        "simulation_mode",
        "sim",
        "sim_mode",
        "is_simulated",
        "trading_simulation_only",
        "paper_trading_mode",
        "dry_run",
        "dry",
        "virtual",
        "sandbox",
        "sandbox_mode",
        "use_sandbox",
        "testnet",
        "use_testnet",
        "is_testnet",
        "testnet_only",
        "test",
        "test_mode",
        "test_order",
        "is_test",
        "demo",
        "demo_mode",
        "is_demo",
        "mock",
        "fake",
    }
)
# Any key containing one of these words is a paper flag too (``use_paper``, ``simOnly``...).
PAPER_WORDS = frozenset(
    {"paper", "sim", "simulate", "simulated", "simulation", "dry", "dryrun", "sandbox", "testnet", "virtual", "demo"}
)
# ... unless it is negated: ``not_paper: true`` asks for real execution.
NEGATION_WORDS = frozenset({"not", "no", "non", "disable", "disabled", "skip", "without", "off", "bypass"})
REAL_FLAG_EXACT = frozenset({"live", "real", "is_live", "is_real", "mainnet", "use_mainnet", "production", "prod"})
REAL_WORDS = frozenset({"live", "real", "mainnet"})
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
# A key naming an account or wallet (``account``, ``accountId``, ``sub_account``,
# ``binanceAccount``, ``wallet``): no paper order references one, so any value is refused.
ACCOUNT_FRAGMENTS = ("account", "acct", "wallet")
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


def _compacted(table: frozenset[str]) -> frozenset[str]:
    return frozenset(marker_compact(entry) for entry in table)


_MODE_COMPACT = _compacted(MODE_KEYS)
_PAPER_COMPACT = _compacted(PAPER_KEYS)
_REAL_FLAG_COMPACT = _compacted(REAL_FLAG_EXACT)
_EXCHANGE_VERB_COMPACT = _compacted(EXCHANGE_VERB_KEYS)
_SECRET_COMPACT = tuple(sorted({marker_compact(fragment) for fragment in SECRET_FRAGMENTS}))


@dataclass(frozen=True)
class PaperViolation:
    field: str
    reason: str


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


def _key_info(raw_key: Any) -> tuple[str, _KeyRules]:
    """The normalised key and the rules it is subject to: one cached look-up per key."""
    text = raw_key if isinstance(raw_key, str) else str(raw_key)
    return _key_info_cached(text) if len(text) <= CACHED_TEXT_MAX else _key_info_compute(text)


def _key_info_compute(text: str) -> tuple[str, _KeyRules]:
    key = marker_text(text)
    compact = marker_compact(key)
    tokens = {token for token in key.split("_") if token} | {compact}
    negated = bool(tokens & NEGATION_WORDS)
    paper_word = bool(tokens & PAPER_WORDS) or key in PAPER_KEYS or compact in _PAPER_COMPACT
    mode = key in MODE_KEYS or compact in _MODE_COMPACT or bool(tokens & MODE_WORDS)
    return key, _KeyRules(
        secret=any(fragment in compact for fragment in _SECRET_COMPACT),
        mode=mode,
        paper=paper_word and not negated,
        exchange_verb=key in EXCHANGE_VERB_KEYS or compact in _EXCHANGE_VERB_COMPACT,
        real_flag=(
            (paper_word and negated)
            or key in REAL_FLAG_EXACT
            or compact in _REAL_FLAG_COMPACT
            or bool(tokens & REAL_WORDS and tokens & REAL_FLAG_CONTEXT)
        ),
        account=not mode and any(fragment in compact for fragment in ACCOUNT_FRAGMENTS),
    )


# Per process, bounded like the key normaliser's cache (entries and entry size).
_key_info_cached = lru_cache(maxsize=4096)(_key_info_compute)


def _asks_for_real(value: Any) -> bool:
    """A mode-like value (a scalar, or anything inside lists and objects) names real execution."""
    return any(leaf is TOO_LARGE or marker_tokens(leaf) & REAL_TOKENS for leaf in scalar_leaves(value))


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict | tuple) and not value)


def _shown(value: Any) -> str:
    return repr(value)[:40] if isinstance(value, str) else str(value)[:40]


def judge_pair(raw_key: Any, value: Any) -> str | None:
    """The reason this key/value makes the request a real-trading request, or None."""
    key, rules = _key_info(raw_key)
    if not rules.any():
        return None
    if rules.secret and not _is_empty(value):
        return "exchange credentials are never accepted in a trade request"
    if rules.mode and _asks_for_real(value):
        return f"asks for real execution ({key}={_shown(value)}); only paper trading exists"
    if rules.paper and truthiness(value) is not True:
        return f"{key} must be true (paper trading only)"
    if rules.exchange_verb and truthiness(value) is not False:
        return f"{key}: orders are never sent to an exchange"
    if rules.real_flag and truthiness(value) is not False:
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
                field = f"{path}.{raw_key}" if path else str(raw_key)
                reason = judge_pair(raw_key, value)
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
            secret = _key_info(key)[1].secret
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
