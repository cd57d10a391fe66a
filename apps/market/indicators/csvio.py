"""Candle CSV reading and indicator CSV/JSON-lines writing (pure: no ORM).

Input format (../shared/data): header ``open_time_ms,open,high,low,close,volume``, plain
or gzip. The whole file is validated before anything is returned, so a caller can refuse a
bad file without having printed half of it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from apps.market.indicators.engine import MAIN_COLUMNS, Bar, IndicatorValues

CANDLE_COLUMNS = ("open_time_ms", "open", "high", "low", "close", "volume")
_GZIP_MAGIC = b"\x1f\x8b"


class CandleFileError(ValueError):
    """A candle file that cannot be used; ``line`` is 1-based (the header is line 1)."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


def _open_text(path: Path) -> IO[str]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def _number(text: str, column: str, line: int) -> float:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise CandleFileError(f"{column} is not a number: {text!r}", line=line) from None
    if not value.is_finite():
        raise CandleFileError(f"{column} is not a finite number: {text!r}", line=line)
    return float(value)


def _open_time(text: str, line: int) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise CandleFileError(f"open_time_ms is not an integer: {text!r}", line=line) from None


def _header_positions(header: list[str] | None) -> dict[str, int]:
    if header is None:
        raise CandleFileError("empty file: expected a header " + ",".join(CANDLE_COLUMNS), line=1)
    names = [name.strip() for name in header]
    missing = [column for column in CANDLE_COLUMNS if column not in names]
    if missing:
        raise CandleFileError(f"missing column(s) {', '.join(missing)} in header {','.join(names)}", line=1)
    return {column: names.index(column) for column in CANDLE_COLUMNS}


def _parse_rows(rows: Iterator[list[str]], positions: dict[str, int]) -> list[Bar]:
    bars: list[Bar] = []
    width = max(positions.values()) + 1
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue  # a trailing blank line is harmless
        if len(row) < width:
            raise CandleFileError(f"expected {width} fields, got {len(row)}", line=line)
        open_time = _open_time(row[positions["open_time_ms"]], line)
        if bars and open_time <= bars[-1].open_time_ms:
            kind = "duplicate" if open_time == bars[-1].open_time_ms else "unsorted"
            raise CandleFileError(
                f"{kind} open_time_ms {open_time} (previous row has {bars[-1].open_time_ms})", line=line
            )
        values = [_number(row[positions[c]], c, line) for c in CANDLE_COLUMNS[1:]]
        bars.append(Bar(open_time, *values))
    return bars


def read_candle_csv(path: str | Path) -> list[Bar]:
    """All candles of a CSV file (plain or gzip), validated; raises CandleFileError."""
    path = Path(path)
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            positions = _header_positions(next(reader, None))
            bars = _parse_rows(reader, positions)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise CandleFileError(f"cannot read {path}: {exc}") from exc
    if not bars:
        raise CandleFileError("no candle rows after the header", line=2)
    return bars


def _csv_cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def format_csv(values: Iterable[IndicatorValues]) -> Iterator[str]:
    yield ",".join(("open_time_ms", *MAIN_COLUMNS))
    for v in values:
        yield ",".join((str(v.open_time_ms), *(_csv_cell(getattr(v, c)) for c in MAIN_COLUMNS)))


def format_json_lines(values: Iterable[IndicatorValues]) -> Iterator[str]:
    for v in values:
        row: dict[str, int | float | None] = {"open_time_ms": v.open_time_ms}
        row.update({c: _json_number(getattr(v, c)) for c in MAIN_COLUMNS})
        yield json.dumps(row, allow_nan=False)


def _json_number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value
