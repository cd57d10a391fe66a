"""API key permission validator against the simulator's signed endpoints."""

from __future__ import annotations

import pytest
from django.core import checks

from apps.market.simulator.server import ExchangeSimulator
from apps.safety.checks import safety_api_keys_check
from apps.safety.keys import (
    STATUS_NOT_CONFIGURED,
    STATUS_OK,
    STATUS_UNSAFE,
    STATUS_UNVERIFIED,
    api_key_status_latest,
    api_keys_verify,
    binance_key_judge,
    kucoin_key_judge,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    simulator = ExchangeSimulator(seed=9, symbols=["BTCUSDT"], tripwire_log=tmp_path_factory.mktemp("k") / "t.jsonl")
    simulator.start_in_thread()
    simulator.add_api_key("binance", "b-ro", "b-ro-secret")
    simulator.add_api_key("binance", "b-trade", "b-t-secret", permissions={"enableSpotAndMarginTrading": True})
    simulator.add_api_key(
        "binance", "b-wd", "b-wd-secret", permissions={"enableWithdrawals": True, "permitsUniversalTransfer": True}
    )
    simulator.add_api_key("kucoin", "k-ro", "k-ro-secret", passphrase="pp")
    simulator.add_api_key("kucoin", "k-trade", "k-t-secret", passphrase="pp", permissions="General,Spot,Transfer")
    yield simulator
    assert simulator.tripwire_hits == []
    simulator.stop_thread()


def verify(sim, **keys):
    return {
        r.exchange: r
        for r in api_keys_verify(
            binance_rest_url=sim.binance_rest_url,
            binance_ws_url=sim.binance_ws_url,
            kucoin_rest_url=sim.kucoin_rest_url,
            timeout=5,
            **keys,
        )
    }


def test_no_keys_is_fine(sim):
    results = verify(sim)
    assert results["binance"].status == results["kucoin"].status == STATUS_NOT_CONFIGURED


def test_read_only_keys_are_accepted(sim):
    results = verify(
        sim,
        binance_api_key="b-ro",
        binance_api_secret="b-ro-secret",
        kucoin_api_key="k-ro",
        kucoin_api_secret="k-ro-secret",
        kucoin_api_passphrase="pp",
    )
    assert results["binance"].status == STATUS_OK and results["kucoin"].status == STATUS_OK
    assert results["kucoin"].permissions == ("General",)


def test_trade_enabled_keys_are_refused_naming_permissions(sim):
    results = verify(
        sim,
        binance_api_key="b-trade",
        binance_api_secret="b-t-secret",
        kucoin_api_key="k-trade",
        kucoin_api_secret="k-t-secret",
        kucoin_api_passphrase="pp",
    )
    assert results["binance"].status == STATUS_UNSAFE and results["binance"].fatal
    assert "enableSpotAndMarginTrading" in results["binance"].message
    assert results["kucoin"].status == STATUS_UNSAFE
    assert "Spot, Transfer" in results["kucoin"].message
    withdraw = verify(sim, binance_api_key="b-wd", binance_api_secret="b-wd-secret")["binance"]
    assert withdraw.permissions == ("enableWithdrawals", "permitsUniversalTransfer")


def test_wrong_signatures_are_rejected_and_reported_unverified(sim):
    results = verify(
        sim,
        binance_api_key="b-ro",
        binance_api_secret="wrong",
        kucoin_api_key="k-ro",
        kucoin_api_secret="wrong",
        kucoin_api_passphrase="pp",
    )
    assert results["binance"].status == STATUS_UNVERIFIED and "-1022" in results["binance"].message
    assert results["kucoin"].status == STATUS_UNVERIFIED and not results["kucoin"].fatal
    bad_passphrase = verify(sim, kucoin_api_key="k-ro", kucoin_api_secret="k-ro-secret", kucoin_api_passphrase="x")
    assert bad_passphrase["kucoin"].status == STATUS_UNVERIFIED


def test_unreachable_exchange_is_unverified_not_fatal():
    results = {
        r.exchange: r
        for r in api_keys_verify(
            binance_rest_url="http://127.0.0.1:9",
            binance_ws_url="ws://127.0.0.1:9/",
            kucoin_rest_url="http://127.0.0.1:9",
            binance_api_key="k",
            binance_api_secret="s",
            kucoin_api_key="k",
            kucoin_api_secret="s",
            kucoin_api_passphrase="p",
            timeout=2,
        )
    }
    assert {r.status for r in results.values()} == {STATUS_UNVERIFIED}


def test_start_up_check_refuses_trade_enabled_keys(sim, settings, refused_events):
    settings.BINANCE_REST_URL, settings.BINANCE_WS_URL = sim.binance_rest_url, sim.binance_ws_url
    settings.KUCOIN_REST_URL = sim.kucoin_rest_url
    settings.BINANCE_API_KEY, settings.BINANCE_API_SECRET = "b-trade", "b-t-secret"
    messages = safety_api_keys_check()
    assert [m.id for m in messages] == ["safety.E200"] and messages[0].level == checks.ERROR
    assert "enableSpotAndMarginTrading" in messages[0].msg
    assert api_key_status_latest()["keys"][0]["status"] == STATUS_UNSAFE
    assert refused_events(action="api_key_trading_enabled")
    settings.BINANCE_API_KEY, settings.BINANCE_API_SECRET = "b-ro", "b-ro-secret"
    assert safety_api_keys_check() == []
    settings.BINANCE_API_SECRET = "wrong"
    assert [m.id for m in safety_api_keys_check()] == ["safety.W201"]


def test_daily_task_records_the_status(sim, settings):
    from apps.safety.tasks import api_key_check_task

    settings.KUCOIN_REST_URL = sim.kucoin_rest_url
    settings.KUCOIN_API_KEY, settings.KUCOIN_API_SECRET, settings.KUCOIN_API_PASSPHRASE = "k-ro", "k-ro-secret", "pp"
    result = api_key_check_task.apply().get()
    assert [r["status"] for r in result] == [STATUS_NOT_CONFIGURED, STATUS_OK]
    assert "safety-key-permissions-daily" in settings.CELERY_BEAT_SCHEDULE


def test_judges():
    assert binance_key_judge({"enableReading": True}).status == STATUS_OK
    assert binance_key_judge({"enableReading": False}).status == STATUS_UNVERIFIED
    assert binance_key_judge({"enableReading": True, "enableNewTradingThing": True}).permissions == (
        "enableNewTradingThing",
    )
    assert kucoin_key_judge({"permission": "General"}).status == STATUS_OK
    assert kucoin_key_judge({"permission": "General,Margin"}).permissions == ("Margin",)
    assert kucoin_key_judge({}).status == STATUS_UNVERIFIED
