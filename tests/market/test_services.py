from __future__ import annotations

from decimal import Decimal

import pytest

from apps.market.events import KlineEvent
from apps.market.feeds.instruments import binance_instruments, kucoin_instruments
from apps.market.models import Candle, Instrument
from apps.market.selectors import candle_last_open_map, feed_symbols
from apps.market.services import candles_retention_apply, candles_upsert, instruments_sync

pytestmark = pytest.mark.django_db
D = Decimal


def _k(open_ms, close="2", tf="1m"):
    return KlineEvent("binance", "BTCUSDT", tf, open_ms, D("1"), D("3"), D("0.5"), D(close), D("10"), D("20"), True, 0)


def test_candle_upsert_is_idempotent_and_updates():
    assert candles_upsert(candles=[_k(0), _k(60_000), _k(60_000, close="2.5")]) == 2
    candles_upsert(candles=[_k(0), _k(60_000, close="2.7")])
    rows = list(Candle.objects.order_by("open_time").values_list("close", flat=True))
    assert rows == [D("2"), D("2.7")]
    assert candle_last_open_map(exchange="binance", symbols=["BTCUSDT"]) == {("BTCUSDT", "1m"): 60_000}


def test_retention_deletes_old_candles():
    candles_upsert(candles=[_k(0)])
    assert candles_retention_apply(days=1) == 1


def test_instruments_sync_from_exchange_payloads(settings):
    settings.MARKET_SYMBOLS = ["BTCUSDT"]
    info = {
        "symbols": [
            {
                "symbol": "BTCUSDT",
                "status": "TRADING",
                "baseAsset": "BTC",
                "quoteAsset": "USDT",
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
                    {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
                    {"filterType": "NOTIONAL", "minNotional": "5.00000000"},
                ],
            },
            {"symbol": "LTCBTC", "status": "TRADING", "baseAsset": "LTC", "quoteAsset": "BTC", "filters": []},
        ]
    }
    assert instruments_sync(exchange="binance", rows=binance_instruments(info)) == 2
    btc = Instrument.objects.get(exchange="binance", symbol="BTCUSDT")
    assert btc.tick_size == D("0.01") and btc.min_notional == D("5") and btc.is_active
    assert not Instrument.objects.get(symbol="LTCBTC").is_active
    kc = [{"symbol": "BTC-USDT", "baseCurrency": "BTC", "quoteCurrency": "USDT", "baseMinSize": "0.00001", "baseMaxSize": "10000000000", "baseIncrement": "0.00000001", "priceIncrement": "0.1", "minFunds": "0.1", "enableTrading": True}]  # fmt: skip
    instruments_sync(exchange="kucoin", rows=kucoin_instruments(kc))
    k = Instrument.objects.get(exchange="kucoin", symbol="BTCUSDT")
    assert k.exchange_symbol == "BTC-USDT" and k.tick_size == D("0.1") and k.step_size == D("0.00000001")
    Instrument.objects.filter(exchange="kucoin").update(is_active=False)
    instruments_sync(exchange="kucoin", rows=kucoin_instruments(kc))  # the admin's choice is kept
    assert not Instrument.objects.get(exchange="kucoin", symbol="BTCUSDT").is_active
    assert feed_symbols(exchange="binance") == ["BTCUSDT"]
    assert feed_symbols(exchange="kucoin") == ["BTCUSDT"]  # nothing active: the settings default


def test_tasks_run_eagerly_without_feeds_in_process():
    from apps.market.tasks import candle_retention_task, feed_watchdog_task

    candles_upsert(candles=[_k(0)])
    assert candle_retention_task.delay().get() is None or Candle.objects.count() == 0
    assert feed_watchdog_task() == []
