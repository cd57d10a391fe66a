from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from apps.safety.environment import CheckResult, EnvironmentSnapshot, environment_checks, safety_ok, safety_score

GUARD = ("apps.safety.middleware.PaperTradingGuardMiddleware",)
DEV_KEY = "dev-key"
PROD = EnvironmentSnapshot(
    process_role="web",
    secret_key="x" * 20 + "a1b2c3d4e5f6g7h8i9j0" + "k" * 20,
    default_secret_key=DEV_KEY,
    allowed_hosts=("trade.example.com",),
    session_cookie_secure=True,
    csrf_cookie_secure=True,
    hsts_seconds=3600,
    middleware=GUARD,
)


def by_name(snapshot: EnvironmentSnapshot) -> dict[str, CheckResult]:
    return {r.name: r for r in environment_checks(snapshot)}


def test_safe_production_environment_scores_100():
    results = environment_checks(PROD)
    assert all(r.passed and r.applicable for r in results)
    assert safety_score(results) == Decimal("1") and safety_ok(results)


@pytest.mark.parametrize(
    ("change", "check", "message"),
    [
        ({"trading_simulation_only": "false"}, "simulation_only", "TRADING_SIMULATION_ONLY must be true, got 'false'"),
        ({"trading_simulation_only": ""}, "simulation_only", "TRADING_SIMULATION_ONLY must be true, got unset"),
        ({"paper_trading_mode": "no"}, "paper_trading_mode", "PAPER_TRADING_MODE must be true, got 'no'"),
        (
            {"allow_real_trades": "true"},
            "real_trades_disallowed",
            "ALLOW_REAL_TRADES must be false or unset, got 'true'",
        ),
        (
            {"middleware": ()},
            "paper_guard_installed",
            "MIDDLEWARE must be to include PaperTradingGuardMiddleware, got missing",
        ),
        ({"debug": True}, "debug_off", "DJANGO_DEBUG must be false, got true"),
        (
            {"secret_key": DEV_KEY},
            "secret_key",
            "DJANGO_SECRET_KEY must be a unique secret of at least 50 characters, got the built-in development key",
        ),
        ({"secret_key": "short-secret-value"}, "secret_key", "got 'sh***ue' (18 characters)"),
        ({"session_cookie_secure": False}, "session_cookie_secure", "SESSION_COOKIE_SECURE must be true, got false"),
        ({"csrf_cookie_secure": False}, "csrf_cookie_secure", "CSRF_COOKIE_SECURE must be true, got false"),
        (
            {"allowed_hosts": ("*",)},
            "allowed_hosts",
            "DJANGO_ALLOWED_HOSTS must be explicit host names (not '*'), got ['*']",
        ),
        ({"hsts_seconds": 0}, "hsts", "SECURE_HSTS_SECONDS must be > 0, got 0"),
        ({"exchange_keys": {"BINANCE_API_KEY": "k"}}, "exchange_key_pairs", "only one of the pair is set"),
        ({"exchange_keys": {"KUCOIN_API_KEY": "k", "KUCOIN_API_SECRET": "s"}}, "exchange_key_pairs", "KUCOIN"),
        (
            {"environ": {"BINANCE_TRADING_KEY": "abcdefghijklmnop"}},
            "no_trading_secrets",
            "BINANCE_TRADING_KEY='ab***op'",
        ),
        ({"environ": {"MY_WITHDRAWAL_SECRET": "abc"}}, "no_trading_secrets", "MY_WITHDRAWAL_SECRET='***'"),
        (
            {"environ": {"BINANCE_API_KEY_PERMISSIONS": "spot,trade"}},
            "no_trading_secrets",
            "BINANCE_API_KEY_PERMISSIONS",
        ),
    ],
)
def test_each_check_fails_with_a_named_masked_message(change, check, message):
    results = by_name(replace(PROD, **change))
    failing = [r for r in results.values() if not r.passed]
    assert [r.name for r in failing] == [check]
    assert message in failing[0].message
    assert failing[0].message.startswith("UnsafeEnvironmentError: ")


def test_secret_values_are_never_shown():
    result = by_name(replace(PROD, environ={"LIVE_BINANCE_KEY": "SUPERSECRETVALUE123"}))["no_trading_secrets"]
    assert "SUPERSECRETVALUE123" not in result.message


def test_unrelated_environment_names_pass():
    environ = {"BINANCE_API_KEY": "k", "PATH": "/bin", "TRADING_SIMULATION_ONLY": "true", "KUCOIN_REST_URL": "x"}
    assert by_name(replace(PROD, environ=environ))["no_trading_secrets"].passed


def test_production_checks_do_not_apply_to_embedded_and_test():
    for role in ("embedded", "test"):
        results = by_name(replace(PROD, process_role=role, debug=True, secret_key=DEV_KEY, allowed_hosts=("*",)))
        assert not results["debug_off"].applicable and results["debug_off"].passed
        assert safety_ok(list(results.values()))


def test_critical_failure_refuses_even_with_a_high_score():
    results = environment_checks(replace(PROD, middleware=()))
    assert safety_score(results) > Decimal("0.9")
    assert not safety_ok(results)


def _result(weight: int, passed: bool, critical: bool = False) -> CheckResult:
    return CheckResult("x", f"c{weight}{passed}", "V", "e", "a", passed, weight, critical)


def test_score_arithmetic_and_the_90_percent_edge():
    exactly_90 = [_result(90, True), _result(10, False)]
    assert safety_score(exactly_90) == Decimal("0.9") and safety_ok(exactly_90)
    just_below = [_result(8999, True), _result(1001, False)]
    assert safety_score(just_below) == Decimal("0.8999") and not safety_ok(just_below)
    # 89.996 % rounds down, never up into a pass
    almost = [_result(22499, True), _result(2501, False)]
    assert safety_score(almost) == Decimal("0.8999") and not safety_ok(almost)
    assert safety_score([]) == Decimal("1")
    not_applicable = CheckResult("x", "na", "V", "e", "a", True, 50, True, applicable=False)
    assert safety_score([_result(9, True), _result(1, False), not_applicable]) == Decimal("0.9")


def test_production_weights_put_the_edge_between_two_soft_failures():
    # cookies (4+4) + hosts (5): 13/118 lost = 88.98 % -> refused; cookies only: 93.2 % -> allowed
    soft = replace(PROD, session_cookie_secure=False, csrf_cookie_secure=False)
    assert safety_ok(environment_checks(soft))
    worse = replace(soft, allowed_hosts=("*",))
    assert safety_score(environment_checks(worse)) < Decimal("0.9")
    assert not safety_ok(environment_checks(worse))
