"""Issue 18 finding 2: a forged X-Forwarded-For must not choose the client IP that the login
lockout, the anonymous throttle and the audit log key on (apps/core/client_ip.py)."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.safety.models import AuditEvent
from tests.api.conftest import PASSWORD

REAL = "203.0.113.9"
NGINX = "10.0.0.2"
PROXIES = ["10.0.0.0/24"]


def _obtain(client: APIClient, password: str, forged: str):
    return client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": password},
        format="json",
        HTTP_X_FORWARDED_FOR=forged,
    )


def _forged(n: int) -> str:
    return f"198.18.{n // 250}.{n % 250 + 1}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("peer", "trusted", "header"),
    [
        # Nobody trusted (the default): daphne sees the client itself.
        (REAL, [], lambda forged: forged),
        # Behind nginx (trusted): an appending proxy adds the real address after the forgery.
        (NGINX, PROXIES, lambda forged: f"{forged}, {REAL}"),
    ],
    ids=["direct", "behind-trusted-proxy"],
)
def test_forged_ip_guesses_lock_the_real_client(user, peer, trusted, header):
    client = APIClient(REMOTE_ADDR=peer)
    limit = 5
    with override_settings(TRUSTED_PROXIES=trusted, LOGIN_LOCKOUT_ATTEMPTS=limit):
        codes = [_obtain(client, "wrong", header(_forged(n))).status_code for n in range(40)]
        # The right password from yet another forged address, while the real one is locked.
        locked = _obtain(client, PASSWORD, header("198.19.0.1"))
    assert codes == [401] * limit + [429] * (40 - limit)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "login_locked"
    assert "access" not in locked.json()


@pytest.mark.django_db
def test_behind_trusted_proxy_each_real_client_has_its_own_lockout(user):
    proxy = APIClient(REMOTE_ADDR=NGINX)
    with override_settings(TRUSTED_PROXIES=PROXIES, LOGIN_LOCKOUT_ATTEMPTS=3):
        for n in range(3):
            _obtain(proxy, "wrong", f"{_forged(n)}, {REAL}")
        assert _obtain(proxy, PASSWORD, REAL).status_code == 429
        # Another client through the same proxy is not locked by the first one's guesses:
        # the proxy-appended address is the client, not the proxy's own.
        assert _obtain(proxy, PASSWORD, "198.51.100.8").status_code == 200


def _anon_verify(client: APIClient, forged: str) -> int:
    return client.post(
        "/api/v1/auth/token/verify/", {"token": "x"}, format="json", HTTP_X_FORWARDED_FOR=forged
    ).status_code


@pytest.fixture
def anon_rate():
    """Sets the anonymous rate (read at class definition: the class is patched)."""
    from rest_framework.throttling import AnonRateThrottle

    original = AnonRateThrottle.THROTTLE_RATES

    def set_rate(rate: str) -> None:
        AnonRateThrottle.THROTTLE_RATES = {**original, "anon": rate}

    yield set_rate
    AnonRateThrottle.THROTTLE_RATES = original


@pytest.mark.django_db
def test_anonymous_throttle_holds_with_forged_forwarded_for(anon_rate):
    limit = 10
    anon_rate(f"{limit}/min")
    client = APIClient(REMOTE_ADDR=REAL)
    # Fixed one-minute windows: however the requests fall across a boundary, two windows
    # admit at most 2 x limit, so the next one must be refused.
    codes = [_anon_verify(client, _forged(n)) for n in range(2 * limit + 1)]
    assert 429 in codes, codes
    assert set(codes) <= {401, 429}


@pytest.mark.django_db
def test_anonymous_throttle_behind_trusted_proxy_counts_the_proxy_appended_address(anon_rate):
    limit = 3
    anon_rate(f"{limit}/min")
    proxy = APIClient(REMOTE_ADDR=NGINX)
    with override_settings(TRUSTED_PROXIES=PROXIES):
        first = [_anon_verify(proxy, f"{_forged(n)}, {REAL}") for n in range(2 * limit + 1)]
        other = _anon_verify(proxy, "198.51.100.8")
    assert 429 in first, first
    assert other == 401  # a different real client behind the same proxy has its own budget


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("peer", "trusted", "header", "recorded"),
    [
        (REAL, [], "6.6.6.6", REAL),
        (NGINX, PROXIES, f"6.6.6.6, {REAL}", REAL),
    ],
    ids=["direct", "behind-trusted-proxy"],
)
def test_audit_records_the_resolved_client_ip(api, peer, trusted, header, recorded):
    body = {"symbol": "BTCUSDT", "side": "buy", "type": "market", "quantity": "0.01", "execution": "exchange"}
    with override_settings(TRUSTED_PROXIES=trusted):
        response = api.post(
            "/api/v1/orders/",
            data=json.dumps(body),
            content_type="application/json",
            REMOTE_ADDR=peer,
            HTTP_X_FORWARDED_FOR=header,
        )
    assert response.status_code == 403
    assert AuditEvent.objects.get(action="trade_refused_http").source_ip == recorded


def test_log_records_carry_the_resolved_client_ip(rf):
    import logging

    from django.http import HttpResponse

    from apps.core.logging import RequestContextFilter, RequestIdMiddleware

    seen = []

    def view(request):
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "m", (), None)
        RequestContextFilter().filter(record)
        seen.append(record.client_ip)
        return HttpResponse()

    middleware = RequestIdMiddleware(view)
    with override_settings(TRUSTED_PROXIES=PROXIES):
        middleware(rf.get("/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"6.6.6.6, {REAL}"))
        middleware(rf.get("/", REMOTE_ADDR=REAL, HTTP_X_FORWARDED_FOR="6.6.6.6"))
    assert seen == [REAL, REAL]
