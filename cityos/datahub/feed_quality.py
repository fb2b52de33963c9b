"""A feed run's quality run, made in the background (数据质量检测 after 数据归集, issue 18 item 3): a feed answers
once its records are merged and its run stored, the run's quality ``pending``; then one thread of the process
runs the entry's rules over the run's records (:func:`cityos.datahub.quality_ops.after_feed`) and marks the run
``done`` with the quality run's id, or ``failed``. Runs are checked one at a time, in the order they were fed.

Nothing accepted is lost when that process stops first (a crash, SIGKILL, a restart): the run's records are
stored with the run, in the same transaction, with a claim of the process that makes its quality run: an
owner and a lease (``CITYOS_FEED_QUALITY_LEASE_SECONDS``) renewed every third of it while the owner lives.
Every API process (:class:`TakeUp`, a runner of the datahub component) looks at start and every half lease
for runs whose lease ran out, claims each with one conditional UPDATE (of two processes claiming at once,
only one gets it) and makes it, the run then saying when it was taken up (``quality_taken_up``). The quality
run is stored in one transaction with the feed run's outcome and the end of the claim, on the condition that
the claim is still the maker's: a process that stalled past its lease while another took the run over
stores nothing, so each run is made once. A run whose makers died ``MAX_ATTEMPTS`` times is marked failed
rather than taken up again.

A run taken up compares the records with the registry and the references as they are when it runs, not as
they were when the feed landed (a later feed may have changed them). Closing the runtime waits for the runs
queued (a CLI feed ends once its quality is done)."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection

from cityos.core.timefmt import now_iso
from cityos.datahub import feed_store as store
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
PENDING, DONE, FAILED = "pending", "done", "failed"
MAX_ATTEMPTS = 3  # processes that may die making one run's quality run before it is marked failed
TAKE_UP_BATCH = 100  # runs claimed per look (the rest at the next)


def _now_ms() -> int:
    return int(time.time() * 1000)


def pack(records: Sequence[Any]) -> bytes:
    """A feed's records as kept until its quality run is made: compact JSON, compressed fast (the feed waits)."""
    text = json.dumps(list(records), ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode(), 1)


def unpack(blob: bytes) -> list[Any]:
    records = json.loads(zlib.decompress(blob))
    return records if isinstance(records, list) else []


class ClaimLost(Exception):
    """The process making a feed run's quality run no longer holds its claim: another took the run over."""


class FeedQuality:
    """The process's queue of feed runs whose quality run it makes, and its claim on them (a part of the
    runtime): the runs it took the feed of, and those it took up."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.owner = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.lease_ms = int(float(rt.settings.feed_quality_lease_seconds) * 1000)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="datahub-feed-quality")
        self._jobs: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._beat: threading.Thread | None = None
        self._closed = threading.Event()

    def job(self, records: Sequence[Any]) -> dict[str, Any]:
        """The claim row of a run about to be stored by this process, with its records (the feed adds the
        tenant, the run's id and time)."""
        return {"owner": self.owner, "lease_ms": _now_ms() + self.lease_ms, "attempts": 1, "records": pack(records)}

    def submit(
        self, tenant: str, code: str, run_id: str, by: str, records: Sequence[Any] | None, taken_up: str | None = None
    ) -> None:
        """Queue a run this process holds the claim of (``records`` None: read from the database when its turn
        comes, for a run taken up)."""
        with self._lock:
            job = self._pool.submit(self._check, tenant, code, run_id, by, records, taken_up)
            self._jobs[run_id] = job
            if self._beat is None:
                self._beat = threading.Thread(target=self._heartbeat, name="datahub-feed-quality-lease", daemon=True)
                self._beat.start()
        job.add_done_callback(lambda _: self._forget(run_id))

    def _forget(self, run_id: str) -> None:
        with self._lock:
            self._jobs.pop(run_id, None)

    def _heartbeat(self) -> None:
        """Renew the claim of every run queued here every third of the lease; ends when none is queued."""
        while not self._closed.wait(self.lease_ms / 3000):
            with self._lock:
                if not self._jobs:
                    self._beat = None
                    return
            try:
                self.rt.db.run_write(lambda conn: store.renew(conn, self.owner, _now_ms() + self.lease_ms))
            except Exception:  # the database is away: tried again next beat (the lease outlasts two misses)
                log.exception("the claim on this process's pending feed quality runs could not be renewed")

    def _check(
        self, tenant: str, code: str, run_id: str, by: str, records: Sequence[Any] | None, taken_up: str | None
    ) -> None:
        from cityos.datahub.quality_ops import after_feed  # imports the feeds module when it runs

        try:  # still ours? a run queued past a lost lease is another process's now
            held = self.rt.db.run_write(
                lambda conn: store.renew(conn, self.owner, _now_ms() + self.lease_ms, tenant, run_id)
            )
            if held and records is None:
                with self.rt.db.connect() as conn:
                    blob = store.job_records(conn, tenant, run_id)
                held, records = blob is not None, unpack(blob) if blob is not None else None
        except Exception:
            log.exception("feed run %s: its pending quality run could not be read (taken up again later)", run_id)
            return
        if not held or records is None:
            log.warning("feed run %s: its quality run is made by another process (the claim here ran out)", run_id)
            return

        def done(conn: Connection, quality_run: str) -> None:  # in the quality run's transaction: both or neither
            if not store.finish(conn, tenant, run_id, self.owner, DONE, quality_run, taken_up):
                raise ClaimLost(f"feed run {run_id}: its quality run is another process's now (the claim here ran "
                                "out while it was made): the one made here is not stored")  # fmt: skip

        if after_feed(self.rt, tenant, code, run_id, by, records, done) is None:  # logs its own failure
            self._finish(tenant, run_id, FAILED, None, taken_up)

    def _finish(self, tenant: str, run_id: str, state: str, quality_run: str | None, taken_up: str | None) -> None:
        try:
            kept = self.rt.db.run_write(
                lambda conn: store.finish(conn, tenant, run_id, self.owner, state, quality_run, taken_up)
            )
        except Exception:
            log.exception("the quality state of feed run %s could not be stored (taken up again later)", run_id)
            return
        if not kept:
            log.warning("feed run %s: quality run %s made here after another process took the run over: the "
                        "run's outcome is that process's", run_id, quality_run)  # fmt: skip

    def take_up(self) -> int:
        """Claim the pending quality runs whose maker is gone (their lease ran out) and queue them here: how many
        were claimed. One whose makers died ``MAX_ATTEMPTS`` times is marked failed instead."""
        with self.rt.db.connect() as conn:
            found = store.expired(conn, _now_ms(), TAKE_UP_BATCH)
        taken = 0
        for tenant, run_id in found:
            attempts = self._claim(tenant, run_id)
            if attempts is None:
                continue  # another process claimed it first
            with self.rt.db.connect() as conn:
                run = store.get_run(conn, tenant, run_id)
            at = now_iso()
            if run is None:  # the run's row is gone (its tenant's data removed): nothing to check
                self._finish(tenant, run_id, FAILED, None, at)
                continue
            if attempts > MAX_ATTEMPTS:
                log.error("feed run %s: its quality run was taken up %d times, each maker stopping before it was "
                          "made: marked failed", run_id, attempts - 1)  # fmt: skip
                self._finish(tenant, run_id, FAILED, None, at)
                continue
            log.info("feed run %s of %s: taking up its pending quality run (its maker stopped)", run_id, run["code"])
            self.submit(tenant, run["code"], run_id, run["by"], None, taken_up=at)
            taken += 1
        return taken

    def _claim(self, tenant: str, run_id: str) -> int | None:
        def claim(conn: Connection) -> int | None:
            now = _now_ms()
            return store.claim(conn, tenant, run_id, self.owner, now, now + self.lease_ms)

        return self.rt.db.run_write(claim)

    def wait(self, run_id: str, timeout: float | None = None) -> None:
        """Until the quality run of ``run_id`` is made here (at once when it is not queued in this process);
        TimeoutError after ``timeout`` seconds."""
        with self._lock:
            job = self._jobs.get(run_id)
        if job is not None:
            job.result(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._closed.set()  # after the queue is done: its claims are renewed until then


def part(rt: Runtime) -> FeedQuality:
    """The process's feed quality queue (made on first use)."""
    return rt.parts.get(FeedQuality, lambda: FeedQuality(rt))


def job(rt: Runtime, records: Sequence[Any]) -> dict[str, Any]:
    """The claim row, with the records, that a feed stores with a run whose quality run this process makes."""
    return part(rt).job(records)


def queue(rt: Runtime, tenant: str, code: str, run_id: str, by: str, records: Sequence[Any]) -> None:
    """Make the quality run of feed run ``run_id`` (its ``records``, stored with it) in the background."""
    part(rt).submit(tenant, code, run_id, by, records)


def wait(rt: Runtime, run_id: str, timeout: float | None = None) -> None:
    """Until the quality run of feed run ``run_id`` queued in this process is made (TimeoutError after
    ``timeout`` seconds); at once when none is queued."""
    found = rt.parts.find(FeedQuality)
    if found is not None:
        found.wait(run_id, timeout)


class TakeUp:
    """The runner that takes up pending feed quality runs whose maker is gone: at start, then every half lease
    (every API process runs one; the claim in the database lets one make each run)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.every = float(rt.settings.feed_quality_lease_seconds) / 2
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="datahub-feed-quality-take-up", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.tick()  # at start, in this thread: the process serves meanwhile
        while not self._stop.wait(self.every):
            self.tick()

    def tick(self) -> int:
        """One look: how many runs were taken up. A failure is logged and looked at again next time."""
        try:
            return part(self.rt).take_up()
        except Exception:
            log.exception("looking for feed quality runs to take up failed (looked at again in %s s)", self.every)
            return 0

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
