"""The demo starts warm: before its first minute it holds weeks of simulated history, so that the vital
signs' windows are full, their baselines and forecasts have the past they need, and the dashboard's
sparklines and trends show the day so far.

Two parts, both from the simulator's own patterns (:func:`cityos.demo.patterns.reading`, the ordinary
days of the calendar), ending now, so that the live readings continue them:

* the indicator values' history (``warm_days``, 14 by default, on the 5-minute grid the shortest
  forecasts use), computed by the vital-signs engine over the devices of each place an indicator groups
  by: all of them where a type has few (``ALL_BELOW``: car parks, gauges, probes, tilt meters, weather
  stations); a tally of every parking spot per street (:class:`cityos.demo.patterns.SpotTally`: how many
  report occupied, as one observation standing for that many reports), so that the occupied share is the
  one the live engine computes over every spot; and a sample of the others (``per_place`` per place:
  eight where indicators count or sum devices, one elsewhere; counts and sums are scaled up to the whole
  group by :func:`cityos.vitals.replay`). Forecasts and baselines read these values, not the sensors'
  readings: fourteen days of every sensor's readings would be about 12 million rows, past what the demo
  keeps raw (2 days) and minutes to write;
* every device's readings over the last two spans of the longest window over its type (at most a few
  hours, at its reporting period, the newest with ``dateObserved``), written to the data hub's history
  as telemetry is, so that the engine refills full windows from them at start and the twin pages show
  each sensor's recent past.

A later start of the same database tops up the gap since its newest stored value instead.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cityos import context as hub
from cityos import vitals
from cityos.context import core_term_map
from cityos.core.places import REF_TERMS
from cityos.core.timefmt import from_ms
from cityos.demo.devices import DemoDevice, demo_devices
from cityos.demo.patterns import DEVICE_PROFILES, SpotTally, reading
from cityos.runtime import Runtime

STEP_MS = 300_000  # the grid of the history: the step of the 1-hour forecasts (a twelfth of the horizon)
DAY_MS = 86_400_000
RAW_BATCH = 500  # devices per transaction of recent readings


@dataclass(frozen=True)
class Sampled:
    """A device of the demo with where it sits (the strata the history's sample is drawn by)."""

    device: DemoDevice
    entity_id: str
    places: dict[str, str | None]  # "unit", "grid", "street" -> the place's id (None where it has none)
    kind: Any = None  # the static attribute indicators filter its type by (a gauge's alertLevel)


@dataclass(frozen=True)
class TypePlan:
    """How the history's sample of one device type is drawn and how often its devices report in it."""

    span_ms: int  # the longest window over the type
    level: str  # the finest place an indicator over it groups by: one sampled device per such place
    every_steps: int  # steps between a sampled device's reports
    weighted: frozenset[str]  # attributes only sums read: sampled values count for their stratum
    per_place: int  # devices sampled per place: more where indicators count or sum devices (a share of
    # occupied parking spots from one spot would be 0 or 1; a sum from one crowd counter its size times n)
    tallied: bool = False  # every device counted through a tally (TALLIES) instead of a sample


@dataclass
class WarmReport:
    values_from_ms: int | None  # where the values' history (or its top-up) starts; None: nothing to add
    steps: int = 0
    sampled: int = 0
    values: int = 0
    readings: int = 0  # recent readings written to the hub's history


def sampled_devices(entities: Sequence[dict[str, Any]]) -> list[Sampled]:
    """The demo's devices with their places, from the district's entities."""
    by_id = {e["id"]: e for e in entities}
    out = []
    for device, spec in demo_devices(entities):
        entity_id = spec.entity_id or f"urn:ngsi-ld:{device.entity_type}:{device.device_id}"
        e = by_id[entity_id]
        places = {level: (e.get(ref) or {}).get("object") for level, ref in REF_TERMS.items()}
        out.append(Sampled(device, entity_id, places, (e.get("alertLevel") or {}).get("value")))
    return out


def plan_types(cat: vitals.Catalogue, devices: dict[str, int] | None = None) -> dict[str, TypePlan]:
    """Entity type (short name) -> how its history is sampled (``devices``: how many the district has of each
    type). A type whose indicators count readings or sum them reports at its period (a count of readings
    depends on it); the others at half their shortest window at most often, enough for an average, extreme
    or distinct count over it."""
    devices = devices or {}
    inds: dict[str, list[vitals.Indicator]] = {}
    for ind in cat.by_id.values():
        # only the simulated devices' types: an indicator over another type (the plans' PlanFigures, defined by
        # the first start) has no readings to simulate and fills in live
        if ind.source is not None and ind.window is not None and ind.source.entityType in DEVICE_PROFILES:
            inds.setdefault(ind.source.entityType, []).append(ind)
    out = {}
    for entity_type, over in inds.items():
        spans = [int(i.window.duration.total_seconds() * 1000) for i in over if i.window is not None]
        period_ms = DEVICE_PROFILES[entity_type].period_s * 1000
        summed = any(i.aggregation == "sum" for i in over)
        counting = any(i.aggregation in ("count", "distinct") for i in over)
        # a sum needs every reading; the others two readings per window at least (a count of readings scaled
        # up by the replay's weight)
        every_ms = period_ms if summed else max(period_ms, min(spans) // 2)
        level = min((i.scope.level for i in over), key=lambda lv: _FINEST.get(lv, 1))
        others = {i.source.attr for i in over if i.aggregation != "sum" and i.source}
        weighted = frozenset({i.source.attr for i in over if i.aggregation == "sum" and i.source} - others)
        distinct = any(i.aggregation == "distinct" for i in over)
        tallied = entity_type in TALLIES and not distinct and not weighted  # a tally is a count of equal reports
        per_place = ALL if devices.get(entity_type, 0) <= ALL_BELOW else COUNTED_PER_PLACE if counting or summed else 1
        out[entity_type] = TypePlan(max(spans), level, max(1, every_ms // STEP_MS), weighted, per_place, tallied)
    return out


COUNTED_PER_PLACE = 8
ALL_BELOW = 64  # a type with this many devices or fewer: every one of them (an average over all a street's)
ALL = 1 << 30
TALLIES = {"ParkingSpot"}  # types whose indicators read one status that SpotTally gives for many devices at once
_FINEST = {"unit": 0, "grid": 1, "polygon": 1, "street": 2, "district": 3}


def plan_start(rt: Runtime, now_ms: int, days: float) -> int | None:
    """From when the values' history is to be computed: ``days`` back, or from the newest value stored
    when an earlier start left one within them (a top-up); None when the history is up to date."""
    newest = vitals.newest_value_ms(rt, rt.settings.default_tenant)
    start = now_ms - int(days * DAY_MS)
    if newest is not None and newest >= start:
        start = newest + 1
    start = -(-start // STEP_MS) * STEP_MS  # the first whole step
    return start if start <= now_ms else None


def sample(devices: Sequence[Sampled], plans: dict[str, TypePlan]) -> list[tuple[Sampled, float]]:
    """The first devices (as many as the plan says) of each type and kind in each place its plan groups by,
    each with how many devices of its stratum it stands for."""
    strata: dict[tuple[str, Any, Any], list[Sampled]] = {}
    for s in sorted(devices, key=lambda s: s.device.device_id):
        plan = plans.get(s.device.entity_type)
        if plan is not None and not plan.tallied:
            where = s.places.get(plan.level) if plan.level in s.places else None
            strata.setdefault((s.device.entity_type, where, s.kind), []).append(s)
    out = []
    for (entity_type, _, _), members in strata.items():
        n = plans[entity_type].per_place
        out += [(s, len(members) / min(n, len(members))) for s in members[:n]]
    return out


def warm_start(
    rt: Runtime,
    devices: Sequence[Sampled],
    *,
    days: float,
    now_ms: int,
    seed: int = 23,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> WarmReport:
    """Load the demo's history (see the module's docstring). ``progress(label, total)`` gives a function to
    call with each advance. Returns what was loaded."""
    tenant = rt.settings.default_tenant
    vitals.ensure_definitions(rt, tenant)
    counts = Counter(s.device.entity_type for s in devices)
    plans = plan_types(vitals.catalogue(rt, tenant), dict(counts))
    start = plan_start(rt, now_ms, days) if days > 0 else None
    report = WarmReport(start)
    if days <= 0:
        return report
    if start is None:  # the live demo stopped a moment ago: its history is there; the district's load reset
        # the devices' current state to the seed's, so each gets its reading of now again
        report.readings = _recent(rt, devices, plans, now_ms, now_ms, random.Random(seed), progress)
        return report
    rng = random.Random(seed)
    tm = core_term_map()
    picked = sample(devices, plans)
    tallies = _tallies(devices, plans)
    first = (start - max(p.span_ms for p in plans.values())) // STEP_MS * STEP_MS  # windows full by ``start``
    advance = progress("指标历史 Indicator history", (now_ms - first) // STEP_MS + 1) if progress else None
    steps = _steps(picked, tallies, plans, first, now_ms, rng)
    weights = {tm.expand(t): p.every_steps * STEP_MS / (DEVICE_PROFILES[t].period_s * 1000) for t, p in plans.items()}
    tallied = {tm.expand(t) for t, p in plans.items() if p.tallied}
    done = vitals.replay(rt, tenant, steps, keep_from_ms=start, count_weights=weights, tallied=tallied,
                         progress=advance)  # fmt: skip
    report.steps, report.values = done.steps, done.values
    report.sampled = len(picked) + sum(len(t.spots.keys) for t in tallies)
    report.readings = _recent(rt, devices, plans, now_ms, start, rng, progress)
    return report


@dataclass
class _Tally:
    """Every device of a tallied type in one place: the two of them that carry the tally's observations."""

    entity_type: str
    occupied_id: str  # the device whose observation stands for the spots reporting "occupied"
    free_id: str  # ... and the one for those reporting "free" (the same one where the place has a single spot)
    spots: SpotTally


def _tallies(devices: Sequence[Sampled], plans: dict[str, TypePlan]) -> list[_Tally]:
    """One tally per place of each tallied type, over all its devices there."""
    places: dict[tuple[str, Any], list[Sampled]] = {}
    for s in sorted(devices, key=lambda s: s.device.device_id):
        plan = plans.get(s.device.entity_type)
        if plan is not None and plan.tallied:
            places.setdefault((s.device.entity_type, s.places.get(plan.level)), []).append(s)
    return [_Tally(t, members[0].entity_id, members[-1].entity_id, SpotTally([m.device.device_id for m in members]))
            for (t, _), members in places.items()]  # fmt: skip


def _phase(device_id: str, every: int) -> int:
    """Which of its ``every`` steps (or ms) a device reports in (stable over runs and processes)."""
    return zlib.crc32(device_id.encode()) % every


def _observation(s: Sampled, at_ms: int, rng: random.Random, weight: float = 1.0,
                 weighted: frozenset[str] = frozenset(), when: tuple[datetime, str] | None = None,
                 ) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """The device's reading at ``at_ms`` as the hub stores it: attribute IRI -> [instance]; the ``weighted``
    attributes (short names) times ``weight``. ``when``: ``at_ms`` as a datetime and a timestamp, if made
    already (a step's devices share them)."""
    d = s.device
    at, stamp = when or (datetime.fromtimestamp(at_ms / 1000, UTC), from_ms(at_ms))
    values = reading(d.entity_type, d.device_id, at, "normal", rng, hot_spot=d.hot_spot, spot=d.unit)
    out: dict[str, list[dict[str, Any]]] = {}
    for name, spec in DEVICE_PROFILES[d.entity_type].measures.items():
        value = values[name] * weight if spec.attr in weighted else values[name]
        inst: dict[str, Any] = {"type": "Property", "value": value, "observedAt": stamp}
        if spec.unit_code:
            inst["unitCode"] = spec.unit_code
        out[_iri(spec.attr)] = [inst]
    return out


def _iri(term: str) -> str:
    found = _IRIS.get(term)
    if found is None:
        found = _IRIS[term] = core_term_map().expand(term)
    return found


_IRIS: dict[str, str] = {}


def _steps(
    picked: Sequence[tuple[Sampled, float]],
    tallies: Sequence[_Tally],
    plans: dict[str, TypePlan],
    first_ms: int,
    now_ms: int,
    rng: random.Random,
) -> Iterator[tuple[int, list[vitals.Observed]]]:
    """Each step's end and the readings of the sampled devices that report in it, at its end, with the tallies
    of the tallied types' devices (all of a place's that report the same, as one observation)."""
    types = {t: _iri(t) for t in DEVICE_PROFILES}
    status = _iri(DEVICE_PROFILES["ParkingSpot"].measures["st"].attr)
    due = [(s, w, plans[s.device.entity_type], _phase(s.device.device_id, plans[s.device.entity_type].every_steps))
           for s, w in picked]  # fmt: skip
    end = first_ms
    while end <= now_ms:
        n = end // STEP_MS
        when = (datetime.fromtimestamp(end / 1000, UTC), from_ms(end))
        observed: list[vitals.Observed] = [
            (s.entity_id, types[s.device.entity_type], _observation(s, end, rng, w, plan.weighted, when), 1)
            for s, w, plan, phase in due
            if n % plan.every_steps == phase
        ]
        for t in tallies:
            if n % plans[t.entity_type].every_steps:
                continue
            occupied = t.spots.occupied(when[0])
            for entity_id, value, times in ((t.occupied_id, "occupied", occupied),
                                            (t.free_id, "free", len(t.spots.keys) - occupied)):  # fmt: skip
                if times:
                    inst = {"type": "Property", "value": value, "observedAt": when[1]}
                    observed.append((entity_id, types[t.entity_type], {status: [inst]}, times))
        yield end, observed
        end += STEP_MS


def _recent(
    rt: Runtime,
    devices: Sequence[Sampled],
    plans: dict[str, TypePlan],
    now_ms: int,
    start_ms: int,
    rng: random.Random,
    progress: Callable[[str, int], Callable[[int], None]] | None,
) -> int:
    """Every device's readings over the last two spans of its type's longest window (from ``start_ms`` at the
    earliest: before it, the live demo's own readings are there), the newest with ``dateObserved``."""
    tm = core_term_map()
    observed_iri = tm.expand("dateObserved")
    advance = progress("近期读数 Recent readings", len(devices)) if progress else None
    written = 0
    ops: list[tuple[str, hub.Mutation]] = []
    for s in devices:
        entity_type = s.device.entity_type
        period_ms = DEVICE_PROFILES[entity_type].period_s * 1000
        plan = plans.get(entity_type)
        since = max(now_ms - 2 * (plan.span_ms if plan else period_ms), start_ms - period_ms)
        phase_ms = _phase(s.device.device_id, period_ms)
        at = since - (since - phase_ms) % period_ms + period_ms  # its first report after ``since``
        readings: list[tuple[str, dict[str, Any]]] = []
        last = None
        while at <= now_ms:
            readings += [(attr, insts[0]) for attr, insts in _observation(s, at, rng).items()]
            last, at = at, at + period_ms
            written += 1
        if last is None:
            continue
        readings.append((observed_iri, {"type": "Property", "value": from_ms(last), "observedAt": from_ms(last)}))
        ops.append((s.entity_id, hub.m_observe(s.entity_id, [tm.expand(entity_type)], readings)))
        if len(ops) >= RAW_BATCH:
            hub.apply(rt, rt.settings.default_tenant, ops)
            if advance:
                advance(len(ops))
            ops = []
    if ops:
        hub.apply(rt, rt.settings.default_tenant, ops)
        if advance:
            advance(len(ops))
    return written
