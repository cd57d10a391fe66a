from __future__ import annotations

import time

from django.core.cache import cache

HEARTBEAT_KEY = "ops:heartbeat:{source}"


def heartbeat_record(*, source: str) -> str:
    now = f"{time.time():.3f}"
    cache.set(HEARTBEAT_KEY.format(source=source), now, timeout=None)
    return now
