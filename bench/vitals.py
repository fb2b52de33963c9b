"""Benchmark of the vital-signs engine (cityos.vitals). Prints figures; asserts nothing.

Workload (synthetic, from a seed): --indicators indicators (default 300) over one entity type,
BenchSensor, whose --attributes numeric attributes (default 120, values 0-100) --entities sensors
(default 2,000) report. The sensors sit in 100 units, 50 grids and 10 streets (refUnit, refGrid,
refStreet) and are created in the data hub before a runner starts.
  - 4/5 base indicators, each over one attribute (two per attribute by default): avg, sum, max, p95,
    count (with a q filter) or distinct, over a sliding (2/3) or tumbling window of 1, 2, 5, 10 or
    15 minutes, grouped by unit, grid, street or the district;
  - 1/5 derived: formulas over two or three indicators of the same level (a sixth of them over a
    district-wide one too: "this unit's share of the district");
  - a third have thresholds (minDuration 1m) above what the data reaches: levels are stepped on
    every value, but only the probe raises warnings;
  - probe_peak: the max of attribute `probe` over 15 minutes per unit, thresholds from 100,
    minDuration 0; each probe sensor is alone in a unit of its own, so each probe raises one warning.
An entity event carries --per-event attribute instances (default 4), observedAt = the time it is
sent, like the data hub's entity.updated events; figures count observations (attribute instances).

Figures:
  A. The engine alone (cityos.vitals.engine.Engine: pure, one thread, no bus, no database):
     --engine-seconds of event time (default 5) at the first --rate, fed to Engine.take as fast as
     it goes, Engine.flush every FLUSH_EVERY events (a runner round's worth) and Engine.advance once
     per event second as the runner does. Observations/s (also per event second) and indicator
     values/s (every IndicatorValue, derived ones included); the output says how full the windows
     got. With --steady-rate R, the same once the windows are full: 15 minutes of event time at R go
     in first, unmeasured.
  B. The runner end to end (cityos.vitals.runner.VitalsRunner on the in-process bus; SQLite and
     PostgreSQL, a fresh database and process for each run): a publisher thread in the same process
     publishes entity.updated events on rt.bus at each --rate for --duration seconds (default 30),
     and --probe-rate times a second (default 5) a probe value of 1000 or more.
       - observation → indicator: from an event's publish time (Event.time) to the end of the
         runner round that took it in: its values computed, stored (the runner keeps the first value
         of each minute per group, and level changes) and committed, the round's warning events
         published, the stored values mirrored to the data hub as KeyPerformanceIndicator entities.
         Measured by a subclass of VitalsRunner that times its rounds (the events of the mirrored
         entities come back to the runner over the bus; they are not counted);
       - observation → warning: from a probe's publish time to its warning.raised event on rt.bus;
       - observations/s taken in while publishing, and until the queue is empty (waiting at most
         --wait s more); the queue depth when publishing stopped; rounds/s; indicator values/s;
         observations the windows dropped as late (older than a sliding window reaches back, or in a
         tumbling window the clock closed already: a runner that falls behind loses data); peak RSS.
     Events not taken in by the end count as infinitely late ("never").
     Ratio: the runner's observations/s while publishing / the engine alone's over as many observations.

--repeats N: medians of N runs. --profile: cProfile of A and of the runner's thread.
Run: .venv/bin/python bench/vitals.py [--quick] [--db sqlite|postgresql|both] [--rate 20000,2000]
     [--duration 30] [--steady-rate 2000]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import multiprocessing as mp
import os
import pstats
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from context import fresh_database, pct  # bench/context.py

from cityos.bus import Event
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.context import service as hub
from cityos.context.entity import parse_entity
from cityos.context.jsonld import core_term_map
from cityos.core.timefmt import from_ms, now_iso
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade
from cityos.tuning import tune_process
from cityos.vitals import service
from cityos.vitals.definitions import CATEGORIES, Catalogue, load_catalogue
from cityos.vitals.engine import Attrs, Engine, IndicatorValue
from cityos.vitals.runner import VitalsRunner
from cityos.vitals.windows import Observation

TM = core_term_map()
SENSOR = "BenchSensor"
SENSOR_IRI = TM.expand(SENSOR)
PROBE_ATTR = "probe"
PROBE_IRI = TM.expand(PROBE_ATTR)
PROBE_ID = "probe_peak"
PROBE_THRESHOLDS = {"blue": 100, "yellow": 200, "orange": 300, "red": 400, "minDuration": "0s"}
AGGREGATIONS = ("avg", "sum", "max", "p95", "count", "distinct")
LEVELS = ("unit", "grid", "street", "district")
MINUTES = (1, 2, 5, 10, 15)
UNITS, GRIDS, STREETS = 100, 50, 10
TENANT = "default"
FLUSH_EVERY = 1000  # events between Engine.flush calls in A


# --- the workload -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    indicators: int
    attributes: int
    entities: int
    per_event: int
    seed: int = 7

    def attr(self, k: int) -> str:
        return f"m{k:03d}"


def sensor_id(n: int) -> str:
    return f"urn:ngsi-ld:{SENSOR}:s{n:05d}"


def probe_sensor_id(k: int) -> str:
    return f"urn:ngsi-ld:{SENSOR}:probe{k:04d}"


def places_of(n: int) -> tuple[str, str, str]:
    """Sensor n's unit, grid and street: units nest in grids, grids in streets."""
    u = n % UNITS
    g = u % GRIDS
    return (
        f"urn:ngsi-ld:ManagementUnit:bench-u{u:03d}",
        f"urn:ngsi-ld:Grid:bench-g{g:02d}",
        f"urn:ngsi-ld:Street:bench-s{g % STREETS:02d}",
    )


def sensor_doc(n: int) -> dict[str, Any]:
    unit, grid, street = places_of(n)
    return {
        "id": sensor_id(n),
        "type": SENSOR,
        "refUnit": {"type": "Relationship", "object": unit},
        "refGrid": {"type": "Relationship", "object": grid},
        "refStreet": {"type": "Relationship", "object": street},
    }


def probe_doc(k: int) -> dict[str, Any]:
    unit = f"urn:ngsi-ld:ManagementUnit:bench-probe{k:04d}"
    return {"id": probe_sensor_id(k), "type": SENSOR, "refUnit": {"type": "Relationship", "object": unit}}


def expanded(doc: dict[str, Any]) -> Attrs:
    """A sensor's relationships as the engine reads them (expanded names, instance lists)."""
    return {TM.expand(k): [v] for k, v in doc.items() if k not in ("id", "type")}


def catalogue_docs(w: Workload) -> list[dict[str, Any]]:
    """The indicator definitions: base and derived mixed from a seeded generator, and the probe."""
    rnd = random.Random(w.seed)
    n_derived = w.indicators // 5
    n_base = w.indicators - n_derived - 1
    categories = list(CATEGORIES)
    docs: list[dict[str, Any]] = []
    by_level: dict[str, list[str]] = {level: [] for level in LEVELS}
    out_of_reach = {"blue": 1e9, "yellow": 2e9, "orange": 3e9, "red": 4e9, "hysteresis": 1, "minDuration": "1m"}

    def common(ind_id: str, n: int, level: str) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": ind_id,
            "name": {"zh": f"基准指标{n}", "en": f"Bench indicator {n}"},
            "category": categories[n % len(categories)],
            "unit": "u",
            "scope": {"level": level},
        }
        if rnd.random() < 1 / 3:
            doc["thresholds"] = out_of_reach
        return doc

    for i in range(n_base):
        k = i % w.attributes
        level, agg = rnd.choice(LEVELS), rnd.choice(AGGREGATIONS)
        kind = "tumbling" if rnd.random() < 1 / 3 else "sliding"
        ind_id = f"b{i:03d}_{agg}_{level}"
        doc = common(ind_id, i, level)
        doc["source"] = {"entityType": SENSOR, "attr": w.attr(k)}
        if agg == "count":
            doc["source"]["q"] = f"{w.attr(k)}>50"
        doc["aggregation"] = agg
        doc["window"] = {"kind": kind, "duration": f"{rnd.choice(MINUTES)}m"}
        docs.append(doc)
        by_level[level].append(ind_id)
    for j in range(n_derived):
        level = rnd.choice([lv for lv in LEVELS if len(by_level[lv]) >= 3])
        a, b, c = rnd.sample(by_level[level], 3)
        form = rnd.randrange(4)
        doc = common(f"d{j:03d}_{level}", n_base + j, level)
        if level != "district" and by_level["district"] and rnd.random() < 1 / 6:
            doc["formula"] = f"{a} / max({rnd.choice(by_level['district'])}, 1)"
        elif form == 0:
            doc["formula"] = f"{a} / max({b}, 1)"
        elif form == 1:
            doc["formula"] = f"({a} + {b} + {c}) / 3"
        elif form == 2:
            doc["formula"] = f"max({a}, {b}) - min({a}, {c})"
        else:
            doc["formula"] = f"{a} * weight + {b}"
            doc["constants"] = {"weight": 0.5}
        docs.append(doc)
        by_level[level].append(doc["id"])
    docs.append(
        {
            "id": PROBE_ID,
            "name": {"zh": "基准探针", "en": "Bench probe"},
            "category": "crowds",
            "unit": "u",
            "source": {"entityType": SENSOR, "attr": PROBE_ATTR},
            "aggregation": "max",
            "window": {"kind": "sliding", "duration": "15m"},
            "scope": {"level": "unit"},
            "thresholds": PROBE_THRESHOLDS,
        }
    )
    return docs


def describe(cat: Catalogue) -> str:
    base = [i for i in cat.by_id.values() if not i.derived]
    kinds = Counter(i.window.kind for i in base if i.window)
    levels = Counter(i.scope.level for i in cat.by_id.values())
    return (
        f"{len(cat)} indicators: {len(base)} base ({kinds['sliding']} sliding, {kinds['tumbling']} tumbling), "
        f"{len(cat) - len(base)} derived, {sum(i.thresholds is not None for i in cat.by_id.values())} with "
        f"thresholds; by level {dict(sorted(levels.items()))}"
    )


class Stream:
    """Entity events of the sensors: round robin over sensors and over the attributes in blocks of
    ``per_event``, so every attribute is observed equally often."""

    def __init__(self, w: Workload) -> None:
        self.w = w
        self.ids = [sensor_id(n) for n in range(w.entities)]
        self.attrs = [TM.expand(w.attr(k)) for k in range(w.attributes)]
        self.rnd = random.Random(w.seed + 1)
        self.n = 0

    def next(self, at_ms: int) -> tuple[str, Attrs]:
        n, per = self.n, self.w.per_event
        self.n += 1
        stamp = from_ms(at_ms)
        attrs = {
            self.attrs[(n * per + t) % len(self.attrs)]: [
                {"type": "Property", "value": round(self.rnd.random() * 100, 1), "observedAt": stamp}
            ]
            for t in range(per)
        }
        return self.ids[n % len(self.ids)], attrs


def steady_held(cat: Catalogue, rate: float, w: Workload) -> float:
    """Observations the windows hold once full, at ``rate`` observations/s (tumbling: half full on average)."""
    per_attr = rate / w.attributes
    total = 0.0
    for ind in cat.by_id.values():
        if ind.window is not None and ind.source is not None and ind.source.attr != PROBE_ATTR:
            seconds = ind.window.duration.total_seconds()
            matched = 0.5 if ind.source.q else 1.0  # the q filters keep values above 50 (of 0-100)
            total += per_attr * matched * seconds * (1.0 if ind.window.kind == "sliding" else 0.5)
    return total


def longest_window(cat: Catalogue) -> int:
    """Seconds of the longest window of the catalogue."""
    return max(int(i.window.duration.total_seconds()) for i in cat.by_id.values() if i.window is not None)


def held(engine: Engine) -> int:
    return sum(len(win.obs) for win in engine.windows.values())


def late(engine: Engine) -> int:
    return sum(win.late for win in engine.windows.values())


def rss_mb(field_name: str = "VmHWM") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def profile_text(prof: cProfile.Profile, top: int = 18) -> str:
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(lines[start:])


# --- A. the engine alone --------------------------------------------------------------------------------


def engine_alone(w: Workload, rate: int, seconds: int, profile: bool, fill: int = 0) -> dict[str, Any]:
    """Feed ``seconds`` of event time at ``rate`` observations/s to a bare Engine, as fast as it goes.

    With ``fill``, that many seconds of event time go in first (quietly, not measured), so that the
    measured seconds find the windows as full as a long-running engine has them."""
    tune_process()
    cat = load_catalogue(catalogue_docs(w))
    entities = {sensor_id(n): expanded(sensor_doc(n)) for n in range(w.entities)}
    engine = Engine(cat, entities.get)
    stream = Stream(w)
    events_per_s = max(1, rate // w.per_event)
    t0_ms = int(time.time() * 1000) // 1000 * 1000 - (fill + seconds) * 1000

    def events_of(s: int) -> list[tuple[str, Attrs]]:
        return [stream.next(t0_ms + s * 1000 + e * 1000 // events_per_s) for e in range(events_per_s)]

    fill_started = time.perf_counter()
    if fill:
        engine.quiet = True
        for s in range(fill):
            for entity_id, attrs in events_of(s):
                engine.take(entity_id, (SENSOR_IRI,), attrs)
            engine.advance(t0_ms + (s + 1) * 1000)
        engine.quiet = False
    fill_s = time.perf_counter() - fill_started
    held_at_start = held(engine)
    prof = cProfile.Profile() if profile else None
    curve: list[tuple[float, int, int]] = []  # per second of event time: (wall seconds, observations, values)
    changes = 0
    for s in range(fill, fill + seconds):
        events = events_of(s)
        if prof:
            prof.enable()
        start = time.perf_counter()
        n_values = 0
        for n, (entity_id, attrs) in enumerate(events, 1):
            engine.take(entity_id, (SENSOR_IRI,), attrs)
            if n % FLUSH_EVERY == 0:  # the runner flushes once a round; its rounds take ~1,000 events
                v, c = engine.flush()
                n_values += len(v)
                changes += len(c)
        v, c = engine.advance(t0_ms + (s + 1) * 1000)  # once a second, as the runner does
        n_values += len(v)
        changes += len(c)
        curve.append((time.perf_counter() - start, len(events) * w.per_event, n_values))
        if prof:
            prof.disable()
    return {
        "rate": rate,
        "seconds": seconds,
        "fill": fill,
        "fill_s": fill_s,
        "curve": curve,
        "held_at_start": held_at_start,
        "held": held(engine),
        "steady_held": steady_held(cat, rate, w),
        "bytes_per_held": bytes_per_observation(),
        "windows": len(engine.windows),
        "changes": changes,
        "rss_mb": rss_mb(),
        "profile": profile_text(prof) if prof else "",
    }


def bytes_per_observation() -> float:
    """Memory of one observation held in a window (the object, its value, its place in the list)."""
    ids = [sensor_id(n) for n in range(100)]
    tracemalloc.start()
    held_obs = [Observation(1_700_000_000_000 + i, ids[i % 100], i / 7) for i in range(100_000)]
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return size / len(held_obs)


def engine_rate(a: dict[str, Any], first: int | None = None) -> tuple[float, float]:
    """Observations/s and values/s of phase A, over its first ``first`` observations (None: all)."""
    wall = obs = values = 0.0
    for t, n, v in a["curve"]:
        if first is not None and obs >= first:
            break
        wall, obs, values = wall + t, obs + n, values + v
    return obs / wall, values / wall


# --- B. the runner, end to end ----------------------------------------------------------------------------


class TimedRunner(VitalsRunner):
    """The runner as it is, with each round timed: which events it took in, how long it took, when it
    ended (values stored and committed, warning events published), and how many values came out."""

    def __init__(self, rt: Runtime, profile: bool = False) -> None:
        super().__init__(rt)
        self.latencies: list[float] = []  # seconds from an event's publish to the end of its round
        self.observations = 0
        self.batches = 0
        self.values = 0
        self.round_s: list[float] = []
        self.tick_s: list[float] = []  # the rounds that also let time pass (Engine.advance)
        self.last_at = 0.0
        self.profiler = cProfile.Profile() if profile else None

    def _run(self) -> None:
        if self.profiler is not None:
            self.profiler.runcall(super()._run)
        else:
            super()._run()

    def _round(self, batch: list[Event], *, tick: bool) -> None:
        start = time.perf_counter()
        super()._round(batch, tick=tick)
        done = time.time()
        if tick:
            self.tick_s.append(time.perf_counter() - start)
        entity_events = [ev for ev in batch if ev.subject == "entity.updated" and SENSOR_IRI in ev.data["types"]]
        if not entity_events:
            return
        self.round_s.append(time.perf_counter() - start)
        self.batches += 1
        self.last_at = done
        for ev in entity_events:
            self.latencies.append(done - ev.time)
            self.observations += len(ev.data["attrs"])

    def _worth_storing(self, values: list[IndicatorValue]) -> list[IndicatorValue]:
        self.values += len(values)
        return super()._worth_storing(values)


class Publisher(threading.Thread):
    """Publishes the sensors' events on the bus at ``rate`` observations/s, stamped with the send time,
    in one bus.publish every 5 ms (what is due by then); and a probe value ``probe_rate`` times a second."""

    def __init__(self, rt: Runtime, w: Workload, rate: int, seconds: float, probe_rate: float) -> None:
        super().__init__(name="publisher", daemon=True)
        self.rt, self.w, self.rate, self.seconds, self.probe_rate = rt, w, rate, seconds, probe_rate
        self.stream = Stream(w)
        self.sent_obs = 0
        self.sent_events = 0
        self.probes: dict[float, float] = {}  # probe value -> publish time
        self.elapsed = 0.0

    def run(self) -> None:
        events_per_s = self.rate / self.w.per_event
        regular = 0
        t0 = time.monotonic()
        while (elapsed := time.monotonic() - t0) < self.seconds:
            due = int(events_per_s * elapsed) - regular
            batch: list[Event] = []
            now_ms = int(time.time() * 1000)
            for _ in range(due):
                entity_id, attrs = self.stream.next(now_ms)
                batch.append(self.event(entity_id, attrs))
            while len(self.probes) < int(self.probe_rate * elapsed) + 1:
                value = 1000.0 + len(self.probes)
                probe = [{"type": "Property", "value": value, "observedAt": from_ms(now_ms)}]
                batch.append(ev := self.event(probe_sensor_id(len(self.probes)), {PROBE_IRI: probe}))
                self.probes[value] = ev.time
            if batch:
                self.rt.bus.publish(batch)
            regular += due
            self.sent_events += len(batch)
            self.sent_obs += sum(len(ev.data["attrs"]) for ev in batch)
            time.sleep(0.005)
        self.elapsed = time.monotonic() - t0

    @staticmethod
    def event(entity_id: str, attrs: Attrs) -> Event:
        """As the data hub publishes an update (the changed attributes only)."""
        return Event("entity.updated", entity_id, {"id": entity_id, "types": [SENSOR_IRI], "attrs": attrs}, TENANT)


class WarningWatch:
    """Notes when each probe's warning.raised event arrives on the bus."""

    def __init__(self, rt: Runtime) -> None:
        self.seen: dict[float, float] = {}  # probe value -> arrival time
        self.others = 0
        self.cancel = rt.bus.subscribe("warning.*", self.on_warning)

    def on_warning(self, ev: Event) -> None:
        now = time.time()
        d = ev.data
        if d.get("indicator") == PROBE_ID and d.get("kind") in ("raised", "escalated"):
            self.seen.setdefault(float(d["value"]), now)
        else:
            self.others += 1


def setup(rt: Runtime, w: Workload, probes: int, tmp: Path) -> float:
    """Definitions and entities in the database, as a deployment would have them; returns entities/s."""
    path = tmp / "bench-indicators.yaml"
    path.write_text(yaml.safe_dump({"indicators": catalogue_docs(w)}, allow_unicode=True), encoding="utf-8")
    service.ensure_definitions(rt, TENANT, path)
    docs = [sensor_doc(n) for n in range(w.entities)] + [probe_doc(k) for k in range(probes)]
    t0 = time.perf_counter()
    for start in range(0, len(docs), 1000):
        parsed = [parse_entity(d, TM, now=now_iso()) for d in docs[start : start + 1000]]
        outcomes = hub.apply(rt, TENANT, [(p.id or "", hub.m_replace(p, create=True)) for p in parsed], creates=True)
        assert all(o.error is None for o in outcomes)
    return len(docs) / (time.perf_counter() - t0)


def censored(done: list[float], missing: int, p: float) -> float:
    """The p-th percentile of latencies when ``missing`` more never completed (counted as infinite)."""
    return pct(done + [math.inf] * missing, p) if done or missing else math.nan


def runner_run(
    kind: str, w: Workload, rate: int, seconds: int, probe_rate: float, wait: float, profile: bool
) -> dict[str, Any]:
    """One run of the runner at ``rate`` on a fresh database of ``kind``."""
    tune_process()
    with tempfile.TemporaryDirectory(prefix="cityos-bench-vitals-") as d:
        tmp = Path(d)
        db, drop = fresh_database(kind, tmp)
        try:
            upgrade(db)
            rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
            created_s = setup(rt, w, int(probe_rate * seconds) + 2, tmp)
            runner = TimedRunner(rt, profile=profile)
            t_start = time.perf_counter()
            runner.start()
            start_s = time.perf_counter() - t_start
            watch = WarningWatch(rt)
            rss_before = rss_mb("VmRSS")
            pub = Publisher(rt, w, rate, seconds, probe_rate)
            t0 = time.time()
            pub.start()
            pub.join()
            t_stop = time.time()
            depth_at_stop, taken_while = runner.depth(), runner.observations
            deadline = time.monotonic() + wait
            while len(runner.latencies) < pub.sent_events and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)  # the warning events of the last round
            # what the runner did by now (it goes on with its round while it is being closed)
            obs_lat = [x * 1000 for x in runner.latencies]
            warn_lat = [(watch.seen[v] - t) * 1000 for v, t in list(pub.probes.items()) if v in watch.seen]
            taken, batches, values, round_s = runner.observations, runner.batches, runner.values, list(runner.round_s)
            tick_s, snapshot_at = list(runner.tick_s), time.time()
            drained = len(obs_lat) >= pub.sent_events
            end = runner.last_at if drained else time.time()
            missing = pub.sent_events - len(obs_lat)
            unwarned = len(pub.probes) - len(warn_lat)
            engine = runner.engine
            runner.close()
            watch.cancel()
            return {
                "db": kind,
                "rate": rate,
                "created_s": created_s,
                "start_s": start_s,
                "published_s": pub.sent_obs / pub.elapsed,
                "sent": pub.sent_obs,
                "taken": taken,
                "taken_while_s": taken_while / (t_stop - t0),
                "taken_total_s": taken / (end - t0),
                "drained": drained,
                "drain_s": max(0.0, end - t_stop),
                "depth_at_stop": depth_at_stop,
                "missing_events": missing,
                "per_event": w.per_event,
                "rounds_s": batches / (end - t0),
                "round_ms_p50": statistics.median(round_s) * 1000 if round_s else math.nan,
                "round_ms_max": max(round_s, default=math.nan) * 1000,
                "ticks": len(tick_s),
                "ticks_s": len(tick_s) / (snapshot_at - t0),
                "tick_ms_p50": statistics.median(tick_s) * 1000 if tick_s else math.nan,
                "tick_ms_max": max(tick_s, default=math.nan) * 1000,
                "events_per_round": len(obs_lat) / max(1, batches),
                "values_s": values / (end - t0),
                "obs_p50": censored(obs_lat, missing, 50),
                "obs_p99": censored(obs_lat, missing, 99),
                "probes": len(pub.probes),
                "warnings": len(warn_lat),
                "other_warnings": watch.others,
                "warn_p50": censored(warn_lat, unwarned, 50),
                "warn_p99": censored(warn_lat, unwarned, 99),
                "late": late(engine) if engine else 0,
                "held": held(engine) if engine else 0,
                "rss_before_mb": rss_before,
                "rss_mb": rss_mb(),
                "profile": profile_text(runner.profiler) if runner.profiler else "",
            }
        finally:
            drop()


# --- running and printing ----------------------------------------------------------------------------------


def in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn`` in a forked process of its own, so that each run's memory and peak RSS are its own."""
    ctx = mp.get_context("fork")
    out: Any = ctx.Queue()

    def target() -> None:
        try:
            out.put(fn(*args))
        except BaseException as exc:
            out.put({"error": f"{type(exc).__name__}: {exc}"})
            raise

    proc = ctx.Process(target=target)
    proc.start()
    try:
        result: dict[str, Any] = out.get(timeout=3600)
    except queue.Empty:
        result = {"error": "no result within an hour"}
    proc.join(60)
    if "error" in result:
        raise SystemExit(f"{fn.__name__} failed: {result['error']}")
    return result


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Numbers as the median over the runs; the rest from the first run."""
    out = dict(runs[0])
    for k, v in runs[0].items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[k] = statistics.median(r[k] for r in runs)
    return out


def ms(x: float) -> str:
    return "never" if math.isinf(x) else f"{x:,.0f} ms"


def print_engine(a: dict[str, Any]) -> None:
    obs_s, values_s = engine_rate(a)
    wall = sum(t for t, _n, _v in a["curve"])
    per_second = ", ".join(f"{n / t / 1000:.1f}k" for t, n, _v in a["curve"])
    if a["fill"]:
        print(
            f"\nA. engine alone, windows full: {a['fill']} s of event time at {a['rate']:,} obs/s went in first "
            f"(in {a['fill_s']:.0f} s, unmeasured), then {a['seconds']} s measured"
        )
    else:
        print(
            f"\nA. engine alone (one thread, no bus, no database): {a['seconds']} s of event time "
            f"at {a['rate']:,} obs/s"
        )
    print(f"  observations/s          {obs_s:>10,.0f}   by second of event time: {per_second}")
    print(f"  indicator values/s      {values_s:>10,.0f}   ({values_s / obs_s:.2f} per observation)")
    print(f"  CPU per event second    {wall / a['seconds']:>10.2f} s   (1.00 is as fast as the data comes)")
    full = a["steady_held"]
    print(
        f"  windows                 {a['windows']:>10,}   holding {a['held_at_start']:,} observations at the start, "
        f"{a['held']:,} at the end: {100 * a['held'] / full:.1f}% of the about {full / 1e6:,.2f} million they "
        f"hold once full ({full * a['bytes_per_held'] / 1e9:.1f} GB at {a['bytes_per_held']:.0f} bytes each)"
    )
    print(f"  peak RSS                {a['rss_mb']:>10,.0f} MB")


def print_runner(r: dict[str, Any], a: dict[str, Any] | None, seconds: int, repeats: int) -> None:
    runs = "" if repeats == 1 else f", median of {repeats} runs"
    print(f"\nB. [{r['db']}] runner on the in-process bus, {r['rate']:,} obs/s offered for {seconds} s{runs}")
    ratio = ""
    if a is not None and a["rate"] == r["rate"]:
        ceiling, _ = engine_rate(a, int(r["taken"]))
        kept_up = r["drained"] and r["depth_at_stop"] < r["rate"] / r["per_event"]
        ratio = f"   ratio to the engine alone over as many observations {r['taken_while_s'] / ceiling:.2f}" + (
            " (it kept up: the share of the ceiling used)" if kept_up else ""
        )
    print(f"  published               {r['published_s']:>10,.0f} obs/s   ({r['sent']:,.0f} observations)")
    print(f"  taken in while sending  {r['taken_while_s']:>10,.0f} obs/s{ratio}")
    state = "queue empty" if r["drained"] else f"{r['missing_events']:,.0f} events still queued"
    print(
        f"  taken in until the end  {r['taken_total_s']:>10,.0f} obs/s   ({r['taken']:,.0f} observations; "
        f"{state} {r['drain_s']:.1f} s after the last send; queue depth at the last send "
        f"{r['depth_at_stop']:,.0f} events)"
    )
    print(
        f"  rounds                  {r['rounds_s']:>10,.1f} /s      median {r['round_ms_p50']:,.0f} ms, longest "
        f"{r['round_ms_max']:,.0f} ms, {r['events_per_round']:,.0f} events each; "
        f"{r['values_s']:,.0f} indicator values/s"
    )
    ticks = (
        f"median {r['tick_ms_p50']:,.0f} ms, longest {r['tick_ms_max']:,.0f} ms"
        if r["ticks"]
        else "none: time never passed for the windows but through observations"
    )
    print(
        f"  ticks                   {r['ticks_s']:>10,.2f} /s      rounds that let time pass "
        f"(Engine.advance, meant once a second): {ticks}"
    )
    print(f"  observation → indicator   p50 {ms(r['obs_p50']):>10}   p99 {ms(r['obs_p99']):>10}")
    print(
        f"  observation → warning     p50 {ms(r['warn_p50']):>10}   p99 {ms(r['warn_p99']):>10}   "
        f"({r['warnings']:.0f} of {r['probes']:.0f} probes raised theirs; target p99 ≤ 1,000 ms)"
    )
    print(f"  dropped as late         {r['late']:>10,.0f}   observations (windows hold {r['held']:,.0f} at the end)")
    print(
        f"  RSS                     {r['rss_mb']:>10,.0f} MB peak ({r['rss_before_mb']:,.0f} MB before publishing); "
        f"{r['created_s']:,.0f} entities/s created, runner started in {r['start_s']:.1f} s"
    )


def rate_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10 s runs, 3 s of engine alone, SQLite only: a smoke run")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "postgres", "both"], default="both")
    ap.add_argument(
        "--rate",
        type=rate_list,
        default=[20_000, 2_000],
        help="observations offered per second; a comma-separated list runs each (default 20000,2000)",
    )
    ap.add_argument("--duration", type=int, default=30, help="seconds of publishing in B (default 30)")
    ap.add_argument("--engine-seconds", type=int, default=5, help="seconds of event time fed in A (default 5)")
    ap.add_argument("--wait", type=float, default=30.0, help="most seconds to wait for the runner's queue to empty")
    ap.add_argument("--indicators", type=int, default=300, help="indicators in the catalogue (default 300)")
    ap.add_argument("--attributes", type=int, default=120, help="attributes of the sensor type (default 120)")
    ap.add_argument("--entities", type=int, default=2000, help="sensors (default 2,000)")
    ap.add_argument("--per-event", type=int, default=4, help="observations per entity event (default 4)")
    ap.add_argument("--probe-rate", type=float, default=5.0, help="probe values per second (default 5)")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each measurement; figures are their medians")
    ap.add_argument(
        "--steady-rate",
        type=int,
        default=0,
        help="also measure the engine alone with full windows, filled at this rate (2000: about 2 minutes more)",
    )
    ap.add_argument("--skip-engine", action="store_true", help="leave out A (and the ratio to it)")
    ap.add_argument("--profile", action="store_true", help="cProfile A and the runner's thread; print the top")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.engine_seconds, args.wait = 10, 3, 15.0
        args.db = "sqlite" if args.db == "both" else args.db
    if args.indicators < 20 or not 1 <= args.per_event <= args.attributes or not args.rate:
        ap.error("give at least 20 indicators, a rate, and 1 to --attributes observations per event")
    w = Workload(args.indicators, args.attributes, args.entities, args.per_event)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else ["postgresql" if args.db == "postgres" else args.db]
    print(
        f"cityos vitals benchmark: {args.entities:,} sensors, {args.attributes} attributes, {args.per_event} "
        f"observations per event; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start"
    )
    print(f"  {describe(load_catalogue(catalogue_docs(w)))}")
    a: dict[str, Any] | None = None
    if not args.skip_engine:
        runs = [in_child(engine_alone, w, args.rate[0], args.engine_seconds, args.profile) for _ in range(args.repeats)]
        a = sorted(runs, key=lambda x: engine_rate(x)[0])[len(runs) // 2]  # the median run
        print_engine(a)
        if a["profile"]:
            print("\n  profile of A, by own time:\n" + a["profile"])
    if args.steady_rate:
        fill = longest_window(load_catalogue(catalogue_docs(w)))
        steady = in_child(engine_alone, w, args.steady_rate, args.engine_seconds, args.profile, fill)
        print_engine(steady)
        if steady["profile"]:
            print("\n  profile of A with full windows, by own time:\n" + steady["profile"])
    for kind in kinds:
        for rate in args.rate:
            runs = [
                in_child(runner_run, kind, w, rate, args.duration, args.probe_rate, args.wait, args.profile)
                for _ in range(args.repeats)
            ]
            r = median_of(runs)
            print_runner(r, a, args.duration, args.repeats)
            if r["profile"]:
                print(f"\n  profile of the runner's thread [{kind}, {rate:,} obs/s], by own time:\n" + r["profile"])
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
