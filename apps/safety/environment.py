"""The environment safety validator. Pure: it judges a snapshot, it does not read one.

``EnvironmentSnapshot`` holds the switches, the relevant settings and the names/values of
the process environment; ``environment_checks`` returns one ``CheckResult`` per check and
``safety_score`` turns them into the score. Start-up needs a score of at least 90 % and
every critical check passing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

MIN_SCORE = Decimal("0.90")
PRODUCTION_ROLES = frozenset({"web", "worker", "beat", "feeds", "monitor"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE_OR_UNSET = frozenset({"", "0", "false", "no", "off"})

# Environment names that announce trading-capable credentials.
TRADING_SECRET_NAME_RE = re.compile(
    r"(TRAD(E|ING)_(API_)?(KEY|SECRET|TOKEN|PASSPHRASE)|WITHDRAW\w*_(KEY|SECRET)|LIVE_\w*(KEY|SECRET)|"
    r"REAL_\w*(KEY|SECRET)|(BINANCE|KUCOIN)\w*_(TRADE|TRADING|WITHDRAW)\w*)$"
)
# Permission hints operators sometimes put next to keys ("BINANCE_API_KEY_PERMISSIONS=spot,trade").
PERMISSION_HINT_NAME_RE = re.compile(r"(BINANCE|KUCOIN)\w*_(PERMISSIONS?|SCOPES?)$")
PERMISSION_HINT_VALUE_RE = re.compile(r"(trad|withdraw|transfer|margin|futures|spot)", re.IGNORECASE)


@dataclass(frozen=True)
class EnvironmentSnapshot:
    trading_simulation_only: str = "true"
    paper_trading_mode: str = "true"
    allow_real_trades: str = ""
    process_role: str = "embedded"
    debug: bool = False
    secret_key: str = ""
    default_secret_key: str = ""
    allowed_hosts: Sequence[str] = ()
    session_cookie_secure: bool = False
    csrf_cookie_secure: bool = False
    hsts_seconds: int = 0
    middleware: Sequence[str] = ()
    exchange_keys: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    id: str
    name: str
    variable: str
    expected: str
    actual: str
    passed: bool
    weight: int
    critical: bool
    applicable: bool = True

    @property
    def message(self) -> str:
        """UnsafeEnvironmentError-style: the variable, the expected and the actual value."""
        return f"UnsafeEnvironmentError: {self.variable} must be {self.expected}, got {self.actual}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": "" if self.passed else self.message}


def mask_secret(value: str) -> str:
    """Enough to recognise a secret, never enough to use it."""
    if not value:
        return "''"
    if len(value) <= 8:
        return "'***'"
    return f"'{value[:2]}***{value[-2:]}'"


def _norm(value: str) -> str:
    return str(value).strip().lower()


def _shown(value: str) -> str:
    return repr(value) if value != "" else "unset"


@dataclass(frozen=True)
class _Check:
    id: str
    name: str
    variable: str
    expected: str
    weight: int
    critical: bool
    production_only: bool
    judge: Callable[[EnvironmentSnapshot], tuple[bool, str]]


def _switch_true(attr: str) -> Callable[[EnvironmentSnapshot], tuple[bool, str]]:
    def judge(snap: EnvironmentSnapshot) -> tuple[bool, str]:
        value = getattr(snap, attr)
        return _norm(value) in _TRUE, _shown(value)

    return judge


def _allow_real_trades(snap: EnvironmentSnapshot) -> tuple[bool, str]:
    return _norm(snap.allow_real_trades) in _FALSE_OR_UNSET, _shown(snap.allow_real_trades)


def _no_trading_secret_names(snap: EnvironmentSnapshot) -> tuple[bool, str]:
    names = sorted(n for n, v in snap.environ.items() if v and TRADING_SECRET_NAME_RE.search(n.upper()))
    hints = sorted(
        n
        for n, v in snap.environ.items()
        if PERMISSION_HINT_NAME_RE.search(n.upper()) and PERMISSION_HINT_VALUE_RE.search(v or "")
    )
    offending = names + hints
    if not offending:
        return True, "none"
    return False, ", ".join(f"{n}={mask_secret(snap.environ[n])}" for n in offending)


def _key_pairs_complete(snap: EnvironmentSnapshot) -> tuple[bool, str]:
    keys = snap.exchange_keys
    problems = []
    binance = [keys.get("BINANCE_API_KEY", ""), keys.get("BINANCE_API_SECRET", "")]
    if any(binance) and not all(binance):
        problems.append("BINANCE_API_KEY/BINANCE_API_SECRET: only one of the pair is set")
    kucoin = [keys.get("KUCOIN_API_KEY", ""), keys.get("KUCOIN_API_SECRET", ""), keys.get("KUCOIN_API_PASSPHRASE", "")]
    if any(kucoin) and not all(kucoin):
        problems.append("KUCOIN_API_KEY/SECRET/PASSPHRASE: incomplete")
    return not problems, "; ".join(problems) or "complete or unset"


def _guard_installed(snap: EnvironmentSnapshot) -> tuple[bool, str]:
    wanted = "apps.safety.middleware.PaperTradingGuardMiddleware"
    return wanted in snap.middleware, "installed" if wanted in snap.middleware else "missing"


def _debug_off(snap: EnvironmentSnapshot) -> tuple[bool, str]:
    return not snap.debug, str(snap.debug).lower()


def _secret_key(snap: EnvironmentSnapshot) -> tuple[bool, str]:
    key = snap.secret_key
    ok = bool(key) and key != snap.default_secret_key and len(key) >= 50 and len(set(key)) >= 5
    if key == snap.default_secret_key:
        return False, "the built-in development key"
    return ok, f"{mask_secret(key)} ({len(key)} characters)"


def _flag(attr: str) -> Callable[[EnvironmentSnapshot], tuple[bool, str]]:
    def judge(snap: EnvironmentSnapshot) -> tuple[bool, str]:
        value = bool(getattr(snap, attr))
        return value, str(value).lower()

    return judge


def _allowed_hosts(snap: EnvironmentSnapshot) -> tuple[bool, str]:
    hosts = list(snap.allowed_hosts)
    return bool(hosts) and "*" not in hosts, repr(hosts)


def _hsts(snap: EnvironmentSnapshot) -> tuple[bool, str]:
    return snap.hsts_seconds > 0, str(snap.hsts_seconds)


CHECKS: tuple[_Check, ...] = (
    _Check("safety.E001", "simulation_only", "TRADING_SIMULATION_ONLY", "true", 20, True, False,
           _switch_true("trading_simulation_only")),
    _Check("safety.E002", "paper_trading_mode", "PAPER_TRADING_MODE", "true", 20, True, False,
           _switch_true("paper_trading_mode")),
    _Check("safety.E003", "real_trades_disallowed", "ALLOW_REAL_TRADES", "false or unset", 20, True, False,
           _allow_real_trades),
    _Check("safety.E004", "no_trading_secrets", "environment", "no trading/withdrawal credentials", 10, True, False,
           _no_trading_secret_names),
    _Check("safety.E005", "paper_guard_installed", "MIDDLEWARE", "to include PaperTradingGuardMiddleware", 10, True,
           False, _guard_installed),
    _Check("safety.W006", "exchange_key_pairs", "exchange API keys", "complete pairs or unset", 3, False, False,
           _key_pairs_complete),
    _Check("safety.E007", "debug_off", "DJANGO_DEBUG", "false", 10, True, True, _debug_off),
    _Check("safety.E008", "secret_key", "DJANGO_SECRET_KEY", "a unique secret of at least 50 characters", 10, True,
           True, _secret_key),
    _Check("safety.W009", "session_cookie_secure", "SESSION_COOKIE_SECURE", "true", 4, False, True,
           _flag("session_cookie_secure")),
    _Check("safety.W010", "csrf_cookie_secure", "CSRF_COOKIE_SECURE", "true", 4, False, True,
           _flag("csrf_cookie_secure")),
    _Check("safety.W011", "allowed_hosts", "DJANGO_ALLOWED_HOSTS", "explicit host names (not '*')", 5, False, True,
           _allowed_hosts),
    _Check("safety.W012", "hsts", "SECURE_HSTS_SECONDS", "> 0", 2, False, True, _hsts),
)  # fmt: skip


def environment_checks(snapshot: EnvironmentSnapshot) -> list[CheckResult]:
    """Every check, judged. Production-only checks are marked not applicable (and left out
    of the score) for the embedded and test roles."""
    production = snapshot.process_role in PRODUCTION_ROLES
    results = []
    for check in CHECKS:
        applicable = production or not check.production_only
        passed, actual = check.judge(snapshot) if applicable else (True, "not applicable")
        results.append(
            CheckResult(
                id=check.id,
                name=check.name,
                variable=check.variable,
                expected=check.expected,
                actual=actual,
                passed=passed,
                weight=check.weight,
                critical=check.critical,
                applicable=applicable,
            )
        )
    return results


def safety_score(results: Sequence[CheckResult]) -> Decimal:
    """Passed weight over total weight of the applicable checks, 0..1, rounded down to 4 places
    (rounding down so 89.996 % never shows as a passing 90 %)."""
    applicable = [r for r in results if r.applicable]
    total = sum(r.weight for r in applicable)
    if total == 0:
        return Decimal("1")
    passed = sum(r.weight for r in applicable if r.passed)
    return (Decimal(passed) / Decimal(total)).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)


def safety_ok(results: Sequence[CheckResult], *, min_score: Decimal = MIN_SCORE) -> bool:
    critical_ok = all(r.passed for r in results if r.applicable and r.critical)
    return critical_ok and safety_score(results) >= min_score
