"""Runs the 好差评 side of a process (the ``onestop`` role): a closed case's rating, heard on the bus from
cases, becomes a rating record too; and every ``TICK_SECONDS`` the follow-ups of 差评 are reminded at 80 % of
their limit and escalated past it. Bus handlers only queue; one thread does the work."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from cityos.bus import Event
from cityos.onestop import ratings
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
TICK_SECONDS = 60.0
CASE_RATINGS = ("case.rate", "case.report_rated")  # the reporter's rating of a case, of a duplicate report
_STOP = Event("onestop.ratings.stop", "", {})


class RatingsRunner:
    def __init__(self, rt: Runtime, tenant: str | None = None, tick_seconds: float = TICK_SECONDS) -> None:
        self.rt = rt
        self.tenant = tenant or rt.settings.default_tenant
        self.tick_seconds = tick_seconds
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._cancels: list[Any] = []
        self._thread: threading.Thread | None = None
        self.recorded = 0  # case ratings recorded

    def start(self) -> None:
        for subject in CASE_RATINGS:  # one durable consumer per pattern (NATS): onestop-case-rate, …-report_rated
            durable = "onestop-" + subject.replace(".", "-")
            self._cancels.append(self.rt.bus.subscribe(subject, self._events.put, durable=durable))
        self._thread = threading.Thread(target=self._run, name="onestop-ratings", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                ev = self._events.get(timeout=self.tick_seconds)
            except queue.Empty:
                self._tick()
                continue
            if ev is _STOP:
                return
            try:
                self.handle(ev)
            except Exception:
                log.exception("case rating not recorded from %s %s", ev.subject, ev.key)

    def handle(self, ev: Event) -> None:
        """Record the rating a case event carries (again for the same event: nothing new)."""
        if ev.subject in CASE_RATINGS and ratings.rate_case(self.rt, ev.tenant, ev.data) is not None:
            self.recorded += 1

    def _tick(self) -> None:
        try:
            ratings.tick(self.rt, self.tenant)
        except Exception:
            log.exception("rating follow-up tick failed")

    def close(self) -> None:
        for cancel in self._cancels:
            cancel()
        self._events.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout=10)
