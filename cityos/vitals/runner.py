"""Runs the vitals engine in a process: entity events from the bus in, values and warnings stored.

The bus handler only queues events; one thread feeds them to the engine, lets time pass once a
second, and records what came out in one transaction per round, publishing the warning events after
it committed. Values are stored at most once a minute per indicator and group (and whenever the level
changes). The subscription starts before the windows are refilled from the history, so nothing
arrives unseen in between; an observation seen both ways counts once (windows ignore repeats).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from functools import partial
from typing import Any

from cityos.bus import Event
from cityos.context import (
    ENTITY_CREATED,
    ENTITY_EVENTS,
    ENTITY_UPDATED,
    EntityQuery,
    attribute_history,
    core_term_map,
    query_entities,
)
from cityos.runtime import Runtime
from cityos.vitals import metrics, service
from cityos.vitals.engine import Engine, IndicatorValue, LevelChange

log = logging.getLogger(__name__)
ROUND_SECONDS = 1.0
FORECAST_TICK_SECONDS = 10.0  # how often the forecaster looks for groups due a fresh forecast
ROUND_EVENTS = 20_000  # at most this many events in one round ...
ROUND_TAKE_SECONDS = 0.2  # ... or this long taking them in, so a deep queue still yields values each round
STORE_EVERY_MS = 60_000
KPI_PREFIX = "urn:ngsi-ld:KeyPerformanceIndicator:"
REBUILD_PAGE = 1000
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
        self.observed = 0  # events taken in by rounds
        self.last_round_seconds = 0.0
        self._forecast_at: dict[tuple[str, str], int] = {}  # (indicator, group) -> when last forecast (ms)
        self._forecaster: threading.Thread | None = None

    def start(self) -> None:
        service.ensure_definitions(self.rt, self.tenant)
        self._cancels.append(self.rt.bus.subscribe(ENTITY_EVENTS, self._events.put))  # nothing is missed meanwhile
        self.engine = self._fresh_engine()
        self._cancels.append(self.rt.bus.subscribe("vitals.definitions.changed", self._events.put))
        self._thread = threading.Thread(target=self._run, name="vitals", daemon=True)
        self._thread.start()
        # Forecasts in a thread of their own: a model fit must not hold up the warnings.
        self._forecaster = threading.Thread(target=self._forecast_loop, name="vitals-forecast", daemon=True)
        self._forecaster.start()

    def _fresh_engine(self) -> Engine:
        """An engine holding the stored warnings' levels, its windows refilled from the history."""
        engine = Engine(service.catalogue(self.rt, self.tenant), partial(service.entity_attrs, self.rt, self.tenant))
        for w in service.active_levels(self.rt, self.tenant):
            engine.hold(w.indicator, w.scope, w.level)
        values, changes = rebuild(self.rt, self.tenant, engine, int(time.time() * 1000))
        events = service.record(self.rt, self.tenant, self._worth_storing(values), changes)
        if events:
            self.rt.bus.publish(events)
        return engine

    def _run(self) -> None:
        next_tick = time.monotonic() + ROUND_SECONDS
        while not self._stop.is_set():
            batch = self._drain(max(0.0, next_tick - time.monotonic()))
            tick = time.monotonic() >= next_tick
            if tick:  # decided once: a round that ran late still lets the time pass, then the next tick is a second on
                next_tick = time.monotonic() + ROUND_SECONDS
            try:
                self._round(batch, tick=tick)
            except Exception:
                log.exception("vitals round failed")

    def _drain(self, wait: float) -> list[Event]:
        """The events of one round: what queued, up to ``ROUND_EVENTS`` or ``ROUND_TAKE_SECONDS`` of
        taking them in, so that a round's values come out while they are fresh however deep the queue."""
        out: list[Event] = []
        try:
            out.append(self._events.get(timeout=wait))
            until = time.monotonic() + ROUND_TAKE_SECONDS
            while len(out) < ROUND_EVENTS and (len(out) % 256 or time.monotonic() < until):
                out.append(self._events.get_nowait())
        except queue.Empty:
            pass
        return out

    def depth(self) -> int:
        """Events waiting for a round (a runner falling behind has a growing queue)."""
        return self._events.qsize()

    def _round(self, batch: list[Event], *, tick: bool) -> None:
        assert self.engine is not None
        started = time.monotonic()
        for ev in batch:
            if ev.tenant != self.tenant:
                continue
            if ev.subject == "vitals.definitions.changed":
                self.engine.flush()  # values of the old definitions are not stored: the new engine starts afresh
                self.engine = self._fresh_engine()
                continue
            if ev.subject not in (ENTITY_CREATED, ENTITY_UPDATED) or ev.key.startswith(KPI_PREFIX):
                continue  # our own indicator values, mirrored to the hub, come back as entity events
            take(self.engine, ev)
        values, changes = self.engine.advance(int(time.time() * 1000)) if tick else self.engine.flush()
        self.rounds += 1
        self.observed += len(batch)
        if values or changes:
            stored = self._worth_storing(values)
            events = service.record(self.rt, self.tenant, stored, changes)
            if events:
                self.rt.bus.publish(events)
            service.mirror_values(self.rt, self.tenant, self.engine.catalogue, stored)
        self.last_round_seconds = time.monotonic() - started
        metrics.ROUND_SECONDS.observe(self.last_round_seconds)
        metrics.QUEUE.set(self._events.qsize())

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

    def _forecast_loop(self) -> None:
        while not self._stop.wait(FORECAST_TICK_SECONDS):
            try:
                self.refresh_forecasts(int(time.time() * 1000))
            except Exception:
                log.exception("vitals forecast refresh failed")

    def refresh_forecasts(self, now_ms: int) -> int:
        """Forecast again each group whose last forecast is a forecast step old, publishing the changes
        of its pre-warnings; returns how many groups were forecast."""
        cat = service.catalogue(self.rt, self.tenant)
        done = 0
        for indicator, scope, step_ms in service.forecast_targets(self.rt, self.tenant, cat):
            if self._stop.is_set():
                break
            last = self._forecast_at.get((indicator, scope))
            if last is not None and now_ms - last < step_ms:
                continue
            self._forecast_at[(indicator, scope)] = now_ms
            events = service.refresh_prewarnings(self.rt, self.tenant, cat, indicator, scope, now_ms)
            done += 1
            if events:
                self.rt.bus.publish(events)
        return done

    def close(self) -> None:
        for cancel in self._cancels:
            cancel()
        self._stop.set()
        self._events.put(_WAKE)  # the thread may be waiting for events: let it see the stop now
        for thread in (self._thread, self._forecaster):
            if thread is not None:
                thread.join(timeout=10)


def take(engine: Engine, ev: Event) -> None:
    """An entity event's observations into the engine. Telemetry's events carry every observation of
    their batch under ``observed`` when the changed ``attrs`` leave some out (two readings of one device
    in one batch, late ones that only filled the history): each goes in, in time order, one layer of at
    most one instance per attribute at a time, so that q filters see one value of each."""
    types, attrs = ev.data.get("types") or [], ev.data.get("attrs") or {}
    created = ev.subject == ENTITY_CREATED
    observed: dict[str, list[dict[str, Any]]] | None = ev.data.get("observed")
    if not observed:
        engine.take(ev.key, types, attrs, complete=created)
        return
    if created:
        engine.prime(ev.key, attrs)
    for depth in range(max(len(v) for v in observed.values())):
        engine.take(ev.key, types, {a: [v[depth]] for a, v in observed.items() if depth < len(v)})


def rebuild(rt: Runtime, tenant: str, engine: Engine, now_ms: int) -> tuple[list[IndicatorValue], list[LevelChange]]:
    """Refill the engine's windows from the attribute history (the last window's length of each
    source), in time order, so that a restart in the middle of a window loses nothing of it.

    The values come out again (stored once: a stored key is left alone) without stepping levels;
    then each window's value now steps the level held by the stored warning. So a warning active
    before the restart is not raised twice, and one the data crossed meanwhile is raised once; a
    dip and rise entirely within the time the engine was down is not told apart from no change. A
    window whose history goes on from the span before its start counts as full; one without (a fresh
    start, a history that stops days ago) fills."""
    tm = core_term_map()
    found: list[tuple[int, str, str, str, dict[str, Any]]] = []  # (ts, entity, type IRI, attr IRI, instance)
    by_type: dict[str, dict[str, int]] = {}
    for (type_iri, attr_iri), span in engine.spans().items():
        by_type.setdefault(type_iri, {})[attr_iri] = span
    for type_iri, attrs in by_type.items():
        longest = max(attrs.values())
        offset = 0
        while True:
            query = EntityQuery(type=type_iri, limit=REBUILD_PAGE, offset=offset)
            rows = query_entities(rt, tenant, query, tm).rows
            for row in rows:
                engine.prime(row.id, row.attrs)
            if rows:
                series = attribute_history(rt, tenant, [r.id for r in rows], list(attrs), now_ms - longest, now_ms + 1)
                for (entity_id, attr_iri), items in series.items():
                    cut = now_ms - attrs[attr_iri]
                    found += [(i.ts, entity_id, type_iri, attr_iri, i.instance) for i in items if i.ts > cut]
                for attr_iri, span in attrs.items():  # history from the span before a window's start: it is full
                    before = attribute_history(rt, tenant, [r.id for r in rows], [attr_iri], now_ms - 2 * span,
                                               now_ms - span + 1, last_n=1)  # fmt: skip
                    oldest = min((i.ts for items in before.values() for i in items), default=None)
                    if oldest is not None:
                        engine.cover(type_iri, attr_iri, oldest)
            if len(rows) < REBUILD_PAGE:
                break
            offset += REBUILD_PAGE
    values: list[IndicatorValue] = []
    engine.quiet = True  # replaying what was seen before: its level changes are stored already
    minute = None
    for ts, entity_id, type_iri, attr_iri, inst in sorted(found, key=lambda f: f[0]):
        if ts // STORE_EVERY_MS != minute:  # values are stored once a minute: one value per minute is enough
            values += engine.flush()[0]
            minute = ts // STORE_EVERY_MS
        engine.take(entity_id, [type_iri], {attr_iri: [inst]})
    values += engine.flush()[0]
    v, changes = engine.settle(now_ms)  # the level now, from the level held and the value now
    return values + v, changes
