"""Garbage-collector settings for the long-running server processes (daphne, ``serve``).

Why: with hundreds of WebSocket clients the web process pushes ~2,000 frames/s, and every
frame in flight (consumer events, queued messages, Twisted buffers) is a container object
alive for a few milliseconds. At CPython's default gen0 threshold (700 objects of net
growth) collections run many times a second and promote whatever is in flight, so full
(gen2) collections kept coming every ~10 s; each walked the whole heap (~280k objects: most
of them Django, the apps and the libraries as imported) while holding the GIL, stopping
every push for 100-250 ms on a loaded 2-vCPU machine. That was the p99 of
bench/ws_fanout.py (docs/PERFORMANCE.md, WebSocket fan-out).

- ``gc.freeze()`` once the application is imported moves that import-time heap to the
  permanent generation: it is never garbage, and no later collection walks it again.
- A gen0 threshold of 50,000 lets short-lived objects die by reference counting before any
  collection sees them, so almost nothing is promoted and full collections become rare.
  Cyclic garbage still gets collected; at most ~50k objects of it wait for the next pass.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000


def gc_server_tune(*, gen0_threshold: int = GEN0_THRESHOLD) -> None:
    """Call once, after the application and its libraries are imported."""
    gc.collect()  # what is garbage now must not be frozen (it would never be freed)
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
