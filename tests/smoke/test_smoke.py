"""CI runs the smoke script: the whole product against the simulator, over HTTP and WS only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_smoke_script_walks_the_whole_workflow_and_exits_0():
    done = subprocess.run(
        [sys.executable, "bench/support/smoke.py", "--timeout", "180"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    assert '"smoke": "ok"' in done.stdout.splitlines()[-1]
    assert "[FAIL]" not in done.stdout
