"""In-process bus: handlers run synchronously in the publisher's thread, in publish order.

Publishing with no subscriber costs almost nothing; events are not kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cityos.bus.base import BatchHandler, Event, Handler, subject_matches

log = logging.getLogger(__name__)


class MemoryBus:
    def __init__(self) -> None:
        self._subs: list[tuple[str, Handler]] = []
        self._lock = threading.Lock()

    def publish(self, events: list[Event]) -> None:
        subs = self._subs  # copy-on-write list: safe to iterate without the lock
        for ev in events:
            for pattern, handler in subs:
                if subject_matches(pattern, ev.subject):
                    try:
                        handler(ev)
                    except Exception:  # one failing consumer must not stop the others
                        log.exception("bus handler for %s failed on %s", pattern, ev.subject)

    def subscribe(self, pattern: str, handler: Handler, *, durable: str | None = None) -> Callable[[], None]:
        entry = (pattern, handler)
        with self._lock:
            self._subs = [*self._subs, entry]

        def cancel() -> None:
            with self._lock:
                self._subs = [s for s in self._subs if s is not entry]

        return cancel

    def subscribe_batches(
        self,
        pattern: str | tuple[str, ...],
        handler: BatchHandler,
        *,
        durable: str | None = None,
        replaces: str | None = None,
    ) -> Callable[[], None]:
        if isinstance(pattern, str):
            return self.subscribe(pattern, lambda event: handler([event]), durable=durable)
        patterns = pattern

        def one(event: Event) -> None:
            if any(subject_matches(p, event.subject) for p in patterns):
                handler([event])

        return self.subscribe(">", one, durable=durable)

    def close(self) -> None:
        with self._lock:
            self._subs = []
