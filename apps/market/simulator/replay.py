"""Replay sources: recorded tapes that drive the same trade -> book -> candle pipeline.

Accepted files (optionally gzipped):

* ``*.json`` trades, the shared-data format: a JSON list of
  ``[ts_ms, trade_id, order_id|null, side, price, amount, cost]`` (side = taker side).
* ``*.csv`` candles: header ``open_time_ms,open,high,low,close,volume``. Each candle is
  replayed as four trades (open, then low/high in the order the candle's direction implies,
  then close) whose sizes add up to the candle's volume, so the rebuilt candle matches it.
* ``*.jsonl`` written by ``manage.py record_market``: one JSON object per line,
  ``{"exchange": "binance"|"kucoin", "stream": <Binance stream or KuCoin topic>,
  "ts": <receive time ms>, "payload": <the message exactly as received>}``.
  Trade messages (Binance ``trade``/``aggTrade``, KuCoin ``/market/match``) are replayed;
  other lines are kept in the file for inspection but not needed to rebuild candles.

Returns ``{(exchange or None, SYMBOL): Replay}``; exchange None means "both venues". The
simulator shifts a tape by a whole number of ``align_ms`` so recorded candle boundaries stay
candle boundaries.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from .symbols import split_symbol

Tape = list[tuple[int, str, str, str]]  # (ts_ms, price, qty, taker side), oldest first


class Replay(NamedTuple):
    tape: Tape
    align_ms: int


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")  # type: ignore[return-value]
    return path.open(encoding="utf-8")  # type: ignore[return-value]


def _symbol_from_name(path: Path, symbol: str | None) -> str:
    if symbol:
        return symbol.replace("-", "").upper()
    match = re.search(r"(?:binance|kucoin)-([A-Z0-9]+)-", path.name)
    if match is None:
        raise ValueError(f"cannot tell the symbol of {path.name}: pass replay_symbol")
    name = match.group(1)
    if name.endswith("QUOTED"):  # the shared 1m file names only its quote asset
        name = "UNK" + name[: -len("QUOTED")]
    split_symbol(name)  # raises if the quote asset is unknown
    return name


def load_replay(path: Path, *, symbol: str | None = None) -> dict[tuple[str | None, str], Replay]:
    name = path.name.removesuffix(".gz")
    if name.endswith(".jsonl"):
        return {key: Replay(tape, 60_000) for key, tape in _load_jsonl(path).items()}
    if name.endswith(".json"):
        return {(None, _symbol_from_name(path, symbol)): Replay(_load_trades_json(path), 60_000)}
    if name.endswith(".csv"):
        tape, length = _load_candles_csv(path)
        return {(None, _symbol_from_name(path, symbol)): Replay(tape, length)}
    raise ValueError(f"unsupported replay file {path}")


def _load_trades_json(path: Path) -> Tape:
    with _open_text(path) as fh:
        rows = json.load(fh)
    tape = [(int(r[0]), str(r[4]), str(r[5]), str(r[3])) for r in rows]
    tape.sort(key=lambda t: t[0])
    return tape


def _load_candles_csv(path: Path) -> tuple[Tape, int]:
    with _open_text(path) as fh:
        rows = list(csv.DictReader(fh))
    opens = [int(r["open_time_ms"]) for r in rows]
    length = min((b - a for a, b in zip(opens, opens[1:], strict=False) if b > a), default=60_000)
    tape: Tape = []
    for r in rows:
        t0 = int(r["open_time_ms"])
        o, h, low, c = r["open"], r["high"], r["low"], r["close"]
        vol = Decimal(r["volume"])
        part = (vol / 4).quantize(Decimal("0.00000001")) if vol else Decimal(0)
        sizes = [part, part, part, vol - 3 * part]
        middle = (low, h) if Decimal(c) >= Decimal(o) else (h, low)
        prices = (o, *middle, c)
        sides = ("buy", "sell" if middle[0] == low else "buy", "buy" if middle[1] == h else "sell", "buy")
        times = (t0, t0 + length // 4, t0 + length // 2, t0 + length - 1)
        tape.extend((ts, p, str(q), s) for ts, p, q, s in zip(times, prices, sizes, sides, strict=True))
    return tape, length


def _load_jsonl(path: Path) -> dict[tuple[str | None, str], Tape]:
    tapes: dict[tuple[str | None, str], Tape] = {}
    with _open_text(path) as fh:
        for line in fh:
            if not line.strip():
                continue
            record = json.loads(line)
            trade = parse_recorded_trade(record)
            if trade is not None:
                exchange, sym, item = trade
                tapes.setdefault((exchange, sym), []).append(item)
    for tape in tapes.values():
        tape.sort(key=lambda t: t[0])
    return tapes


def parse_recorded_trade(record: dict) -> tuple[str, str, tuple[int, str, str, str]] | None:
    payload = record.get("payload") or {}
    if isinstance(payload, dict) and "data" in payload and "stream" in payload:
        payload = payload["data"]  # a combined-stream wrapper
    if record.get("exchange") == "binance" and payload.get("e") in ("trade", "aggTrade"):
        side = "sell" if payload["m"] else "buy"
        return "binance", payload["s"], (int(payload["T"]), payload["p"], payload["q"], side)
    if record.get("exchange") == "kucoin" and str(payload.get("topic", "")).startswith("/market/match:"):
        data = payload["data"]
        return (
            "kucoin",
            data["symbol"].replace("-", ""),
            (int(data["time"]) // 1_000_000, data["price"], data["size"], data["side"]),
        )
    return None
