"""The batching writer: messages from any transport, written in batches bounded by size and time.

Transports hand each message in with a callback; a writer thread takes what has queued (up to
``batch_size`` messages, waiting at most ``batch_wait`` after the first), runs :func:`ingest` on
them (one transaction per tenant), and only then calls the callbacks, which acknowledge (MQTT
PUBACK, the HTTP answer). If the store fails, no callback of that batch is called with success and
the batch is tried again, so an MQTT message stays unacknowledged and the broker keeps it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from cityos.iot.ingest import ingest
from cityos.iot.models import Message, Outcome
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
Done = Callable[[Outcome], None]
RETRY_SECONDS = 1.0
QUEUED_BATCHES = 4


class IngestWriter:
    def __init__(self, rt: Runtime, *, batch_size: int | None = None, batch_wait: float | None = None) -> None:
        self.rt = rt
        self.batch_size = batch_size or rt.settings.iot_batch_size
        self.batch_wait = batch_wait if batch_wait is not None else rt.settings.iot_batch_wait_ms / 1000
        self._queue: queue.SimpleQueue[tuple[Message, Done] | None] = queue.SimpleQueue()
        # at most this many messages handed in by submit() wait unstored (see submit)
        self._room = threading.BoundedSemaphore(QUEUED_BATCHES * self.batch_size)
        self._thread = threading.Thread(target=self._run, name="iot-writer", daemon=True)
        self._closed = False
        self._refusing = False  # set when shutting down: submit() takes nothing more
        self._thread.start()

    def submit(self, msg: Message, done: Done) -> None:
        """Queue one message; ``done`` is called (on the writer thread) once it is stored or rejected.

        Blocks while ``QUEUED_BATCHES`` batches' worth of submitted messages wait: a transport
        reading faster than the store writes (an MQTT session resumed with a long backlog) then
        stops reading, instead of holding the backlog in memory.
        """
        while not self._room.acquire(timeout=0.5):
            if self._refusing:
                return  # shutting down: neither stored nor acknowledged, so the broker sends it again
        if self._refusing:
            self._room.release()
            return

        def done_and_free(outcome: Outcome) -> None:
            self._room.release()
            done(outcome)

        self._queue.put((msg, done_and_free))

    def submit_many(self, messages: list[Message]) -> Future[list[Outcome]]:
        """Queue messages; the future holds their outcomes once all are stored."""
        fut: Future[list[Outcome]] = Future()
        if not messages:
            fut.set_result([])
            return fut
        results: list[Outcome | None] = [None] * len(messages)
        left = [len(messages)]
        lock = threading.Lock()

        def one(i: int) -> Done:
            def done(outcome: Outcome) -> None:
                results[i] = outcome
                with lock:
                    left[0] -= 1
                    last = left[0] == 0
                if last:
                    fut.set_result([r for r in results if r is not None])

            return done

        for i, msg in enumerate(messages):
            self._queue.put((msg, one(i)))
        return fut

    def _take(self) -> list[tuple[Message, Done]] | None:
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        deadline = time.monotonic() + self.batch_wait
        while len(batch) < self.batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    item = self._queue.get(timeout=left)
                except queue.Empty:
                    break
            if item is None:
                self._queue.put(None)  # finish this batch, then stop
                break
            batch.append(item)
        return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            while True:
                try:
                    outcomes = ingest(self.rt, [m for m, _ in batch])
                    break
                except Exception:
                    if self._closed:
                        log.exception("telemetry batch of %d not stored at shutdown: left unacknowledged", len(batch))
                        return
                    log.exception("telemetry batch of %d not stored: retrying", len(batch))
                    time.sleep(RETRY_SECONDS)
            for (_, done), outcome in zip(batch, outcomes, strict=True):
                try:
                    done(outcome)
                except Exception:
                    log.exception("telemetry acknowledgement failed")

    def refuse_new(self) -> None:
        """Take no more messages through submit() (the first step of shutting down)."""
        self._refusing = True

    def close(self) -> None:
        """Store what is queued, then stop."""
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)


def writer(rt: Runtime) -> IngestWriter:
    return rt.parts.get(IngestWriter, lambda: IngestWriter(rt))
