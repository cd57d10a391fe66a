from __future__ import annotations

import gc

from apps.core.gc_tuning import GEN0_THRESHOLD, gc_server_tune


def test_server_tuning_freezes_the_import_time_heap_and_raises_gen0():
    before = gc.get_threshold()
    try:
        gc_server_tune()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GEN0_THRESHOLD, before[1], before[2])
        # Objects made afterwards are still tracked and collected: cycles are freed.
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
