"""The batching writer: messages from any transport, written in batches bounded by size and time.

Transports hand messages in, each with a *sink* and a token: the sink is told, once the batch that
holds them has committed, the tokens and outcomes of its messages all at once (the MQTT consumer
acknowledges them in one packet; an HTTP request's future gets its outcomes). A writer thread takes
what has gathered (up to ``batch_size`` messages, waiting at most ``batch_wait`` after the first), runs
:func:`ingest` on them (one transaction per tenant), and only then settles the sinks. If the store
fails, no sink of that batch is settled and the batch is tried again, so an MQTT message stays
unacknowledged and the broker keeps it.

The hand-off is a list behind one lock, which the writer swaps whole: a transport's thread does one
append a message (the writer is woken only when the list stops being empty or reaches a batch), and
the writer settles a batch with one call per sink, not one callback per message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from cityos.iot.ingest import ingest
from cityos.iot.models import Message, Outcome
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
Done = Callable[[Outcome], None]
RETRY_SECONDS = 1.0
QUEUED_BATCHES = 4


class Sink(Protocol):
    """Who is told what became of the messages it handed in (after their batch committed)."""

    def settle(self, tokens: list[Any], outcomes: list[Outcome]) -> None: ...


Entry = tuple[Message, Sink, Any]  # the message, its sink, the sink's token for it


class _Callbacks:
    """The sink of :meth:`IngestWriter.submit`: each message's token is its callback."""

    def settle(self, tokens: list[Any], outcomes: list[Outcome]) -> None:
        for done, outcome in zip(tokens, outcomes, strict=True):
            try:
                done(outcome)
            except Exception:
                log.exception("telemetry acknowledgement failed")


_CALLBACKS = _Callbacks()


class _Gather:
    """The sink of :meth:`IngestWriter.submit_many`: the outcomes in order, then the future (maybe over
    several batches)."""

    def __init__(self, n: int) -> None:
        self.future: Future[list[Outcome]] = Future()
        self.results: list[Outcome | None] = [None] * n
        self.left = n  # settled on the writer thread only

    def settle(self, tokens: list[Any], outcomes: list[Outcome]) -> None:
        for i, outcome in zip(tokens, outcomes, strict=True):
            self.results[i] = outcome
        self.left -= len(tokens)
        if self.left == 0:
            self.future.set_result([r for r in self.results if r is not None])


class IngestWriter:
    def __init__(self, rt: Runtime, *, batch_size: int | None = None, batch_wait: float | None = None) -> None:
        self.rt = rt
        self.batch_size = batch_size or rt.settings.iot_batch_size
        self.batch_wait = batch_wait if batch_wait is not None else rt.settings.iot_batch_wait_ms / 1000
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)  # the writer waits here for messages
        self._room = threading.Condition(self._lock)  # transports wait here while the writer is full
        self._pending: list[Entry] = []
        self._held = 0  # messages handed in by put() and not yet settled
        self._limit = QUEUED_BATCHES * self.batch_size
        self._stopping = False  # close(): store what is pending, then stop
        self._closed = False
        self._refusing = False  # set when shutting down: put() takes nothing more
        self._thread = threading.Thread(target=self._run, name="iot-writer", daemon=True)
        self._thread.start()

    def put(self, msg: Message, sink: Sink, token: Any) -> bool:
        """Hand one message in; ``sink.settle`` gets ``token`` and its outcome once it is stored or rejected.

        Blocks while ``QUEUED_BATCHES`` batches' worth of messages handed in wait unsettled: a
        transport reading faster than the store writes (an MQTT session resumed with a long backlog)
        then stops reading, instead of holding the backlog in memory. False when the writer is
        shutting down: the message is neither stored nor settled (the broker sends it again).
        """
        with self._lock:
            while self._held >= self._limit:
                if self._refusing:
                    return False
                self._room.wait(0.5)
            if self._refusing:
                return False
            self._held += 1
            self._append(msg, sink, token)
        return True

    def _append(self, msg: Message, sink: Sink, token: Any) -> None:
        """Under the lock: one more pending message; the writer is woken when it has something to do."""
        pending = self._pending
        pending.append((msg, sink, token))
        n = len(pending)
        if n == 1 or n == self.batch_size:
            self._ready.notify()

    def submit(self, msg: Message, done: Done) -> None:
        """Queue one message; ``done`` is called (on the writer thread) once it is stored or rejected.

        Blocks as :meth:`put` does while the writer is full."""
        self.put(msg, _CALLBACKS, done)

    def submit_many(self, messages: list[Message]) -> Future[list[Outcome]]:
        """Queue messages; the future holds their outcomes once all are stored."""
        if not messages:
            fut: Future[list[Outcome]] = Future()
            fut.set_result([])
            return fut
        gather = _Gather(len(messages))
        with self._lock:  # never waits for room: a request's messages are few, and its caller waits anyway
            for i, msg in enumerate(messages):
                self._append(msg, gather, i)
        return gather.future

    def _take(self) -> list[Entry] | None:
        with self._lock:
            while not self._pending:
                if self._stopping:
                    return None
                self._ready.wait()
            # up to batch_wait more from now (not from the first message's arrival, which may be a whole
            # batch's write ago): a busy writer then takes bigger batches, and pays its per-batch costs less often
            deadline = time.monotonic() + self.batch_wait
            while len(self._pending) < self.batch_size and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            if len(self._pending) <= self.batch_size:
                batch, self._pending = self._pending, []
            else:
                batch = self._pending[: self.batch_size]
                del self._pending[: self.batch_size]
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            while True:
                try:
                    outcomes = ingest(self.rt, [m for m, _, _ in batch])
                    break
                except Exception:
                    if self._closed:
                        log.exception("telemetry batch of %d not stored at shutdown: left unacknowledged", len(batch))
                        return
                    log.exception("telemetry batch of %d not stored: retrying", len(batch))
                    time.sleep(RETRY_SECONDS)
            self._settle(batch, outcomes)

    def _settle(self, batch: list[Entry], outcomes: list[Outcome]) -> None:
        by_sink: dict[int, tuple[Sink, list[Any], list[Outcome]]] = {}
        counted = 0  # those put() counted against the bound
        for (_, sink, token), outcome in zip(batch, outcomes, strict=True):
            held = by_sink.get(id(sink))
            if held is None:
                held = by_sink[id(sink)] = (sink, [], [])
            held[1].append(token)
            held[2].append(outcome)
            if not isinstance(sink, _Gather):
                counted += 1
        for sink, tokens, outs in by_sink.values():
            try:
                sink.settle(tokens, outs)
            except Exception:
                log.exception("telemetry acknowledgement failed")
        if counted:
            with self._lock:
                self._held -= counted
                self._room.notify_all()

    def refuse_new(self) -> None:
        """Take no more messages through put() (the first step of shutting down)."""
        with self._lock:
            self._refusing = True
            self._room.notify_all()

    def close(self) -> None:
        """Store what is pending, then stop."""
        self._closed = True
        with self._lock:
            self._stopping = True
            self._ready.notify()
        self._thread.join(timeout=30)


def writer(rt: Runtime) -> IngestWriter:
    return rt.parts.get(IngestWriter, lambda: IngestWriter(rt))
