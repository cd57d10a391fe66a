"""The exchange_sim and record_market commands, and replaying what record_market wrote."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

from django.core.management import call_command

from apps.market.simulator import ExchangeSimulator

ROOT = Path(__file__).resolve().parents[3]


def test_exchange_sim_command_prints_ports_and_serves(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "EXCHANGE_SIM_TRIPWIRE_LOG": str(tmp_path / "t"),
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "exchange_sim", "--seed", "3", "--symbols", "BTCUSDT"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        match = re.fullmatch(r"binance=127\.0\.0\.1:(\d+) kucoin=127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        with urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/api/v3/ping") as resp:
            assert resp.read() == b"{}"
        with urllib.request.urlopen(f"http://127.0.0.1:{match.group(2)}/api/v1/timestamp") as resp:
            assert b'"200000"' in resp.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def test_record_market_then_replay(exchange_sim_factory, tmp_path: Path) -> None:
    source = exchange_sim_factory(seed=9, symbols=["SOLUSDT"], trade_rate_hz=50)
    out = tmp_path / "rec.jsonl"
    call_command(
        "record_market",
        "--exchange",
        "binance",
        "--url",
        source.binance_ws_url,
        "--streams",
        "solusdt@trade",
        "--out",
        str(out),
        "--duration",
        "3",
        "--max-messages",
        "30",
    )
    call_command(
        "record_market",
        "--exchange",
        "kucoin",
        "--url",
        source.kucoin_rest_url,
        "--streams",
        "/market/match:SOL-USDT",
        "--out",
        str(out),
        "--duration",
        "3",
        "--max-messages",
        "30",
    )
    assert len(out.read_text().splitlines()) == 60
    replayed = exchange_sim_factory(seed=1, symbols=["BTCUSDT"], replay=out, clock_speed=120)
    deadline = time.monotonic() + 5
    while len(replayed.recent_trades("binance", "SOLUSDT")) < 30:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    recorded = {t.trade_id: t.price for t in source.recent_trades("binance", "SOLUSDT")}
    prices = [t.price for t in replayed.recent_trades("binance", "SOLUSDT")][:30]
    assert all(isinstance(p, Decimal) for p in prices)
    assert set(prices) <= set(recorded.values())


def test_sim_api_exposes_ground_truth(exchange_sim: ExchangeSimulator) -> None:
    book = exchange_sim.book("kucoin", "BTC-USDT")
    assert len(book.bids) == 20 and book.best_bid < book.best_ask
