"""The PAPER TRADING banner: safety score and market source, shown on every page.

Other apps register providers here so core stays free of their imports at module load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_providers: dict[str, Callable[[], Any]] = {}


@dataclass(frozen=True)
class BannerState:
    safety_score: float | None = None
    safety_ok: bool = True
    market_mode: str = "unknown"  # live | simulated | unknown
    extra: dict[str, Any] = field(default_factory=dict)


def register_banner_provider(name: str, provider: Callable[[], Any]) -> None:
    _providers[name] = provider


def banner_state() -> BannerState:
    values: dict[str, Any] = {}
    for name, provider in _providers.items():
        try:
            values[name] = provider()
        except Exception:
            values[name] = None
    safety = values.pop("safety", None) or {}
    market_mode = values.pop("market_mode", None) or "unknown"
    return BannerState(
        safety_score=safety.get("score"),
        safety_ok=safety.get("ok", True),
        market_mode=market_mode,
        extra=values,
    )
