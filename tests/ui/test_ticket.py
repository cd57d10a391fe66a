"""The order ticket in headless Chromium against the real server (exchange simulator): the
available balance, % of balance buttons, base or quote amount, the live preview (cost, fee,
average price) and a worded error next to the highlighted field. Console errors: none, and
the portfolio page takes its live updates without a CSP refusal or a 390 px scroll."""

from __future__ import annotations

import re

import pytest

from tests.ui.server import PASSWORD, USERNAME
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS, LAPTOP, PHONE, WAIT_MS, WIDEST_JS, server, shot

pytestmark = pytest.mark.browser
__all__ = ["server"]  # the module-scoped product server fixture


@pytest.fixture(scope="module")
def context(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport=LAPTOP, base_url=server.base_url)
        ctx.set_default_timeout(WAIT_MS)
        page = ctx.new_page()
        page.goto("/login/")
        page.fill("#id_username", USERNAME)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server.base_url + "/")
        page.close()
        yield ctx
        ctx.close()
        browser.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (msg.type == "error" or "Content Security Policy" in msg.text) and errors.append(msg.text),
    )
    yield page
    page.close()
    assert errors == []


def _portfolio(page, name: str) -> str:
    page.goto("/settings/")
    link = page.locator(f".portfolio-admin a:has-text('{name}')")
    if link.count() == 0:
        page.fill("#id_name", name)
        page.select_option("#id_exchange", "binance")
        page.fill("#id_starting_quote", "100000")
        page.click("#portfolio-create button[type=submit]")
        page.wait_for_selector(f".portfolio-admin a:has-text('{name}')")
    return link.get_attribute("href")


def _choose_portfolio(page, name: str) -> None:
    value = page.evaluate(
        "name => Array.from(document.querySelectorAll('#id_portfolio option')).find(o => o.text.startsWith(name)).value",
        name,
    )
    page.select_option("#id_portfolio", value)


def _number(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text))


def test_ticket_percent_preview_and_worded_field_error(page):
    _portfolio(page, "Ticket")
    page.goto("/markets/binance/BTCUSDT/")
    _choose_portfolio(page, "Ticket")
    page.wait_for_selector("#book-asks tr")
    available = page.locator("[data-available]")
    assert available.inner_text() == "100,000.00 USDT"

    # 25 % of the free USDT, in BTC at the best ask, floored to the step.
    page.click("button[data-pct='25']")
    quantity = page.input_value("#id_quantity")
    step = page.get_attribute("#ticket", "data-step")
    assert quantity and len(quantity.split(".")[1] if "." in quantity else "") == len(step.split(".")[1])
    page.wait_for_selector(".ticket-preview")
    avg = _number(page.inner_text("[data-preview=avg]"))
    cost = _number(page.inner_text("[data-preview=cost]"))
    fee = _number(page.inner_text("[data-preview=fee]"))
    filled = _number(page.inner_text("[data-preview=qty]"))
    # The book may move between the click and the check: a few cents either way. What the
    # book cannot fill now is said (a market order's rest expires).
    assert 0 < cost <= 25_000 * 1.002 and avg > 0 and abs(cost - filled * avg) < avg * 0.0001
    assert filled == float(quantity) or page.locator("[data-preview=partial]").count() == 1
    assert 0 < fee < cost * 0.002
    assert re.fullmatch(r"[\d,]+\.\d{2} USDT", page.inner_text("[data-preview=cost]").strip())
    assert page.get_attribute("#id_quantity", "aria-invalid") != "true"
    shot(page, "ticket-preview")

    # A quantity off the step: the rule in words with Binance's filter name, on the field.
    page.fill("#id_quantity", "0.0000001")
    error = page.locator("#id_quantity_error")
    page.wait_for_selector("#id_quantity_error:has-text('Binance LOT_SIZE')")
    assert re.match(r"Quantity must be (a multiple of|at least) [\d.]+ \(Binance LOT_SIZE\)", error.inner_text())
    page.wait_for_selector("#id_quantity.invalid[aria-invalid=true]")
    assert page.locator(".ticket-valid").count() == 0
    shot(page, "ticket-error")

    # In quote: 50 % is half the USDT, and buying more than the balance says so in words.
    page.check("#id_amount_unit_1")
    assert "USDT" in page.inner_text("#ticket-unit")
    page.click("button[data-pct='50']")
    assert page.input_value("#id_quantity") == "50000.00"
    page.wait_for_selector(".ticket-preview")
    page.wait_for_function("() => !document.getElementById('id_quantity').classList.contains('invalid')")
    page.fill("#id_quantity", "250000")
    page.wait_for_selector("#id_quantity_error:has-text('Not enough USDT')")

    # Sell side: the available line is the BTC held (none yet), and selling some is refused.
    page.check("#id_amount_unit_0")
    page.check("#id_side_1")
    assert page.locator("[data-available]").inner_text() == "0 BTC"
    page.fill("#id_quantity", "0.01")
    page.wait_for_selector("#id_quantity_error:has-text('Not enough BTC')")


def test_portfolio_page_live_update_is_csp_clean_and_fits_a_phone(page, context):
    url = _portfolio(page, "Ticket")
    page.goto(url)
    page.wait_for_function("() => document.getElementById('portfolio-root').dataset.socket === 'open'")
    trader = context.new_page()
    try:
        trader.goto("/markets/binance/BTCUSDT/")
        _choose_portfolio(trader, "Ticket")
        trader.fill("#id_quantity", "0.01")
        trader.wait_for_selector(".ticket-valid")
        trader.click("#ticket-submit")
        trader.wait_for_selector(".ticket-ok[data-order-status=filled]")
        # The available line follows the fill (the answer carries the new free balances).
        trader.wait_for_function("() => document.querySelector('[data-available]').textContent !== '100,000.00 USDT'")
    finally:
        trader.close()
    page.wait_for_function("() => Number(document.getElementById('portfolio-root').dataset.liveEvents) > 0")
    page.wait_for_selector("#balances tr[data-asset=BTC]")
    page.wait_for_timeout(1500)  # let the charts redraw after the swap
    page.set_viewport_size(PHONE)
    page.goto(url)
    page.wait_for_selector("#balances")
    fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert fits, page.evaluate(WIDEST_JS)
    shot(page, "portfolio-phone")
