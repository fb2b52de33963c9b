"""Process tuning shared by every cityos server process, and by the benchmark that measures them."""

from __future__ import annotations

import gc

# The hub allocates many short-lived, acyclic dicts per entity (parsed bodies, stored documents,
# events); reference counting frees them. With CPython's default threshold of 700 allocations the
# cyclic collector runs thousands of times per batch and rescans a large live heap each time:
# measured here it took about 40% of a batch upsert. Cycles are rare in this code, so collect less often.
GC_THRESHOLDS = (50_000, 50, 100)


def tune_process() -> None:
    """Apply the process tuning (idempotent)."""
    gc.set_threshold(*GC_THRESHOLDS)


def freeze_startup_objects() -> None:
    """Move everything allocated at start-up (modules, settings, routers) out of the collector's reach."""
    gc.collect()
    gc.freeze()
