"""Group commit for SQLite: one writer thread runs queued write jobs in batches, one commit per batch.

SQLite allows one writer at a time. Instead of many threads taking turns (each paying for its own
transaction and the thread switches), callers hand a job to the writer thread; it runs every job
waiting in the queue inside one transaction, each job in its own savepoint so that a failing job
rolls back alone, commits once, and then resolves each caller's future. A caller only learns its
result after the commit, so "publish after commit" holds for each job.

A caller that finds the writer idle (no batch running, none queued) runs its job in its own thread instead
(:meth:`GroupCommitWriter.run`): handing a lone job to the writer thread and back costs two thread switches, and
on a busy machine each waits for a core, which costs more than the transaction itself. Callers that come while
a job runs queue up and share the next commit, as before.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from cityos.store.engine import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
Job = tuple[Callable[[Connection], Any], Future]


class GroupCommitWriter:
    def __init__(self, db: Database, *, max_batch: int = 256) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._busy = threading.Lock()  # held while a batch or a caller's own job runs
        self._local = threading.local()
        self._claimed = False  # the writer thread holds a job it took from the queue and has not run yet

    def in_writer_thread(self) -> bool:
        """Whether this thread is running a write job (the writer thread, or a caller running its own)."""
        if getattr(self._local, "running", False):
            return True
        return self._thread is not None and threading.current_thread() is self._thread

    def run(self, fn: Callable[[Connection], T]) -> T:
        """``fn(conn)`` in a write transaction, its result once committed: in this thread when the writer is idle,
        else queued for the writer thread's next group commit."""
        if not self._claimed and self._queue.empty() and self._busy.acquire(blocking=False):
            try:
                self._local.running = True
                with self._db.immediate() as conn:  # a job alone: no savepoint, its failure rolls back all
                    return fn(conn)
            finally:
                self._local.running = False
                self._busy.release()
        return self.submit(fn).result()

    def submit(self, fn: Callable[[Connection], T]) -> Future[T]:
        """Queue ``fn(conn)``; the future resolves after the transaction that ran it committed."""
        self._ensure_started()
        fut: Future[T] = Future()
        self._queue.put((fn, fut))
        return fut

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="cityos-sqlite-writer", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            self._claimed = True  # a job is out of the queue: callers coming now queue behind it
            with self._busy:  # a caller's own job may be running: wait for it, then gather what queued meanwhile
                self._claimed = False
                while len(batch) < self._max_batch:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    batch.append(nxt)
                self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[Job]) -> None:
        results: list[tuple[Future, Any, BaseException | None]] = []
        try:
            with self._db.immediate() as conn:
                for fn, fut in batch:
                    if not fut.set_running_or_notify_cancel():
                        continue
                    savepoint = conn.begin_nested()
                    try:
                        value = fn(conn)
                    except BaseException as exc:  # the caller gets it; the batch goes on
                        savepoint.rollback()
                        results.append((fut, None, exc))
                    else:
                        savepoint.commit()
                        results.append((fut, value, None))
        except BaseException as exc:  # BEGIN or the commit failed: nothing of this batch was written
            log.exception("SQLite group commit failed")
            # every caller of the batch hears of it, those whose job had not run yet too (a BEGIN that timed
            # out on a locked database runs none): a future left pending blocks its caller for good
            for _fn, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for fut, value, err in results:
            if err is None:
                fut.set_result(value)
            else:
                fut.set_exception(err)
