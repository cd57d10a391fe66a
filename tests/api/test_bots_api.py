from __future__ import annotations

import pytest

from apps.bots.services import bot_create, bot_event_record
from apps.portfolio.services import portfolio_create
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(user):
    return portfolio_create(owner=user, name="main")


@pytest.fixture
def bot(user, portfolio):
    return bot_create(owner=user, portfolio=portfolio, name="rsi", symbol="BTCUSDT", strategy="rsi_mean_reversion")


@pytest.fixture
def their_bot(other_user):
    theirs = portfolio_create(owner=other_user, name="theirs")
    return bot_create(owner=other_user, portfolio=theirs, name="x", symbol="ETHUSDT", strategy="ma_crossover")


def test_strategies_listed(api):
    names = [s["name"] for s in api.get("/api/v1/bots/strategies/").json()]
    assert "rsi_mean_reversion" in names and "grid" in names


def test_bot_create_list_update_lifecycle(api, portfolio):
    created = api.post(
        "/api/v1/bots/",
        {
            "name": "mean",
            "portfolio": portfolio.pk,
            "symbol": "btcusdt",
            "timeframe": "5m",
            "strategy": "rsi_mean_reversion",
            "params": {"period": 10},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    bot = created.json()
    assert bot["symbol"] == "BTCUSDT" and bot["status"] == "stopped" and bot["params"]["period"] == 10
    assert api.get("/api/v1/bots/").json()["count"] == 1

    url = f"/api/v1/bots/{bot['id']}/"
    assert api.patch(url, {"name": "renamed"}, format="json").json()["name"] == "renamed"
    assert api.post(url + "start/").json()["status"] == "running"
    # Strategy cannot change while running: 409.
    assert_error(api.patch(url, {"strategy": "grid"}, format="json"), 409, "bot_running")
    assert api.post(url + "pause/", {"reason": "lunch"}, format="json").json()["status"] == "paused"
    assert api.post(url + "pause/").json()["status"] == "paused"  # idempotent
    assert api.post(url + "stop/").json()["status"] == "stopped"
    assert_error(api.post(url + "pause/"), 409, "bot_state")  # a stopped bot cannot pause
    events = api.get(url + "events/").json()
    assert events[0]["kind"] == "state" and len(events) >= 4
    assert api.get(url + "events/?kind=signal").json() == []
    assert_error(api.get(url + "events/?limit=0"), 400)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"strategy": "astrology"}, "strategy"),
        ({"params": {"period": 1}}, "params.period"),
        ({"timeframe": "2m"}, "timeframe"),
        ({"symbol": "BTC/USDT"}, "symbol"),
        ({"portfolio": "abc"}, "portfolio"),
        ({"risk": {"stop_loss_pct": -5}}, "risk.stop_loss_pct"),
        # JSON types as documented: no "14" for an integer, no "" or "-" for a decimal.
        ({"params": {"period": "14"}}, "params.period"),
        ({"risk": {"order_size": ""}}, "risk.order_size"),
        ({"risk": {"max_position": "-"}}, "risk.max_position"),
        ({"risk": {"order_size": "0"}}, "risk.order_size"),  # at least 0.00000001
        ({"params": {"period": None}}, "params.period"),
        ({"params": {"typo": 3}}, "params.typo"),
    ],
)
def test_bot_create_bad_input(api, portfolio, payload, field):
    body = {"name": "b", "portfolio": portfolio.pk, "symbol": "BTCUSDT", "strategy": "rsi_mean_reversion", **payload}
    err = assert_error(api.post("/api/v1/bots/", body, format="json"), 400)
    assert field in err["fields"], err


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"strategy": "macd_crossover", "params": {"fast": 30, "slow": 20}}, "params.fast"),
        ({"strategy": "grid"}, "params.upper"),  # the default prices (0, 0) are no grid
        ({"strategy": "dca", "risk": {"order_size_mode": "percent", "order_size": "150"}}, "risk.order_size"),
    ],
)
def test_bot_create_rules_between_values_are_422(api, portfolio, payload, field):
    # Every value is valid alone (the schema accepts the body): the rule between them is a 422.
    body = {"name": "b", "portfolio": portfolio.pk, "symbol": "BTCUSDT", **payload}
    err = assert_error(api.post("/api/v1/bots/", body, format="json"), 422, "invalid")
    assert field in err["fields"], err


def test_bot_patch_params_checked_against_the_current_strategy(api, bot):
    url = f"/api/v1/bots/{bot.pk}/"
    # The PATCH schema has one free-form `params` for every strategy: a misfit is a 422, with
    # or without `strategy` (POST /bots/ types them per strategy: a 400 there).
    assert "params.fast" in assert_error(api.patch(url, {"params": {"fast": 5}}, format="json"), 422)["fields"]
    body = {"strategy": "rsi_mean_reversion", "params": {"fast": 5}}
    assert "params.fast" in assert_error(api.patch(url, body, format="json"), 422)["fields"]
    assert "risk.typo" in assert_error(api.patch(url, {"risk": {"typo": 1}}, format="json"), 400)["fields"]
    assert api.patch(url, {"params": {"period": 10}}, format="json").json()["params"]["period"] == 10


def test_bot_duplicate_name(api, bot, portfolio):
    body = {"name": "rsi", "portfolio": portfolio.pk, "symbol": "BTCUSDT", "strategy": "rsi_mean_reversion"}
    assert "name" in assert_error(api.post("/api/v1/bots/", body, format="json"), 409)["fields"]


def test_backtests_create_list_retrieve(api, bot):
    queued = api.post(f"/api/v1/bots/{bot.pk}/backtests/", {"initial_quote": "5000"}, format="json")
    assert queued.status_code == 201, queued.content
    backtest = queued.json()
    assert backtest["bot"] == bot.pk and backtest["initial_quote"] == "5000"
    free = api.post(
        "/api/v1/backtests/",
        {"strategy": "dca", "symbol": "ETHUSDT", "start_ms": 0, "end_ms": 1000},
        format="json",
    )
    assert free.status_code == 201, free.content
    assert api.get("/api/v1/backtests/").json()["count"] == 2
    assert [b["id"] for b in api.get(f"/api/v1/bots/{bot.pk}/backtests/").json()] == [backtest["id"]]
    assert api.get(f"/api/v1/backtests/{backtest['id']}/").json()["status"] == "pending"
    assert_error(
        api.post(
            "/api/v1/backtests/", {"strategy": "dca", "symbol": "ETHUSDT", "start_ms": 9, "end_ms": 1}, format="json"
        ),
        422,
    )
    assert_error(api.post(f"/api/v1/bots/{bot.pk}/backtests/", {"start_ms": 9, "end_ms": 1}, format="json"), 422)
    assert (
        "strategy"
        in assert_error(api.post("/api/v1/backtests/", {"strategy": "nope", "symbol": "ETHUSDT"}, format="json"), 400)[
            "fields"
        ]
    )


def test_idor_bots_events_backtests(api, other_api, bot, their_bot):
    bot_event_record(bot=bot, kind="signal", message="secret signal")
    backtest_id = api.post(f"/api/v1/bots/{bot.pk}/backtests/", {}, format="json").json()["id"]
    url = f"/api/v1/bots/{bot.pk}/"
    assert_error(other_api.get(url), 404)
    assert_error(other_api.patch(url, {"name": "pwned"}, format="json"), 404)
    for action in ("start/", "pause/", "stop/"):
        assert_error(other_api.post(url + action), 404)
    assert_error(other_api.get(url + "events/"), 404)
    assert_error(other_api.get(url + "backtests/"), 404)
    assert_error(other_api.post(url + "backtests/", {}, format="json"), 404)
    assert_error(other_api.get(f"/api/v1/backtests/{backtest_id}/"), 404)
    assert [b["id"] for b in other_api.get("/api/v1/bots/").json()["results"]] == [their_bot.pk]
    assert other_api.get("/api/v1/backtests/").json()["count"] == 0
    assert api.get(url).json()["name"] == "rsi"


def test_bot_cannot_use_someone_elses_portfolio(api, other_user, bot):
    theirs = portfolio_create(owner=other_user, name="theirs")
    body = {"name": "sneaky", "portfolio": theirs.pk, "symbol": "BTCUSDT", "strategy": "dca"}
    # The same 404 as for a portfolio that does not exist: whose it is is not revealed.
    assert_error(api.post("/api/v1/bots/", body, format="json"), 404)
    assert_error(api.patch(f"/api/v1/bots/{bot.pk}/", {"portfolio": theirs.pk}, format="json"), 404)
    assert_error(api.post("/api/v1/bots/", {**body, "portfolio": 2**62}, format="json"), 404)


def test_bot_delete_refused_while_running_then_deleted(api, bot):
    from apps.bots.models import Bot, BotEvent
    from apps.safety.models import AuditEvent

    url = f"/api/v1/bots/{bot.pk}/"
    assert api.post(url + "start/").json()["status"] == "running"
    assert_error(api.delete(url), 409, "bot_running")
    assert Bot.objects.filter(pk=bot.pk).exists()
    api.post(url + "pause/")
    assert api.delete(url).status_code == 204  # a paused bot is not mid-evaluation
    assert not Bot.objects.filter(pk=bot.pk).exists() and not BotEvent.objects.filter(bot_id=bot.pk).exists()
    assert AuditEvent.objects.filter(action="bot.delete", data__bot_id=bot.pk).count() == 1
    assert_error(api.get(url), 404)
    assert_error(api.delete(url), 404)


def test_idor_bot_delete(api, other_api, bot):
    assert_error(other_api.delete(f"/api/v1/bots/{bot.pk}/"), 404)
    assert api.get(f"/api/v1/bots/{bot.pk}/").json()["name"] == "rsi"
