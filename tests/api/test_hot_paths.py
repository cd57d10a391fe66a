"""The fast paths of the hot endpoints answer exactly what the serializers and stock classes
would: ticker and candle dicts, the latest-candles memory cache, the per-process JWT user
cache and the fixed-window throttle."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from rest_framework.throttling import UserRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from apps.core.api_throttling import batch_size, counter_add, window_admit
from apps.market.cache import ticker_get
from apps.market.models import Candle
from apps.market.serializers import MarketCandleSerializer, MarketTickerSerializer
from tests.api.conftest import assert_error
from tests.api.factories import T0, candles_make, instrument_make, market_state_seed

pytestmark = pytest.mark.django_db
CANDLES = "/api/v1/markets/binance/BTCUSDT/candles/"


def test_ticker_dict_matches_serializer(api):
    instrument_make()
    market_state_seed(mid=Decimal("50000.123456789012345678901"))  # more places than money keeps
    body = api.get("/api/v1/markets/binance/BTCUSDT/ticker/").json()
    assert body == MarketTickerSerializer(ticker_get("binance", "BTCUSDT")).data
    assert body["last"] == "50000.123456789012345679"
    assert api.get("/api/v1/markets/tickers/").json() == [body]


def test_ticker_kept_briefly_and_absence_never(api, settings):
    settings.API_TICKER_CACHE_SECONDS = 3600  # long enough that the test cannot outrun it
    url = "/api/v1/markets/binance/BTCUSDT/ticker/"
    assert_error(api.get(url), 404)
    market_state_seed(mid=Decimal("100"))
    assert api.get(url).json()["last"] == "100"  # a missing ticker was not remembered
    market_state_seed(mid=Decimal("200"))
    assert api.get(url).json()["last"] == "100"  # from memory
    settings.API_TICKER_CACHE_SECONDS = 0
    assert api.get(url).json()["last"] == "200"


def test_candle_dicts_match_serializer(api, settings):
    settings.API_CANDLES_CACHE_SECONDS = 0
    candles_make(count=5)
    Candle.objects.filter(open_time=T0).update(volume=Decimal("0"), close=Decimal("0.000000000000000001"))
    expected = MarketCandleSerializer(Candle.objects.order_by("open_time"), many=True).data
    assert api.get(CANDLES + "?limit=5").json() == expected
    assert api.get(CANDLES + "?start=2026-01-01T00:00:00Z&limit=5").json() == expected


def test_latest_candles_cached_per_limit_but_ranges_never(api, settings):
    settings.API_CANDLES_CACHE_SECONDS = 3600  # long enough that the test cannot outrun it
    candles_make(count=3)
    assert len(api.get(CANDLES + "?limit=10").json()) == 3
    Candle.objects.create(
        exchange="binance", symbol="BTCUSDT", timeframe="1m", open_time=T0 + timedelta(minutes=3),
        open=1, high=1, low=1, close=1, volume=1, quote_volume=1,
    )  # fmt: skip
    assert len(api.get(CANDLES + "?limit=10").json()) == 3  # from memory
    assert len(api.get(CANDLES + "?limit=11").json()) == 4  # another key
    assert len(api.get(CANDLES + "?limit=10&end=2030-01-01T00:00:00Z").json()) == 4  # ranges: the database
    settings.API_CANDLES_CACHE_SECONDS = 0
    assert len(api.get(CANDLES + "?limit=10").json()) == 4


def test_deactivated_user_refused_at_once(api, user):
    assert api.get("/api/v1/portfolios/").status_code == 200  # the user row is now cached
    user.is_active = False
    user.save()
    assert_error(api.get("/api/v1/portfolios/"), 401, "user_inactive")


def test_cached_user_is_a_copy_per_request(api, user):
    # Two requests must not share one mutable user object.
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.core.auth_jwt import CachedUserJWTAuthentication

    auth = CachedUserJWTAuthentication()
    token = auth.get_validated_token(str(AccessToken.for_user(user)).encode())
    first, second = auth.get_user(token), auth.get_user(token)
    assert first == second == user and first is not second
    user.delete()
    with pytest.raises(Exception, match="not found"):
        auth.get_user(token)


def test_counter_counts_atomically_per_key():
    assert [counter_add("t:a", timeout=60) for _ in range(3)] == [1, 2, 3]
    assert counter_add("t:a", amount=5, timeout=60) == 8
    assert counter_add("t:b", timeout=60) == 1


def _shared(key: str) -> int:
    return counter_add(key, amount=0, timeout=60)


def test_window_counts_in_batches_far_from_the_limit():
    assert batch_size(1200) == 24 and batch_size(10**9) == 50 and batch_size(3) == 1
    assert all(window_admit("t:far", limit=1200, timeout=60) for _ in range(30))
    assert _shared("t:far") == 24  # one batch added; 6 requests still counted locally


def test_window_exact_near_the_limit():
    limit = 100  # batch of 2: from 98 on, every request goes to the shared counter
    results = [window_admit("t:near", limit=limit, timeout=60) for _ in range(limit + 2)]
    assert results == [True] * limit + [False, False]
    assert _shared("t:near") == limit + 2


def test_window_sees_other_processes_counts():
    counter_add("t:shared", amount=95, timeout=60)  # another process's requests
    results = [window_admit("t:shared", limit=100, timeout=60) for _ in range(8)]
    assert results.count(True) == 5 and results[-1] is False


def test_user_throttle_window_and_retry_after(api, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/hour", "anon": "2/hour"})
    codes = [api.get("/api/v1/markets/exchanges/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = api.get("/api/v1/markets/exchanges/")
    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_validated_token_kept_no_longer_than_its_expiry(user):
    import time
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    from apps.core import auth_jwt

    auth = auth_jwt.CachedUserJWTAuthentication()
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=10))
    raw = str(token).encode()
    assert auth.get_validated_token(raw) is auth.get_validated_token(raw)  # the second from memory
    deadline, _ = auth_jwt._tokens[raw]
    assert deadline == token["exp"] and deadline <= time.time() + 10
    refresh_raw = str(RefreshToken.for_user(user)).encode()
    with pytest.raises(Exception, match="not valid"):
        auth.get_validated_token(refresh_raw)  # a refresh token is never an access token
    assert refresh_raw not in auth_jwt._tokens
