"""MARKET_RECENT_TRADES: how many recent trades per symbol the feed keeps and the API serves."""

from __future__ import annotations

from decimal import Decimal

from django.test import override_settings

from apps.market.cache import cache_key
from apps.market.events import TradeEvent
from apps.market.feeds.embedded import feed_configs
from apps.market.feeds.runner import FeedRunner

URLS = {"binance_rest": "http://127.0.0.1:9", "binance_ws": "ws://127.0.0.1:9/"}


def _trade(n: int) -> TradeEvent:
    return TradeEvent("binance", "BTCUSDT", str(n), Decimal("100") + n, Decimal("1"), "buy", 60_000 + n)


@override_settings(MARKET_RECENT_TRADES=7)
def test_feed_configs_and_the_hub_keep_market_recent_trades():
    (config,) = feed_configs(urls=URLS, simulated=True, exchanges=("binance",), symbols=["BTCUSDT"])
    assert config.recent_trades == 7
    hub = FeedRunner(config).hub
    for n in range(20):
        hub.handle(_trade(n))
    items, _pushes = hub.flush(now=10.0)
    kept = items[cache_key("binance", "BTCUSDT", "trades")]
    assert [t.trade_id for t in kept] == [str(n) for n in range(13, 20)]
