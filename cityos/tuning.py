"""Process tuning shared by every cityos server process, and by the benchmark that measures them."""

from __future__ import annotations

import gc

# The hub allocates many short-lived, acyclic dicts per entity (parsed bodies, stored documents,
# events); reference counting frees them. With CPython's default threshold of 700 allocations the
# cyclic collector runs thousands of times per batch and rescans a large live heap each time:
# measured here it took about 40% of a batch upsert. Cycles are rare in this code, so collect less often.
GC_THRESHOLDS = (50_000, 50, 100)
# `cityos ingest` keeps more alive at once: a batch being written (2,000 messages' instances, rows, the
# entities' states read, events: about 100,000 objects) beside up to four batches of messages waiting (each a
# NATS or MQTT message object and ours). At 50,000 the collector ran 19-20 times in 7 of 13 JetStream drains of
# 20,000 messages (not at all in the others), 45-104 µs of CPU a message (gc.callbacks in the
# drain's process); at 200,000 it ran in none of 10.
INGEST_GC_THRESHOLDS = (200_000, 50, 100)


def tune_process(*, ingest: bool = False) -> None:
    """Apply the process tuning (idempotent); ``ingest``: for a process that takes telemetry in."""
    gc.set_threshold(*(INGEST_GC_THRESHOLDS if ingest else GC_THRESHOLDS))


_frozen: list[bool] = []


def freeze_startup_objects() -> None:
    """Move everything allocated at start-up (modules, settings, routers) out of the collector's reach, once a
    process: a second start in the same process (the tests start an app per test) has no start-up left to
    freeze, and freezing again would keep whatever else is alive then (an earlier run's garbage) for good."""
    if _frozen:
        return
    _frozen.append(True)
    gc.collect()
    gc.freeze()
