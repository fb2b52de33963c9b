"""Process tuning: the collector's thresholds, higher in a process that takes telemetry in."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cityos.tuning import GC_THRESHOLDS, INGEST_GC_THRESHOLDS, tune_process


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_an_ingest_process_collects_less_often_than_the_others(thresholds: None) -> None:
    tune_process()
    assert gc.get_threshold() == GC_THRESHOLDS
    tune_process(ingest=True)
    assert gc.get_threshold() == INGEST_GC_THRESHOLDS
    # above the ~100,000 objects a batch of 2,000 messages holds while written, plus the queued batches
    assert INGEST_GC_THRESHOLDS[0] > 2 * GC_THRESHOLDS[0]
