from __future__ import annotations

from decimal import Decimal

import pytest

from apps.market import cache as market_cache
from apps.market.events import BookSnapshot, KlineEvent, TickerEvent, TradeEvent, register_event_listener
from apps.market.feeds.backoff import Backoff, RestPacer
from apps.market.feeds.hub import FeedHub
from apps.market.feeds.lease import FeedLease, shard_key

D = Decimal


def _trade(ts, price="100", qty="1", tid="1"):
    return TradeEvent("binance", "BTCUSDT", tid, D(price), D(qty), "buy", ts)


def test_hub_flush_writes_cache_and_coalesces_pushes():
    hub = FeedHub("binance", push_hz=4)
    hub.handle(_trade(60_000, "100"))
    hub.handle(_trade(60_500, "101", tid="2"))
    hub.handle(BookSnapshot("binance", "BTCUSDT", ((D("100.5"), D("2")),), ((D("101.5"), D("1")),), 60_600))
    hub.handle(TickerEvent("binance", "BTCUSDT", D("101"), D("90"), D("102"), D("89"), D("5"), D("500"), D("12.2"), 1))
    items, pushes = hub.flush(now=10.0)
    market_cache.cache_write_many(items)
    assert market_cache.book_get("binance", "BTCUSDT").best_bid == D("100.5")
    assert market_cache.ticker_get("binance", "BTCUSDT").last == D("101")
    assert [t.trade_id for t in market_cache.recent_trades_get("binance", "BTCUSDT", 5)] == ["2", "1"]
    forming = market_cache.forming_candle_get("binance", "BTCUSDT", "1d")
    assert forming.high == D("101") and forming.volume == D("2")
    ((group, message),) = pushes
    assert group == "market.binance.BTCUSDT" and message["type"] == "market.update"
    assert message["book"]["bid"] == "100.5" and message["ticker"]["last"] == "101"
    assert message["candles"]["1m"]["close"] == 101.0 and message["candles"]["1m"]["time"] == 60
    assert [t["price"] for t in message["trades"]] == ["100", "101"]
    # Within the push interval the symbol stays dirty: cache refreshed, no second push yet.
    hub.handle(_trade(61_000, "102", tid="3"))
    items, pushes = hub.flush(now=10.1)
    assert items and not pushes
    _, pushes = hub.flush(now=10.3)
    assert len(pushes) == 1 and pushes[0][1]["trades"][0]["price"] == "102"


def test_exchange_closed_klines_go_to_the_sink_and_listeners_see_every_event():
    sunk, seen = [], []
    hub = FeedHub("binance", closed_sink=sunk.extend)
    register_event_listener(seen.append)
    try:
        k = KlineEvent("binance", "BTCUSDT", "5m", 0, D(1), D(2), D(1), D(2), D(3), D(4), True, 299_999)
        hub.handle(k)
        hub.handle(_trade(1000))
    finally:
        from apps.market import events

        events._listeners.remove(seen.append)
    assert sunk == [k] and seen[0] is k and len(seen) == 2


def test_feed_status_down_without_heartbeat(settings):
    market_cache.feed_status_set("kucoin", state="live", reconnects=2, last_message_ts=5, lag_ms=1)
    assert market_cache.feed_status_get("kucoin")["state"] == "live"
    settings.MARKET_FEED_STALE_S = -1
    assert market_cache.feed_status_get("kucoin")["state"] == "down"


def test_backoff_grows_with_jitter_and_resets():
    b = Backoff(base=0.5, cap=8)
    delays = [b.next_delay() for _ in range(8)]
    assert all(0.5 <= d <= 8 for d in delays) and max(delays) > 1
    b.reset()
    assert b.next_delay() == 0.5


def test_rest_pacer_spaces_calls_and_honours_retry_after():
    now = [100.0]
    p = RestPacer(rate=10, clock=lambda: now[0])
    assert p.delay() == 0 and p.delay() == pytest.approx(0.1)
    p.block(2)
    assert p.delay() == pytest.approx(2)


def test_local_lease_is_exclusive_until_released():
    key = shard_key("binance", ["ETHUSDT", "BTCUSDT"])
    assert key == shard_key("binance", ["BTCUSDT", "ETHUSDT"])
    a, b = FeedLease(key, ttl_s=5), FeedLease(key, ttl_s=5)
    assert a.acquire() and not b.acquire() and a.renew() and not b.renew()
    a.release()
    assert b.acquire()
    b.release()


@pytest.mark.redis
def test_redis_lease_is_exclusive_across_clients(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    key = shard_key("kucoin", ["BTCUSDT"]) + ":test"
    client.delete(key)
    a, b = FeedLease(key, ttl_s=5, client=client), FeedLease(key, ttl_s=5, client=redis.Redis.from_url(redis_url))
    assert a.acquire() and not b.acquire()
    assert a.renew() and not b.renew()
    a.release()
    assert b.acquire()
    b.release()
    assert client.get(key) is None
