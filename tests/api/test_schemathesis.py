"""schemathesis against the live schema of a live server, with every check: a bounded number
of cases per operation, authenticated once as a plain user and once as staff (who also sees
everyone's alerts and audit events). Zero failures means no 5xx, no response outside the
schema, and the schema exactly as strict as the validators: every schema-valid request is
accepted (positive_data_acceptance) and every schema-invalid one refused
(negative_data_rejection)."""

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
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("staff", [False, True], ids=["user", "staff"])
def test_schemathesis_live_schema(staff, live_server, tmp_path, monkeypatch):
    st = str(ST) if ST.exists() else shutil.which("st")
    if st is None:
        pytest.fail("schemathesis is not installed (requirements/dev.txt)")
    # Generous rates: the run is many requests from one user in a few seconds; 429s would
    # only hide the endpoints behind them.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "100000/min", "anon": "100000/min"})
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"user": "100000/min", "anon": "100000/min"})
    user = get_user_model().objects.create_user(username="fuzz", password="fuzz-pw-123456", is_staff=staff)
    portfolio_create(owner=user, name="main", latency_ms=0, latency_jitter_ms=0)
    instrument_make()
    market_state_seed()
    candles_make(count=60)
    token = str(AccessToken.for_user(user))
    command = [
        st,
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_server.url}/api/schema/?format=json",
        "--url",
        live_server.url,
        "--checks",
        "all",
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
        "50",
        "--generation-deterministic",
        "--no-color",
    ]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "SCHEMATHESIS_HOOKS": ""}
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    report = Path(tempfile.gettempdir()) / f"ptp-schemathesis-report-{'staff' if staff else 'user'}.txt"
    report.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        pytest.fail(f"schemathesis found problems (full output: {report}):\n{result.stdout[-6000:]}")
