"""CI's reduced soak: one minute of the whole product under market, bot, WebSocket and API
activity. Memory slopes over one minute are mostly warm-up, so CI checks that everything
stayed up and served; the flatness figures come from the full run (make soak)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_reduced_soak_keeps_every_process_up_and_serving():
    done = subprocess.run(
        [sys.executable, "bench/soak.py", "--minutes", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["all_alive"], result
    assert result["api_5xx"] == 0 and result["api_4xx"] == 0, result  # 4xx: e.g. an expired token
    assert result["ws_frames"] > 0 and result["bots_running"] >= 1, result
    assert all(p["samples"] >= 3 for p in result["processes"].values()), result
