"""A feed run's quality run, made in the background (数据质量检测 after 数据归集, issue 18 item 3): a feed answers
once its records are merged and its run stored, the run's quality ``pending``; then one thread of the process
runs the entry's rules over the run's records (:func:`cityos.datahub.quality_ops.after_feed`) and marks the run
``done`` with the quality run's id, or ``failed``. Runs are checked one at a time, in the order they were fed.
Closing the runtime waits for the runs queued (a CLI feed ends once its quality is done); a process that dies
first leaves its runs pending."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from cityos.datahub import feed_store as store
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
PENDING, DONE, FAILED = "pending", "done", "failed"


class FeedQuality:
    """The process's queue of feed runs whose quality run is to be made (a part of the runtime)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="datahub-feed-quality")
        self._jobs: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def submit(self, tenant: str, code: str, run_id: str, by: str, records: Sequence[Any]) -> None:
        job = self._pool.submit(self._check, tenant, code, run_id, by, records)
        with self._lock:
            self._jobs[run_id] = job
        job.add_done_callback(lambda _: self._forget(run_id))

    def _forget(self, run_id: str) -> None:
        with self._lock:
            self._jobs.pop(run_id, None)

    def _check(self, tenant: str, code: str, run_id: str, by: str, records: Sequence[Any]) -> None:
        from cityos.datahub.quality_ops import after_feed  # imports the feeds module when it runs

        quality_run = after_feed(self.rt, tenant, code, run_id, by, records)  # logs its own failure
        state = DONE if quality_run is not None else FAILED
        try:
            self.rt.db.run_write(lambda conn: store.set_quality(conn, tenant, run_id, state, quality_run))
        except Exception:
            log.exception("the quality state of feed run %s could not be stored", run_id)

    def wait(self, run_id: str, timeout: float | None = None) -> None:
        """Until the quality run of ``run_id`` is made here (at once when it is not queued in this process);
        TimeoutError after ``timeout`` seconds."""
        with self._lock:
            job = self._jobs.get(run_id)
        if job is not None:
            job.result(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def queue(rt: Runtime, tenant: str, code: str, run_id: str, by: str, records: Sequence[Any]) -> None:
    """Make the quality run of feed run ``run_id`` (its ``records``) in the background."""
    rt.parts.get(FeedQuality, lambda: FeedQuality(rt)).submit(tenant, code, run_id, by, records)


def wait(rt: Runtime, run_id: str, timeout: float | None = None) -> None:
    """Until the quality run of feed run ``run_id`` queued in this process is made (TimeoutError after
    ``timeout`` seconds); at once when none is queued."""
    part = rt.parts.find(FeedQuality)
    if part is not None:
        part.wait(run_id, timeout)
