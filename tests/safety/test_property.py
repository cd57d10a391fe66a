"""Property tests: generated order requests, benign and malicious, thrown at the guard, the
order service and the API. None reaches a tripwire; none is missing from the audit log."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.exceptions import ApplicationError
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.guards import paper_trade_guard
from apps.safety.models import AuditEvent
from apps.safety.paper_rules import paper_violations

MALICIOUS = [
    ("mode", "live"),
    ("mode", "REAL"),
    ("trading_mode", "production"),
    ("execution", "exchange"),
    ("venue", "Binance"),
    ("route", "kucoin-spot"),
    ("live", True),
    ("real", "1"),
    ("real_money", "yes"),
    ("live_trading", 1),
    ("paper", False),
    ("paper_trading", "off"),
    ("dry_run", 0),
    ("simulated", "no"),
    ("send_to_exchange", True),
    ("exchange_account_id", 17),
    ("real_account", "main"),
    ("api_key", "AKIA123"),
    ("api_secret", "s3cr3t"),
    ("passphrase", "pp"),
    ("signature", "deadbeef"),
    ("X-MBX-APIKEY", "abc"),
    ("KC-API-KEY", "abc"),
    ("allow_real_trades", "true"),
    ("TRADING_SIMULATION_ONLY", "false"),
    ("PAPER_TRADING_MODE", False),
]
BENIGN_KEYS = ["note", "tag", "strategy", "reason", "comment", "bot", "leg", "meta", "exchange"]


def _key_variant(key: str, style: int) -> str:
    parts = re.split(r"[_\-]", key)
    if style == 1:
        return parts[0].lower() + "".join(p.capitalize() for p in parts[1:])
    if style == 2:
        return key.upper()
    if style == 3:
        return "-".join(parts)
    return key


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=20), st.sampled_from(["paper", "sim"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
benign = st.dictionaries(st.sampled_from(BENIGN_KEYS) | st.text(max_size=12), values, max_size=5)


@st.composite
def requests_(draw, allow_nul: bool = True):
    payload = draw(benign)
    injected = draw(st.none() | st.sampled_from(MALICIOUS))
    if injected is not None:
        key, value = injected
        key = _key_variant(key, draw(st.integers(0, 3)))
        if draw(st.booleans()):
            payload[key] = value
        else:
            payload[draw(st.sampled_from(["meta", "settings", "legs"]))] = {key: value}
    text = json.dumps(payload, default=str)
    if not allow_nul and "\x00" in text:
        payload = json.loads(text.replace("\\u0000", ""))
    return payload, injected


@settings(max_examples=1000, deadline=None)
@given(requests_())
def test_every_injected_real_trading_flag_is_found(case):
    payload, injected = case
    if injected is not None:
        assert paper_violations(payload), payload


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=requests_())
def test_guard_refusals_are_always_audited(case):
    payload, injected = case
    before = AuditEvent.objects.count()
    try:
        paper_trade_guard(payload={"symbol": "BTCUSDT", **payload}, actor="prop", source="api")
    except RealTradingAttemptError:
        assert AuditEvent.objects.count() == before + 1
        assert AuditEvent.objects.order_by("-id").first().result == "refused"
    else:
        assert injected is None
        assert AuditEvent.objects.count() == before


@pytest.fixture
def sim(tmp_path):
    from apps.market.simulator.server import ExchangeSimulator

    simulator = ExchangeSimulator(seed=3, symbols=["BTCUSDT"], tripwire_log=tmp_path / "tripwires.jsonl")
    simulator.start_in_thread()
    yield simulator
    simulator.stop_thread()


@pytest.mark.django_db
def test_order_service_and_api_audit_every_generated_request(sim, client, django_user_model, settings_):
    from apps.portfolio.services import portfolio_create
    from apps.portfolio.services.orders import order_place

    user = django_user_model.objects.create_user("prop", password="pw-123456789")
    portfolio = portfolio_create(owner=user, name="p", starting_balances={"USDT": "1000"}, latency_ms=0)
    client.force_login(user)
    seen = {"service": 0, "api": 0}

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=requests_(allow_nul=False))
    def service(case):
        payload, injected = case
        before = AuditEvent.objects.count()
        with pytest.raises(ApplicationError) if injected else _maybe_raises():
            order_place(
                portfolio=portfolio,
                actor=user,
                symbol="BTCUSDT",
                side="buy",
                order_type="market",
                quantity="0.001",
                extra=payload,
            )
        assert AuditEvent.objects.count() > before
        seen["service"] += 1

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=requests_(allow_nul=False))
    def api(case):
        payload, injected = case
        before = AuditEvent.objects.count()
        body = {
            **payload,
            "portfolio": portfolio.pk,
            "symbol": "BTCUSDT",
            "side": "buy",
            "type": "market",
            "quantity": "0.001",
        }
        response = client.post("/api/v1/orders/", data=json.dumps(body, default=str), content_type="application/json")
        if injected:
            assert response.status_code == 403, (body, response.content)
            assert response.json()["error"]["code"] == "real_trading_refused"
        if response.status_code == 403:
            assert AuditEvent.objects.count() == before + 1
        seen["api"] += 1

    service()
    api()
    assert seen["service"] and seen["api"]
    assert sim.tripwire_hits == []


class _maybe_raises:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return exc_type is not None and issubclass(exc_type, ApplicationError)


@pytest.fixture
def settings_(settings):
    return settings
