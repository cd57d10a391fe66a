"""The services and selectors type-check clean (mypy + django-stubs, config in pyproject.toml).

The same module patterns drive ``make typecheck``; a test keeps the two lists in step.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every service and selector module, flat or packaged, one and two levels under apps/ (and service packages).
PATTERNS = (
    "apps/*/services.py",
    "apps/*/selectors.py",
    "apps/*/services/*.py",
    "apps/*/services/*/*.py",
    "apps/*/*/services.py",
    "apps/*/*/selectors.py",
)


def typecheck_targets() -> list[str]:
    found = {path.relative_to(ROOT).as_posix() for pattern in PATTERNS for path in ROOT.glob(pattern)}
    return sorted(found)


def test_the_patterns_find_the_known_modules():
    targets = typecheck_targets()
    for expected in (
        "apps/portfolio/services/fastpath/write.py",
        "apps/market/indicators/services.py",
        "apps/market/selectors.py",
    ):
        assert expected in targets


def test_makefile_typecheck_uses_the_same_modules():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^typecheck:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "Makefile has no typecheck recipe"
    assert "mypy" in recipe.group(1)
    for pattern in PATTERNS:
        assert pattern in recipe.group(1), f"make typecheck misses {pattern}"


@pytest.mark.slow
def test_services_and_selectors_typecheck_clean(tmp_path: Path):
    # A fresh cache in a temp dir: no stale results, and no clash with a concurrent run.
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--cache-dir",
        str(tmp_path / "mypy-cache"),
        *typecheck_targets(),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, f"mypy failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
