"""One valid request per API write endpoint, and the URL-conf walk that finds them all: the
tests that must hold for every write endpoint (unknown fields, nulls) run over these, and
fail for a write endpoint that has no case here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.bots.services import bot_create, bot_start
from apps.ops.preferences import notification_preference_save
from apps.portfolio.services import order_place, portfolio_create
from tests.api.api_routes import WRITE_METHODS, api_routes
from tests.api.conftest import PASSWORD, bearer_client
from tests.api.factories import instrument_make, market_state_seed


@dataclass
class World:
    user: Any
    portfolio: Any
    order: Any
    bot: Any
    refresh: str
    access: str


def world_make(user: Any) -> World:
    """The user's objects: a portfolio with an open order, a running bot, webhook alerts, a
    token pair."""
    instrument_make()
    market_state_seed()
    portfolio = portfolio_create(owner=user, name="main", latency_ms=0, latency_jitter_ms=0)
    order = order_place(
        portfolio=portfolio,
        actor=user,
        symbol="BTCUSDT",
        side="buy",
        order_type="limit",
        quantity="0.01",
        price="40000",
    )
    bot = bot_create(owner=user, portfolio=portfolio, name="rsi", symbol="BTCUSDT", strategy="rsi_mean_reversion")
    bot_start(bot=bot, actor=user)
    notification_preference_save(user=user, email_enabled=False, webhook_url="https://hooks.example.com/h")
    refresh = RefreshToken.for_user(user)
    return World(user, portfolio, order, bot, str(refresh), str(refresh.access_token))


@dataclass(frozen=True)
class Case:
    """How to reach one write endpoint with a valid body (``staff``: as a staff user)."""

    kwargs: Callable[[World], dict[str, Any]]
    body: Callable[[World], dict[str, Any]]
    staff: bool = False


def _none(world: World) -> dict[str, Any]:
    return {}


def _portfolio(world: World) -> dict[str, Any]:
    return {"pk": world.portfolio.pk}


def _bot(world: World) -> dict[str, Any]:
    return {"pk": world.bot.pk}


CASES: dict[tuple[str, str], Case] = {
    ("api-token-obtain", "post"): Case(_none, lambda w: {"username": w.user.username, "password": PASSWORD}),
    ("api-token-refresh", "post"): Case(_none, lambda w: {"refresh": w.refresh}),
    ("api-token-verify", "post"): Case(_none, lambda w: {"token": w.access}),
    ("api-logout", "post"): Case(_none, lambda w: {"refresh": w.refresh}),
    ("api-portfolios", "post"): Case(_none, lambda w: {"name": "second", "starting_balances": {"USDT": "500"}}),
    ("api-portfolio", "patch"): Case(_portfolio, lambda w: {"name": "renamed", "latency_ms": 10}),
    ("api-portfolio-reset", "post"): Case(_portfolio, lambda w: {"confirm": True}),
    ("api-orders", "post"): Case(
        _none,
        lambda w: {
            "portfolio": w.portfolio.pk,
            "symbol": "BTCUSDT",
            "side": "buy",
            "type": "limit",
            "quantity": "0.01",
            "price": "41000",
        },
    ),
    ("api-orders-oco", "post"): Case(
        _none,
        lambda w: {
            "portfolio": w.portfolio.pk,
            "symbol": "BTCUSDT",
            "side": "buy",
            "quantity": "0.01",
            "above": {"type": "stop_loss", "stop_price": "60000"},
            "below": {"type": "limit", "price": "40000"},
        },
    ),
    ("api-order-cancel", "post"): Case(lambda w: {"pk": w.order.pk}, _none),
    ("api-bots", "post"): Case(
        _none,
        lambda w: {
            "name": "second",
            "portfolio": w.portfolio.pk,
            "symbol": "ETHUSDT",
            "strategy": "rsi_mean_reversion",
            "params": {"period": 10},
            "risk": {"order_size": "50"},
        },
    ),
    ("api-bot", "patch"): Case(_bot, lambda w: {"name": "renamed", "params": {"period": 12}}),
    ("api-bot-start", "post"): Case(_bot, _none),
    ("api-bot-pause", "post"): Case(_bot, lambda w: {"reason": "lunch"}),
    ("api-bot-stop", "post"): Case(_bot, lambda w: {"reason": "done"}),
    ("api-bot-backtests", "post"): Case(_bot, lambda w: {"initial_quote": "5000"}),
    ("api-backtests", "post"): Case(
        _none, lambda w: {"strategy": "dca", "symbol": "ETHUSDT", "params": {"max_buys": 3}, "risk": {}}
    ),
    ("api-alert-preferences", "put"): Case(_none, lambda w: {"email_enabled": False, "kinds": []}),
    ("api-alert-preferences", "patch"): Case(_none, lambda w: {"kinds": ["bot_error"]}),
    ("api-alert-preferences-secret", "post"): Case(_none, _none),
}


def write_endpoints() -> list[tuple[str, str]]:
    """(route name, method) of every POST, PUT and PATCH the URL conf routes under /api/."""
    return sorted((route.name, method) for route in api_routes() for method in route.methods(WRITE_METHODS))


def client_for(world: World, case: Case) -> APIClient:
    if not case.staff:
        return bearer_client(world.user)
    staff = get_user_model().objects.create_user(username="root", password=PASSWORD, is_staff=True)
    return bearer_client(staff)
