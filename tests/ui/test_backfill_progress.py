"""History backfill progress on the dashboard's feed strip and the status page (issue 3): a bar
per exchange while candles are fetched, polled faster meanwhile, and gone once done."""

from __future__ import annotations

import re

import pytest

from apps.market.cache import backfill_progress_set
from apps.web.pages import backfill_view

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset_progress():
    yield
    for exchange in ("binance", "kucoin"):
        backfill_progress_set(exchange, done=0, total=0, state="idle")


def test_backfill_view_shows_only_unfinished_work():
    assert backfill_view({"done": 0, "total": 0, "state": "idle"}) is None
    assert backfill_view({"done": 12, "total": 12, "state": "done"}) is None
    assert backfill_view({"done": 3, "total": 12, "state": "running"}) == {
        "state": "running", "done": 3, "total": 12, "pct": 25,
    }  # fmt: skip
    assert backfill_view({"done": 2, "total": 12, "state": "failed"})["state"] == "failed"


def test_feed_strip_shows_a_progress_bar_per_exchange_until_done(client):
    backfill_progress_set("binance", done=3, total=12, state="running")
    backfill_progress_set("kucoin", done=12, total=12, state="done")
    html = client.get("/ui/feeds/").content.decode()
    assert 'hx-trigger="every 1s"' in html  # polls faster while the history is fetched
    bars = re.findall(r'<progress id="backfill-(\w+)" max="(\d+)" value="(\d+)"', html)
    assert bars == [("binance", "12", "3")]
    assert 'aria-label="Binance history backfill"' in html

    backfill_progress_set("binance", done=12, total=12, state="done")
    html = client.get("/ui/feeds/").content.decode()
    assert "<progress" not in html and 'hx-trigger="every 5s"' in html


def test_dashboard_and_status_page_show_the_backfill(client, django_user_model):
    backfill_progress_set("kucoin", done=6, total=12, state="running")
    assert 'id="backfill-kucoin"' in client.get("/").content.decode()
    client.force_login(django_user_model.objects.create_user(username="ops", password="pw-123456789"))
    html = client.get("/status/").content.decode()
    assert re.search(r'data-backfill-state="running"><progress max="12" value="6"', html)
    assert 'data-backfill-state="idle"' in html  # binance never started: no bar

    backfill_progress_set("kucoin", done=1, total=12, state="failed")
    html = client.get("/status/", HTTP_HX_REQUEST="true").content.decode()
    assert "backfill failed" in html and "<progress" not in html
