"""Runs the cases side of a process: warnings and NGSI-LD Alerts in, cases out; the time-limit timers.

Bus handlers only queue; one thread opens the cases (a warning of a configured indicator once, when it
is raised or first reaches the configured level; an ``Alert`` entity once) and, every ``TICK_SECONDS``,
reminds and escalates cases by their time limits.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from cityos.bus import Event
from cityos.cases import service, sources
from cityos.context import ENTITY_CREATED
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
TICK_SECONDS = 30.0
_STOP = Event("cases.stop", "", {})


class CasesRunner:
    def __init__(self, rt: Runtime, tenant: str | None = None, tick_seconds: float = TICK_SECONDS) -> None:
        self.rt = rt
        self.tenant = tenant or rt.settings.default_tenant
        self.tick_seconds = tick_seconds
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._cancels: list[Any] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.opened = 0  # cases opened from warnings and alerts

    def start(self) -> None:
        for subject in ("warning.raised", "warning.escalated", ENTITY_CREATED):
            self._cancels.append(self.rt.bus.subscribe(subject, self._events.put))
        self._thread = threading.Thread(target=self._run, name="cases", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
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
                log.exception("case not opened from %s %s", ev.subject, ev.key)

    def handle(self, ev: Event) -> None:
        """Open the case an event calls for, if it calls for one."""
        if ev.tenant != self.tenant:
            return
        out = None
        if ev.subject.startswith("warning."):
            out = sources.case_from_warning(self.rt, self.tenant, ev.data)
        elif ev.subject == ENTITY_CREATED and sources.is_alert(ev.data.get("types") or []):
            out = sources.case_from_alert(self.rt, self.tenant, ev.key, ev.data.get("attrs") or {})
        if out is not None and out.created:
            self.opened += 1

    def _tick(self) -> None:
        try:
            service.tick(self.rt, self.tenant)
        except Exception:
            log.exception("cases time-limit tick failed")

    def close(self) -> None:
        for cancel in self._cancels:
            cancel()
        self._stop.set()
        self._events.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout=10)
