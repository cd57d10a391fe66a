"""CI's reduced form of ``make soak-long``: make run's embedded mode (the simulator inside
``serve``) with running bots for SOAK_MINUTES (default 2), every stream sampled. Streams must
not go silent for more than 10 s and no 1m close may be missed; the RSS slope over minutes is
warm-up, so it is reported, not judged, here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_reduced_embedded_soak_keeps_every_stream_flowing():
    minutes = float(os.environ.get("SOAK_MINUTES", "2"))
    done = subprocess.run(
        [sys.executable, "bench/soak.py", "--embedded", "--minutes", str(minutes)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240 + minutes * 60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["all_alive"] and result["bots_running"] >= 1, result
    assert result["streams"] >= 2 * 3 * 3, result  # both exchanges x 3 symbols x ticker/book/candles/trades
    assert result["silent_periods"] == [], result
    assert result["missed_closes"] == 0 and result["closes_seen"] > 0, result
    assert result["api_5xx"] == 0 and result["api_4xx"] == 0, result  # 4xx: e.g. an expired token
