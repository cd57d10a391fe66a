from __future__ import annotations

import uuid

import pytest

from apps.portfolio.liquidity.memory import MemoryLiquidity
from apps.portfolio.liquidity.redis_store import RedisLiquidity


@pytest.fixture
def redis_store(redis_url):
    store = RedisLiquidity(url=redis_url, prefix=f"test:liq:{uuid.uuid4().hex[:8]}")
    yield store
    store.clear()


@pytest.fixture(params=["memory", "redis"])
def store(request):
    """Both stores must give the same answers to the same sequence of calls."""
    if request.param == "memory":
        return MemoryLiquidity()
    return request.getfixturevalue("redis_store")
