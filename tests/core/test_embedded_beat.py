from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from apps.core.embedded_beat import EmbeddedBeat
from apps.ops.services import HEARTBEAT_KEY


@pytest.mark.django_db
def test_embedded_beat_runs_due_tasks_in_process():
    beat = EmbeddedBeat(schedule={"hb": {"task": "apps.ops.tasks.heartbeat_task", "schedule": timedelta(seconds=30)}})
    cache.delete(HEARTBEAT_KEY.format(source="celery"))
    now = datetime.now(UTC)
    assert beat.run_due(now) == ["hb"]
    assert cache.get(HEARTBEAT_KEY.format(source="celery")) is not None
    # Not due again until the interval has passed.
    assert beat.run_due(now + timedelta(seconds=1)) == []
