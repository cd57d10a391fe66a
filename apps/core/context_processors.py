"""What every page needs: the paper-trading banner facts and the market source."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def product(request: HttpRequest) -> dict[str, Any]:
    from apps.core.banner import banner_state

    return {"banner": banner_state(), "market_source_setting": settings.MARKET_SOURCE}
