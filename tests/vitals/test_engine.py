"""The streaming engine on entity events: windows per group, derived values, warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cityos.context.jsonld import core_term_map
from cityos.core.timefmt import from_ms
from cityos.vitals.definitions import load_catalogue
from cityos.vitals.engine import Engine

TM = core_term_map()
BUND = "urn:ngsi-ld:ManagementUnit:waitan"
YU = "urn:ngsi-ld:ManagementUnit:yuyuan"
GRID = "urn:ngsi-ld:Grid:HP-01"
T0 = int(datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp() * 1000)
MIN = 60_000

CATALOGUE = load_catalogue(
    [
        {
            "id": "people",
            "name": {"zh": "客流", "en": "People counted"},
            "category": "crowds",
            "unit": "persons",
            "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"},
            "aggregation": "sum",
            "window": {"kind": "sliding", "duration": "5m"},
            "scope": {"level": "unit", "ids": [BUND, YU]},
        },
        {
            "id": "density",
            "name": {"zh": "人群密度", "en": "Crowd density"},
            "category": "crowds",
            "unit": "persons/m²",
            "formula": "people * dwell / 5 / area",
            "constants": {"dwell": 20, "area": 10000},
            "scope": {"level": "unit", "ids": [BUND, YU]},
            "thresholds": {"blue": 2, "yellow": 3, "orange": 4, "red": 5, "hysteresis": 0.2, "minDuration": "1m"},
        },
        {
            "id": "smoke_alarms",
            "name": {"zh": "烟感报警", "en": "Smoke alarms"},
            "category": "fire",
            "unit": "alarms",
            "source": {"entityType": "SmokeDetector", "attr": "smoke", "q": "smoke==true"},
            "aggregation": "count",
            "window": {"kind": "tumbling", "duration": "10m"},
            "scope": {"level": "grid"},
            "thresholds": {"blue": 1, "orange": 3},
        },
    ]
)


def prop(value: Any, at_ms: int) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value, "observedAt": from_ms(at_ms)}]


def rel(target: str) -> list[dict[str, Any]]:
    return [{"type": "Relationship", "object": target}]


ENTITIES = {
    "urn:ngsi-ld:CrowdFlowObserved:c1": {TM.expand("refUnit"): rel(BUND), TM.expand("refGrid"): rel(GRID)},
    "urn:ngsi-ld:CrowdFlowObserved:c2": {TM.expand("refUnit"): rel(BUND), TM.expand("refGrid"): rel(GRID)},
    "urn:ngsi-ld:CrowdFlowObserved:c3": {TM.expand("refUnit"): rel(YU), TM.expand("refGrid"): rel(GRID)},
    "urn:ngsi-ld:CrowdFlowObserved:c4": {TM.expand("refGrid"): rel(GRID)},  # in no unit
    "urn:ngsi-ld:SmokeDetector:s1": {TM.expand("refGrid"): rel(GRID)},
}
CROWD = [TM.expand("CrowdFlowObserved")]
SMOKE = [TM.expand("SmokeDetector")]


def engine() -> Engine:
    return Engine(CATALOGUE, ENTITIES.get)


def count(e: Engine, entity: str, n: int, at_ms: int) -> Any:
    return e.observe(entity, CROWD, {TM.expand("peopleCount"): prop(n, at_ms)})


def test_sums_per_unit_over_the_sliding_window_and_derived_density() -> None:
    e = engine()
    count(e, "urn:ngsi-ld:CrowdFlowObserved:c1", 1000, T0)
    values, _ = count(e, "urn:ngsi-ld:CrowdFlowObserved:c2", 1500, T0 + MIN)
    by = {(v.indicator, v.scope): v.value for v in values}
    assert by[("people", BUND)] == 2500
    assert by[("density", BUND)] == 2500 * 20 / 5 / 10000
    values, _ = count(e, "urn:ngsi-ld:CrowdFlowObserved:c3", 700, T0 + MIN)
    assert {(v.indicator, v.scope): v.value for v in values}[("people", YU)] == 700
    assert count(e, "urn:ngsi-ld:CrowdFlowObserved:c4", 99, T0 + MIN) == ([], [])  # in no unit it counts for
    values, _ = e.advance(T0 + 5 * MIN + 1)  # the first count leaves the Bund's window
    assert {(v.indicator, v.scope): v.value for v in values}[("people", BUND)] == 1500


def test_a_rising_crowd_raises_then_escalates_the_density_warning() -> None:
    e = engine()
    e.cover(CROWD[0], TM.expand("peopleCount"), T0 - 5 * MIN)  # refilled from a history: its windows are full
    changes = []
    for step_n in range(40):  # every 30 s, both Bund counters report a growing count
        at = T0 + step_n * 30_000
        for c in ("c1", "c2"):
            _, ch = count(e, f"urn:ngsi-ld:CrowdFlowObserved:{c}", 200 + 60 * step_n, at)
            changes += ch
    kinds = [(c.change.kind, c.change.new) for c in changes if c.indicator == "density"]
    assert kinds[0] == ("raised", 1)
    assert ("escalated", 4) in kinds
    assert all(c.scope == BUND for c in changes)


def test_a_q_filtered_count_per_grid_in_tumbling_windows() -> None:
    e = engine()
    alarms = []
    for i, smoke in enumerate([False, True, True, False, True]):
        _, ch = e.observe("urn:ngsi-ld:SmokeDetector:s1", SMOKE, {TM.expand("smoke"): prop(smoke, T0 + i * MIN)})
        alarms += ch
    values, ch = e.advance(T0 + 10 * MIN)  # the window closes: three alarms
    assert [(v.indicator, v.scope, v.value) for v in values] == [("smoke_alarms", GRID, 3.0)]
    assert [(c.change.kind, c.change.new) for c in alarms + ch] == [("raised", 3)]
    values, ch = e.advance(T0 + int(timedelta(hours=1).total_seconds()) * 1000)
    assert values[-1].value == 0.0 and [(c.change.kind) for c in ch] == ["cleared"]


def test_the_engine_leaves_the_attributes_of_an_event_as_it_found_them() -> None:
    """An event's attributes are shared by every consumer of the bus: the notifier rendered an entity's
    creation with the value of a later update once the engine had written that update into them."""
    e = engine()
    created = {TM.expand("smoke"): prop(False, T0), TM.expand("refGrid"): rel(GRID)}
    before = {name: [dict(i) for i in instances] for name, instances in created.items()}
    e.take("urn:ngsi-ld:SmokeDetector:s2", SMOKE, created, complete=True)
    e.take("urn:ngsi-ld:SmokeDetector:s2", SMOKE, {TM.expand("smoke"): prop(True, T0 + MIN)})
    assert created == before


def test_a_telemetry_event_brings_every_observation_of_its_batch_to_the_windows() -> None:
    from cityos.bus import Event
    from cityos.context import ENTITY_UPDATED
    from cityos.vitals.runner import take

    e = engine()
    pc = TM.expand("peopleCount")
    c1, c2 = "urn:ngsi-ld:CrowdFlowObserved:c1", "urn:ngsi-ld:CrowdFlowObserved:c2"
    # two readings of c1 in one batch: the state shows the newer, ``observed`` holds both
    both = {
        "id": c1,
        "types": CROWD,
        "attrs": {pc: prop(500, T0 + MIN)},
        "observed": {pc: prop(1000, T0) + prop(500, T0 + MIN)},
    }
    take(e, Event(ENTITY_UPDATED, c1, both, "default"))
    values, _ = e.flush()
    assert {(v.indicator, v.scope): v.value for v in values}[("people", BUND)] == 1500
    # a late reading of c2 changed only the history: no attrs, but it counts
    late = {"id": c2, "types": CROWD, "attrs": {}, "removed": [], "observed": {pc: prop(300, T0 + MIN // 2)}}
    take(e, Event(ENTITY_UPDATED, c2, late, "default"))
    values, _ = e.flush()
    assert {(v.indicator, v.scope): v.value for v in values}[("people", BUND)] == 1800
