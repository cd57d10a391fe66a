"""The bots' close sink, as the feeds' composition roots wire it (``FeedConfig.closes_sink``)."""

from __future__ import annotations

import pytest

from apps.bots.models import BotCandleRun
from apps.bots.tasks import bots_closes_enqueue
from tests.bots.conftest import store_candles
from tests.bots.helpers import quiet_bot_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks_eager():
    """Tasks run in the caller, as in embedded mode (``make run``)."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.update(task_always_eager=True)
    yield
    app.conf.update(task_always_eager=before)


def test_the_close_sink_has_the_bots_evaluate_every_close_up_to_the_one_named(
    user, portfolio, tasks_eager, django_capture_on_commit_callbacks
):
    first = store_candles([100, 101])
    bot = quiet_bot_start(owner=user, portfolio=portfolio)
    missed = store_candles([102, 103, 104], start_ms=first[-1] + 60_000)
    with django_capture_on_commit_callbacks(execute=True):  # the evaluations follow the commit
        bots_closes_enqueue(exchange="binance", closes={("BTCUSDT", "1m"): missed[-1], ("ETHUSDT", "1m"): missed[-1]})
    runs = list(BotCandleRun.objects.filter(bot=bot).order_by("id").values_list("candle_open_ms", flat=True))
    assert runs == missed
