"""The production example is what operators copy: it must keep acknowledged orders durable."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.production.example"


def _values() -> dict[str, str]:
    pairs = (
        line.split("=", 1) for line in EXAMPLE.read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def test_production_example_commits_orders_durably():
    assert _values()["PAPER_ORDER_ASYNC_COMMIT"].lower() == "false"
