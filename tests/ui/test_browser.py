"""The live web interface in headless Chromium (Playwright) against a real server fed by the
exchange simulator. Screenshots of every page go to UI_SCREENSHOT_DIR (default: a temp dir;
`make screenshots` points it at docs/screenshots/)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import IN_CI, require_service
from tests.ui.server import PASSWORD, USERNAME, ProductServer, prepare_database

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip
WAIT_MS = 30_000  # generous: the suite may share 2 cores with other runs
LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _screenshot_dir() -> Path:
    path = Path(os.environ.get("UI_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "ptp-ui-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from django.conf import settings

    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if IN_CI:
            pytest.fail(f"chromium missing at {CHROMIUM}")
        pytest.skip(f"chromium missing at {CHROMIUM}")
    redis_url = require_service("Redis", settings.TEST_REDIS_URL)
    workdir = tmp_path_factory.mktemp("ui-server")
    product = ProductServer(workdir=workdir, redis_url=redis_url)
    prepare_database(product.env)
    product.start()
    try:
        product.wait_for_market()
        yield product
    finally:
        product.stop()


@pytest.fixture(scope="module")
def browser_context(server):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=LAPTOP, base_url=server.base_url)
        context.set_default_timeout(WAIT_MS)
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", USERNAME)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server.base_url + "/")
        page.close()
        context.requests = requests  # type: ignore[attr-defined]
        yield context
        context.close()
        browser.close()
    # Offline by construction: every request the pages made stayed on the loopback server.
    hosts = {urlparse(url).hostname for url in requests if not url.startswith(("data:", "blob:"))}
    assert hosts <= {"127.0.0.1"}, hosts


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # script-src 'self' / style-src 'self': any blocked inline script or style is a failure.
    page.on("console", lambda msg: "Content Security Policy" in msg.text and errors.append(msg.text))
    yield page
    page.close()
    assert not errors, errors


def shot(page, name: str) -> None:
    page.screenshot(path=str(_screenshot_dir() / f"{name}.png"), full_page=False)


def _attr(page, selector: str, name: str) -> str:
    return page.get_attribute(selector, name) or ""


def test_dashboard_price_changes_without_reload(page):
    page.goto("/")
    page.wait_for_selector("#paper-banner:has-text('PAPER TRADING')")
    row = 'tr[data-exchange="binance"][data-symbol="BTCUSDT"]'
    page.wait_for_selector(f"{row} [data-field=last]")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.wait_for_function(
        "sel => Number(document.querySelector(sel).dataset.updates || 0) >= 2", arg=row, timeout=WAIT_MS
    )
    assert not navigations  # the price moved in place, not by reloading
    page.wait_for_selector("#feeds [data-feed-state=simulated]")
    page.wait_for_function("() => document.getElementById('conn-state').dataset.state === 'live'")
    shot(page, "dashboard")


def _wait_chart(page, timeframe: str) -> None:
    page.wait_for_function(
        """tf => { const c = document.getElementById('chart');
                 return c.dataset.timeframe === tf && !c.hasAttribute('aria-busy')
                        && Number(c.dataset.candleCount) > 30 && Number(c.dataset.rsiPoints) > 0
                        && Number(c.dataset.macdPoints) > 0 && Number(c.dataset.bbPoints) > 0; }""",
        arg=timeframe,
    )


def test_chart_shows_candles_and_indicators_updates_and_switches_timeframe(page):
    page.goto("/markets/binance/BTCUSDT/")
    _wait_chart(page, "1m")
    assert page.locator("#chart canvas").count() > 0
    assert page.locator("#chart-rsi canvas").count() > 0 and page.locator("#chart-macd canvas").count() > 0
    page.wait_for_function("() => Number(document.getElementById('chart').dataset.updates) >= 2")
    fcp = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")
    print(f"\nmarket page first contentful paint: {fcp} ms")
    page.wait_for_selector("#book-bids tr")
    shot(page, "market")

    page.click(".tf-switch button[data-tf='5m']")
    _wait_chart(page, "5m")
    chart = page.locator("#chart")
    assert chart.get_attribute("data-interval-s") == "300"
    first, last = int(chart.get_attribute("data-first-time")), int(chart.get_attribute("data-last-candle-time"))
    assert first % 300 == 0 and last % 300 == 0 and last > first
    expected = page.evaluate(
        "url => fetch(url + '?tf=5m').then(r => r.json()).then(d => d.candles.length)",
        _attr(page, "#chart", "data-url"),
    )
    assert chart.get_attribute("data-candle-count") == str(expected)
    assert "tf=5m" in page.url

    page.click(".tf-switch button[data-tf='1h']")
    _wait_chart(page, "1h")
    assert chart.get_attribute("data-interval-s") == "3600"
    assert int(chart.get_attribute("data-first-time")) % 3600 == 0
    shot(page, "market-1h")


CHART_SERIES = {"rsi": "rsi", "macd": "macd", "macdSignal": "macd_signal", "bbUpper": "bb_upper", "bbLower": "bb_lower"}


def test_the_chart_draws_the_pushed_indicator_values_which_equal_talib(page):
    """One indicator pipeline, seen from the browser: after a close the chart shows the feed
    engine's pushed values (no refetch), equal to the chart history's values for that candle
    and to TA-Lib on the same candles."""
    import numpy as np
    import talib

    page.goto("/markets/binance/BTCUSDT/")
    _wait_chart(page, "1m")
    loads = []
    page.on("request", lambda request: "tf=" in request.url and loads.append(request.url))
    # A 1m close of the embedded simulator (real time): up to a minute and the close grace.
    page.wait_for_function("() => Number(document.getElementById('chart').dataset.indicatorUpdates || 0) >= 1",
                           timeout=150_000)  # fmt: skip
    assert not loads, f"the chart refetched to show indicators: {loads}"
    t = int(_attr(page, "#chart", "data-indicator-time"))
    drawn = page.evaluate(
        """([t, names]) => { const c = document.getElementById('chart').ptpChart; const out = {};
             names.forEach(n => { const p = c[n].data().find(d => d.time === t); out[n] = p ? p.value : null; });
             return out; }""",
        [t, list(CHART_SERIES)],
    )
    data = page.evaluate("url => fetch(url + '?tf=1m').then(r => r.json())", _attr(page, "#chart", "data-url"))
    history = next(row for row in data["indicators"] if row["time"] == t)
    closes = np.array([c["close"] for c in data["candles"] if c["time"] <= t], dtype=float)
    macd, signal, _ = talib.MACD(closes, 12, 26, 9)
    upper, _, lower = talib.BBANDS(closes, 20, 2, 2, 0)
    reference = {"rsi": talib.RSI(closes, 14)[-1], "macd": macd[-1], "macd_signal": signal[-1],
                 "bb_upper": upper[-1], "bb_lower": lower[-1]}  # fmt: skip
    for series, column in CHART_SERIES.items():
        assert drawn[series] is not None, f"{series} not drawn at {t}"
        assert drawn[series] == pytest.approx(history[column], rel=1e-6), column
        assert drawn[series] == pytest.approx(float(reference[column]), rel=1e-6), column


def test_values_of_a_close_after_the_next_candle_appeared_are_drawn_without_error(page):
    """The forming candle's whitespace can reach the chart before the close's values;
    lightweight-charts refuses to update an older point, so the chart rebuilds that series
    (a console error here was the failure, CI 2026-12-04)."""
    page.goto("/markets/binance/BTCUSDT/")
    _wait_chart(page, "1m")
    drawn = page.evaluate(
        """() => { const c = document.getElementById('chart').ptpChart; const t = c.lastTime;
             c.applyCandle({time: t + 60, open: 1, high: 1, low: 1, close: 1, volume: 0}, c.timeframe);
             c.applyIndicators({open_time_ms: t * 1000, rsi: 42.5, macd: 1, macd_signal: 2, macd_hist: -1,
                                bb_upper: 3, bb_middle: 2, bb_lower: 1});
             const at = s => (s.data().find(d => d.time === t) || {}).value;
             return {rsi: at(c.rsi), hist: at(c.macdHist), candles: c.candles.data().length,
                     times: c.candles.data().slice(-2).map(d => d.time), t: t}; }"""
    )
    assert drawn["rsi"] == 42.5 and drawn["hist"] == -1, drawn
    assert drawn["times"] == [drawn["t"], drawn["t"] + 60], drawn


def _create_portfolio(page, name: str) -> str:
    page.goto("/settings/")
    if page.locator(f".portfolio-admin a:has-text('{name}')").count() == 0:
        page.fill("#id_name", name)
        page.select_option("#id_exchange", "binance")
        page.fill("#id_starting_quote", "100000")
        page.click("#portfolio-create button[type=submit]")
        page.wait_for_selector(f".portfolio-admin a:has-text('{name}')")
    return page.locator(f".portfolio-admin a:has-text('{name}')").get_attribute("href")


def test_paper_order_from_the_ticket_updates_the_portfolio_page_live(page, browser_context):
    portfolio_url = _create_portfolio(page, "Desk")
    shot(page, "settings")
    watcher = browser_context.new_page()
    try:
        watcher.goto(portfolio_url)
        watcher.wait_for_function("() => document.getElementById('portfolio-root').dataset.socket === 'open'")
        fills_before = watcher.locator("[data-fill-id]").count()

        page.goto("/markets/binance/BTCUSDT/")
        page.select_option("#id_order_type", "limit")
        page.fill("#id_quantity", "0.01")
        page.wait_for_selector("#id_price_error:has-text('limit price')")  # instant validation, next to the field
        page.select_option("#id_order_type", "market")
        page.wait_for_selector(".ticket-valid")
        page.click("#ticket-submit")
        page.wait_for_selector(".ticket-ok[data-order-status=filled]")
        shot(page, "market-order-placed")

        watcher.wait_for_function("() => Number(document.getElementById('portfolio-root').dataset.liveEvents) > 0")
        watcher.wait_for_function(f"() => document.querySelectorAll('[data-fill-id]').length > {fills_before}")
        watcher.wait_for_selector("#balances tr[data-asset=BTC]")
        watcher.wait_for_selector("#allocation-chart[data-slices='2']")  # the charts follow the fill too
        shot(watcher, "portfolio")
    finally:
        watcher.close()


def test_invalid_bot_params_show_inline_errors_and_nothing_is_saved(page):
    _create_portfolio(page, "Desk")
    page.goto("/bots/new/")
    page.fill("#id_name", "bad-params-bot")
    page.fill("#id_params-period", "1")
    page.wait_for_selector("#err-params-period:has-text('at least')")
    page.wait_for_selector("#form-status[data-valid='0']")
    shot(page, "bot-form-errors")
    page.click("#bot-save")
    page.wait_for_selector("#err-params-period:has-text('at least')")
    page.goto("/bots/")
    assert page.locator("#bot-table a:has-text('bad-params-bot')").count() == 0


def test_starting_a_bot_shows_its_events_live(page):
    _create_portfolio(page, "Desk")
    page.goto("/bots/new/")
    name = f"rsi-{int(time.time())}"
    page.fill("#id_name", name)
    page.select_option("#id_strategy", "rsi_mean_reversion")
    page.wait_for_selector("#form-status[data-valid='1']")
    page.click("#bot-save")
    page.wait_for_selector("#bot-root")
    page.wait_for_function("() => document.getElementById('log-live').textContent.includes('live')")
    before = page.locator("#event-log li[data-event-id]").count()
    page.click("#bot-start")
    page.wait_for_selector("#bot-status[data-status=running]")
    # The new event arrives over the bot's socket (nothing reloads the log).
    page.wait_for_function(f"() => document.querySelectorAll('#event-log li[data-event-id]').length > {before}")
    page.wait_for_selector("#event-log li.ev-new")
    page.wait_for_selector("#bot-performance [data-kpi=total_pnl]")
    page.click("#reconcile-run")  # HTMX: the result replaces the section's body in place
    page.wait_for_selector("#reconcile-result [data-reconcile], #reconcile-summary")
    page.evaluate("() => window.scrollTo(0, 0)")
    shot(page, "bot-detail")
    page.goto("/bots/")
    shot(page, "bots")


UNLABELLED_CONTROLS_JS = """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !((el.labels && el.labels.length) || el.getAttribute('aria-label')
                  || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim())))
  .map(el => el.outerHTML.slice(0, 120))"""


WIDEST_JS = """() => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(-3).map(el => el.tagName + '#' + el.id + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))"""


def test_banner_and_labelled_controls_on_every_page_and_phone_width(page):
    pages = [("/", None), ("/status/", "status"), ("/portfolios/", "portfolios"), ("/bots/new/", "bot-form"),
             ("/settings/", None), ("/markets/kucoin/ETHUSDT/", None), ("/no-such-page/", "not-found")]  # fmt: skip
    for url, name in pages:
        page.goto(url)
        assert page.locator("#paper-banner").inner_text().startswith("PAPER TRADING"), url
        assert page.evaluate(UNLABELLED_CONTROLS_JS) == [], url
        if name:
            shot(page, name)
    page.set_viewport_size(PHONE)
    page.goto("/markets/binance/BTCUSDT/")
    _wait_chart(page, "1m")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "market-phone")
    for url in ("/", "/status/", "/settings/", "/bots/"):
        page.goto(url)
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), (
            url,
            page.evaluate(WIDEST_JS),
        )
        if url == "/":
            shot(page, "dashboard-phone")


def test_live_data_resumes_after_a_server_restart_without_reload(page, server):
    """Runs last in this module: it restarts the shared server (same port, same database)."""
    page.goto("/")
    row = 'tr[data-exchange="binance"][data-symbol="BTCUSDT"]'
    page.wait_for_function("() => document.getElementById('conn-state').dataset.state === 'live'")
    page.wait_for_function("sel => Number(document.querySelector(sel).dataset.updates || 0) >= 1", arg=row)
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.evaluate("() => { window.__sameDocument = true; }")  # a reload would drop this

    server.stop()
    page.wait_for_function("() => document.getElementById('conn-state').dataset.state === 'reconnecting'")
    shot(page, "dashboard-reconnecting")
    updates_before = int(page.get_attribute(row, "data-updates") or 0)
    server.start()
    server.wait_for_market()

    page.wait_for_function("() => document.getElementById('conn-state').dataset.state === 'live'")
    page.wait_for_function(
        "([sel, n]) => Number(document.querySelector(sel).dataset.updates || 0) > n", arg=[row, updates_before]
    )
    assert page.evaluate("() => window.__sameDocument === true")
    assert not navigations
