"""schemathesis against the live schema of a live server: authenticated, a bounded number
of cases per operation, zero 5xx and zero schema violations (the CLI's exit code)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework_simplejwt.tokens import AccessToken

from apps.portfolio.services import portfolio_create
from tests.api.factories import candles_make, instrument_make, market_state_seed

ST = Path(sys.executable).with_name("st")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_schemathesis_live_schema(live_server, tmp_path, monkeypatch):
    if not ST.exists() and not shutil.which("st"):
        pytest.fail("schemathesis is not installed (requirements/dev.txt)")
    # Generous rates: the run is many requests from one user in a few seconds; 429s would
    # only hide the endpoints behind them.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "100000/min", "anon": "100000/min"})
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"user": "100000/min", "anon": "100000/min"})
    user = get_user_model().objects.create_user(username="fuzz", password="fuzz-pw-123456")
    portfolio_create(owner=user, name="main", latency_ms=0, latency_jitter_ms=0)
    instrument_make()
    market_state_seed()
    candles_make(count=60)
    token = str(AccessToken.for_user(user))
    config = tmp_path / "schemathesis.toml"
    config.write_text("[checks]\npositive_data_acceptance.enabled = false\n")
    command = [
        str(ST if ST.exists() else shutil.which("st")),
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/schema/?format=json",
        "--url",
        live_server.url,
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "6"),
        "--phases",
        os.environ.get("SCHEMATHESIS_PHASES", "examples,fuzzing"),
        "--seed",
        "42",
        "--request-timeout",
        "20",
        "--max-failures",
        "20",
        "--generation-deterministic",
        "--no-color",
    ]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "SCHEMATHESIS_HOOKS": ""}
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    if result.returncode != 0:
        report = Path(tempfile.gettempdir()) / "ptp-schemathesis-report.txt"
        report.write_text(result.stdout + result.stderr)
        pytest.fail(f"schemathesis found problems (full output: {report}):\n{result.stdout[-6000:]}")
