"""manage.py indicators --csv FILE [--json]."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.market.indicators import MAIN_COLUMNS, Bar
from tests.market.indicators.helpers import assert_matches, talib_reference

HEADER = "open_time_ms,open,high,low,close,volume"


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("indicators", *args, stdout=out)
    return out.getvalue()


def _write(tmp_path: Path, text: str, name: str = "candles.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_output_on_a_shared_file(candle_files: list[Path], candle_bars: dict[str, list[Bar]]) -> None:
    path = next(p for p in candle_files if p.name.startswith("binance-ETHBTC"))
    lines = _run("--csv", str(path)).splitlines()
    assert lines[0] == "open_time_ms," + ",".join(MAIN_COLUMNS)
    rows = [line.split(",") for line in lines[1:]]
    bars = candle_bars[path.name]
    assert len(rows) == len(bars)
    assert rows[0] == [str(bars[0].open_time_ms)] + [""] * 7  # warm-up is empty, not a number
    reference = talib_reference(bars)
    for i, column in enumerate(MAIN_COLUMNS, start=1):
        assert_matches(column, (float(r[i]) if r[i] else None for r in rows), reference[column])


def test_json_lines_output(tmp_path: Path, candle_bars: dict[str, list[Bar]]) -> None:
    bars = candle_bars["binance-LTCBTC-5m-2018-01.csv.gz"][:50]
    plain = "\n".join([HEADER, *(",".join(map(str, b)) for b in bars)]) + "\n"
    path = tmp_path / "small.csv.gz"
    path.write_bytes(gzip.compress(plain.encode()))
    rows = [json.loads(line) for line in _run("--csv", str(path), "--json").splitlines()]
    assert len(rows) == 50
    assert list(rows[0]) == ["open_time_ms", *MAIN_COLUMNS]
    assert rows[0]["rsi"] is None and rows[14]["rsi"] is not None
    assert rows[32]["macd"] is None and isinstance(rows[33]["macd"], float)
    # the same file uncompressed gives the same numbers
    csv_path = _write(tmp_path, plain)
    assert [json.loads(line) for line in _run("--csv", str(csv_path), "--json").splitlines()] == rows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: empty file"),
        ("open_time_ms,open,high,low,close\n1,1,1,1,1\n", "line 1: missing column(s) volume"),
        (HEADER + "\n", "line 2: no candle rows"),
        (HEADER + "\n1000,1,2,0.5,1.5,10\n2000,1,abc,0.5,1.5,10\n", "line 3: high is not a number: 'abc'"),
        (HEADER + "\n1000,1,2,0.5,NaN,10\n", "line 2: close is not a finite number"),
        (HEADER + "\n1000,1,2,0.5,1.5,10\n2000,1,2,0.5,1.5\n", "line 3: expected 6 fields, got 5"),
        (HEADER + "\nx1,1,2,0.5,1.5,10\n", "line 2: open_time_ms is not an integer"),
        (HEADER + "\n1000,1,2,0.5,1.5,10\n3000,1,2,0.5,1.5,10\n2000,1,2,0.5,1.5,10\n", "line 4: unsorted"),
        (HEADER + "\n1000,1,2,0.5,1.5,10\n1000,1,2,0.5,1.5,10\n", "line 3: duplicate open_time_ms 1000"),
    ],
)
def test_bad_files_are_refused_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    out = io.StringIO()
    path = _write(tmp_path, text)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("indicators", "--csv", str(path), stdout=out)
    assert out.getvalue() == ""
    assert capsys.readouterr().out == ""


def test_missing_file_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        _run("--csv", str(tmp_path / "nope.csv"))


def test_manage_py_exits_non_zero_on_a_bad_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    path = _write(tmp_path, HEADER + "\n2000,1,2,0.5,1.5,10\n1000,1,2,0.5,1.5,10\n")
    done = subprocess.run(
        [sys.executable, str(root / "manage.py"), "indicators", "--csv", str(path)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    assert "line 3: unsorted" in done.stderr
