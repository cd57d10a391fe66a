"""One table of cases for the number formatting: apps/core/formatting.py and static/js/format.js
must give the same text for each (the JS side runs under node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from apps.core import formatting

ROOT = Path(__file__).resolve().parents[2]
DASH = formatting.DASH

# (function, args, expected)
CASES = [
    ("fmt_price", ["8475.5196022675", "0.01"], "8,475.52"),
    ("fmt_price", ["8475.5196022675"], "8,475.52"),
    ("fmt_price", ["2.345678"], "2.3457"),
    ("fmt_price", ["0.0001234567"], "0.000123"),
    ("fmt_price", ["67000", "0.01"], "67,000.00"),
    ("fmt_price", ["0.010000", "0.01"], "0.01"),
    ("fmt_price", ["3.14159", "0.00010000"], "3.1416"),
    ("fmt_price", ["99.995", "0.01"], "100.00"),
    ("fmt_price", ["-99.995", "0.01"], "-100.00"),
    ("fmt_price", ["1234", "1"], "1,234"),
    ("fmt_price", [None], DASH),
    ("fmt_price", [""], DASH),
    ("fmt_price", ["abc"], DASH),
    ("fmt_qty", ["0.1895755", "0.00001"], "0.18958"),
    ("fmt_qty", ["1234.50000000"], "1,234.5"),
    ("fmt_qty", ["0.000000000000000001"], "0"),
    ("fmt_qty", ["0.123456789123456789"], "0.12345679"),
    ("fmt_qty", ["5", "0.00100000"], "5.000"),
    ("fmt_qty", ["1e-7"], "0.0000001"),
    ("fmt_money", ["0.1895755", "USDT"], "0.19"),
    ("fmt_money", ["10000", "USDT"], "10,000.00"),
    ("fmt_money", ["0.00012345678", "BTC"], "0.00012346"),
    ("fmt_money", ["-0.004", "USDT"], "0.00"),
    ("fmt_money", ["1234567.891", "EUR"], "1,234,567.89"),
    ("fmt_signed_money", ["12.5", "USDT"], "+12.50"),
    ("fmt_signed_money", ["-12.5", "USDT"], "-12.50"),
    ("fmt_signed_money", ["0.001", "USDT"], "0.00"),
    ("fmt_pct", ["-0.07"], "-0.07%"),
    ("fmt_pct", ["-0.0712345"], "-0.07%"),
    ("fmt_pct", ["12.345"], "12.35%"),
    ("fmt_pct", ["-0.001"], "0.00%"),
    ("fmt_signed_pct", ["0.5"], "+0.50%"),
    ("fmt_signed_pct", ["-0.07"], "-0.07%"),
    ("fmt_signed_pct", ["0"], "0.00%"),
    ("plain", ["0.00001000"], "0.00001"),
    ("plain", ["10"], "10"),
    ("plain", ["1E+1"], "10"),
    ("step_decimals", ["0.00001000"], 5),
    ("step_decimals", ["1"], 0),
    ("step_decimals", ["10"], 0),
    ("step_decimals", ["0"], None),
]

JS_NAMES = {
    "fmt_price": "fmtPrice",
    "fmt_qty": "fmtQty",
    "fmt_money": "fmtMoney",
    "fmt_signed_money": "fmtSignedMoney",
    "fmt_pct": "fmtPct",
    "fmt_signed_pct": "fmtSignedPct",
    "plain": "plain",
    "step_decimals": "stepDecimals",
}


@pytest.mark.parametrize(("name", "args", "expected"), CASES)
def test_python_formatting(name, args, expected):
    assert getattr(formatting, name)(*args) == expected


def test_decimal_values_format_like_their_strings():
    assert formatting.fmt_price(Decimal("8475.5196022675"), Decimal("0.01")) == "8,475.52"
    assert formatting.fmt_pct(Decimal("-0.07")) == "-0.07%"


def test_javascript_agrees_with_python():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        "const f = require(process.argv[1]); const cases = JSON.parse(process.argv[2]);"
        "const names = JSON.parse(process.argv[3]);"
        "console.log(JSON.stringify(cases.map(([n, a]) => { const v = f[names[n]](...a); return v === undefined ? null : v; })));"
    )
    result = subprocess.run(
        [node, "-e", script, str(ROOT / "static/js/format.js"), json.dumps(CASES), json.dumps(JS_NAMES)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    got = json.loads(result.stdout)
    mismatches = [(n, a, want, have) for (n, a, want), have in zip(CASES, got, strict=True) if want != have]
    assert mismatches == []


def test_template_filters_use_the_same_rules():
    from apps.core.templatetags import ui_format

    assert ui_format.price("8475.5196022675", "0.01") == "8,475.52"
    assert ui_format.qty("0.1895755", "0.00001") == "0.18958"
    assert ui_format.money("0.1895755") == "0.19" and ui_format.money("0.1895755", "BTC") == "0.18957550"
    # Returns and drawdown are fractions: -0.07 % is not "0%" (widthratio rounded it away).
    assert ui_format.ratio_pct(Decimal("-0.0007")) == "-0.07%"
    assert ui_format.ratio_pct(None) == DASH
    assert ui_format.signed_pct("1.25") == "+1.25%" and ui_format.plain("0.00001000") == "0.00001"
