"""Runs the vitals engine in a process: entity events from the bus in, values and warnings stored.

The bus handler only queues events; one thread feeds them to the engine, lets time pass once a
second, and records what came out in one transaction per round, publishing the warning events after
it committed. Values are stored at most once a minute per indicator and group (and whenever the level
changes); the newest of each is kept in memory for the overview.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from cityos.bus import Event
from cityos.context import service as hub
from cityos.context.errors import NgsiLdError
from cityos.runtime import Runtime
from cityos.vitals import service
from cityos.vitals.engine import Attrs, Engine, IndicatorValue, LevelChange

log = logging.getLogger(__name__)
ROUND_SECONDS = 1.0
STORE_EVERY_MS = 60_000
_WAKE = Event("vitals.wake", "", {})  # wakes the thread; not an entity event, so ignored


class VitalsRunner:
    def __init__(self, rt: Runtime, tenant: str | None = None) -> None:
        self.rt = rt
        self.tenant = tenant or rt.settings.default_tenant
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cancels: list[Any] = []
        self._stored: dict[tuple[str, str], tuple[int, int]] = {}  # (indicator, group) -> (minute, level)
        self.engine: Engine | None = None
        self.rounds = 0

    def start(self) -> None:
        service.ensure_definitions(self.rt, self.tenant)
        self.engine = Engine(service.catalogue(self.rt, self.tenant), self._load)
        self._cancels.append(self.rt.bus.subscribe("entity.*", self._events.put))
        self._cancels.append(self.rt.bus.subscribe("vitals.definitions.changed", self._events.put))
        self._thread = threading.Thread(target=self._run, name="vitals", daemon=True)
        self._thread.start()

    def _load(self, entity_id: str) -> Attrs | None:
        try:
            return hub.get_entity(self.rt, self.tenant, entity_id).attrs
        except NgsiLdError:
            return None

    def _run(self) -> None:
        next_round = time.monotonic() + ROUND_SECONDS
        while not self._stop.is_set():
            batch = self._drain(max(0.0, next_round - time.monotonic()))
            try:
                self._round(batch, tick=time.monotonic() >= next_round)
            except Exception:
                log.exception("vitals round failed")
            if time.monotonic() >= next_round:
                next_round = time.monotonic() + ROUND_SECONDS

    def _drain(self, wait: float) -> list[Event]:
        out: list[Event] = []
        try:
            out.append(self._events.get(timeout=wait))
            while len(out) < 10_000:
                out.append(self._events.get_nowait())
        except queue.Empty:
            pass
        return out

    def _round(self, batch: list[Event], *, tick: bool) -> None:
        assert self.engine is not None
        values: list[IndicatorValue] = []
        changes: list[LevelChange] = []
        for ev in batch:
            if ev.tenant != self.tenant:
                continue
            if ev.subject == "vitals.definitions.changed":
                self.engine = Engine(service.catalogue(self.rt, self.tenant), self._load)  # windows start afresh
                continue
            if ev.subject not in ("entity.created", "entity.updated"):
                continue
            v, c = self.engine.observe(
                ev.key, ev.data.get("types") or [], ev.data.get("attrs") or {}, complete=ev.subject == "entity.created"
            )
            values += v
            changes += c
        if tick:
            v, c = self.engine.advance(int(time.time() * 1000))
            values += v
            changes += c
            self.rounds += 1
        if not values and not changes:
            return
        events = service.record(self.rt, self.tenant, self._worth_storing(values), changes)
        if events:
            self.rt.bus.publish(events)

    def _worth_storing(self, values: list[IndicatorValue]) -> list[IndicatorValue]:
        """The first value of each minute per group, and every value that changed the level."""
        keep: dict[tuple[str, str, int], IndicatorValue] = {}
        for v in values:
            key = (v.indicator, v.scope)
            minute = v.at_ms // STORE_EVERY_MS
            last = self._stored.get(key)
            if last is None or last[0] != minute or last[1] != v.level:
                self._stored[key] = (minute, v.level)
                keep[(v.indicator, v.scope, v.at_ms)] = v
        return list(keep.values())

    def close(self) -> None:
        for cancel in self._cancels:
            cancel()
        self._stop.set()
        self._events.put(_WAKE)  # the thread may be waiting for events: let it see the stop now
        if self._thread is not None:
            self._thread.join(timeout=10)


def runner(rt: Runtime) -> VitalsRunner | None:
    return rt.parts.get("vitals.runner")
