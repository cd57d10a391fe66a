from __future__ import annotations

from pathlib import Path

import pytest

from apps.market.indicators import Bar
from apps.market.indicators.csvio import read_candle_csv


@pytest.fixture(scope="session")
def candle_files(shared_data: Path) -> list[Path]:
    files = sorted(shared_data.glob("*.csv.gz"))
    assert files, f"no candle files in {shared_data}"
    return files


@pytest.fixture(scope="session")
def candle_bars(candle_files: list[Path]) -> dict[str, list[Bar]]:
    return {path.name: read_candle_csv(path) for path in candle_files}
