"""A window that has not yet covered its span says so ("filling", 数据积累中) and warns, pre-warns and
trends from nothing until it has; through the engine, the stored values, the overview and the forecast."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Api

from cityos.context import service as hub
from cityos.context.entity import parse_entity
from cityos.context.jsonld import core_term_map
from cityos.core.timefmt import from_ms, now_iso
from cityos.runtime import Runtime
from cityos.vitals import service, store
from cityos.vitals.definitions import load_catalogue
from cityos.vitals.engine import Engine
from cityos.vitals.runner import rebuild
from cityos.vitals.windows import Observation, WindowState, fill_of

TM = core_term_map()
BUND = "urn:ngsi-ld:ManagementUnit:waitan"
T0 = int(datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp() * 1000)
MIN = 60_000
CROWD = [TM.expand("CrowdFlowObserved")]
COUNTERS = [f"urn:ngsi-ld:CrowdFlowObserved:c{n}" for n in range(3)]
ENTITIES = {c: {TM.expand("refUnit"): [{"type": "Relationship", "object": BUND}]} for c in COUNTERS}

CATALOGUE = load_catalogue(
    [
        {
            "id": "people",
            "name": {"zh": "客流", "en": "People counted"},
            "category": "crowds",
            "unit": "persons/5 min",
            "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"},
            "aggregation": "sum",
            "window": {"kind": "sliding", "duration": "10m"},
            "scope": {"level": "unit", "ids": [BUND]},
            "thresholds": {"blue": 1000, "red": 5000},
        },
        {
            "id": "density",
            "name": {"zh": "人群密度", "en": "Crowd density"},
            "category": "crowds",
            "unit": "persons/m²",
            "formula": "people / area",
            "constants": {"area": 1000},
            "scope": {"level": "unit", "ids": [BUND]},
            "thresholds": {"blue": 1, "red": 5},
        },
        {
            "id": "people_per_period",
            "name": {"zh": "时段客流", "en": "People per period"},
            "category": "crowds",
            "unit": "persons",
            "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"},
            "aggregation": "sum",
            "window": {"kind": "tumbling", "duration": "10m"},
            "scope": {"level": "unit", "ids": [BUND]},
            "thresholds": {"blue": 1000},
        },
    ]
)


def feed(e: Engine, minutes: range, count: int) -> tuple[list[Any], list[Any]]:
    """Each counter reports ``count`` people once a minute (at T0 + 3 s, so the tumbling window starts
    part-way); the values and level changes that makes, after each round of reports."""
    values, changes = [], []
    for m in minutes:
        at = T0 + 3_000 + m * MIN
        reading = {TM.expand("peopleCount"): [{"type": "Property", "value": count, "observedAt": from_ms(at)}]}
        for c in COUNTERS:
            e.take(c, CROWD, reading)
        v, ch = e.flush()
        values += v
        changes += ch
        v, ch = e.advance(at)
        values += v
        changes += ch
    return values, changes


def test_a_fresh_engine_does_not_warn_from_a_window_still_filling_and_does_once_it_is_full() -> None:
    e = Engine(CATALOGUE, ENTITIES.get)
    values, changes = feed(e, range(9), 500)  # 1,500 a minute: past blue (1000) from the first minute on
    people = [v for v in values if v.indicator == "people"]
    assert people[0].value == 1500 and people[-1].value == 9 * 1500  # well past red (5000) by the end
    assert all(v.filling is not None and 0 <= v.filling < 1 and v.level == 0 for v in people)
    assert [v.filling for v in people] == sorted(v.filling for v in people)  # it fills up as time passes
    assert all(v.filling is not None and v.level == 0 for v in values if v.indicator == "density")  # as its input
    assert changes == []  # no warning from a window that is not yet full, however high its value
    values, changes = feed(e, range(9, 12), 500)  # ten minutes since the first observation: full
    full = [v for v in values if v.indicator == "people" and v.filling is None]
    assert full and full[-1].level == 4
    assert {(c.indicator, c.change.kind, c.change.new) for c in changes} >= {
        ("people", "raised", 4),
        ("density", "raised", 4),
    }


def test_the_first_tumbling_window_is_filling_when_the_engine_started_after_its_start() -> None:
    e = Engine(CATALOGUE, ENTITIES.get)
    values, changes = feed(e, range(25), 500)
    periods = [v for v in values if v.indicator == "people_per_period" and v.value]
    first, second = periods[0], periods[1]
    assert first.filling is not None and 0.99 < first.filling < 1 and first.level == 0  # 3 s of it went unseen
    assert second.filling is None and second.level == 1
    assert [(c.change.kind, c.change.at_ms) for c in changes if c.indicator == "people_per_period"] == [
        ("raised", second.at_ms)
    ]


def test_a_window_refilled_from_a_longer_history_is_full_at_once() -> None:
    e = Engine(CATALOGUE, ENTITIES.get)
    e.cover(TM.expand("CrowdFlowObserved"), TM.expand("peopleCount"), T0 - 60 * MIN)
    values, changes = feed(e, range(1), 2000)
    assert all(v.filling is None for v in values if v.indicator in ("people", "density"))
    assert ("people", "raised", 4) in {(c.indicator, c.change.kind, c.change.new) for c in changes}


def test_fill_of_a_span() -> None:
    assert fill_of(None, 0, 100) == 0.0
    assert fill_of(40, 0, 100) == 0.6
    assert fill_of(0, 0, 100) is None and fill_of(-5, 0, 100) is None
    w = WindowState("sliding", 100, "count")
    w.take(Observation(1000, "a", 1.0))
    assert w.emission().filling == 0.0
    w.take(Observation(1050, "a", 1.0))
    assert w.emission().filling == 0.5
    w.take(Observation(1100, "a", 1.0))
    assert w.emission().filling is None


@pytest.mark.settings(roles="ingest,notify")  # no engine: the test stores the values itself
def test_the_overview_and_the_forecast_leave_filling_values_out(api: Api, rt: Runtime) -> None:
    service.ensure_definitions(rt, "default")
    now = int(time.time() * 1000)
    ramp = [("bund_people", BUND, now - (10 - k) * MIN, 15_000.0 * (k + 1), 0, round(k / 5, 3)) for k in range(5)]
    rt.db.run_write(lambda conn: store.insert_values(conn, "default", ramp))  # a window filling: 15,000 → 75,000
    group = _group(api, "bund_people")
    assert group["trend"] == "filling" and group["filling"] == 0.8
    assert group["sparkline"] == [None] * 5
    values = api.get("/vitals/indicators/bund_people", params={"scope": BUND}).json()["history"]
    assert [v["filling"] for v in values] == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert service.series(rt, "default", "bund_people", BUND, now) == []  # nothing to forecast from

    full = [("bund_people", BUND, now - (5 - k) * MIN, 75_000.0 + 100 * k, 0, None) for k in range(5)]
    rt.db.run_write(lambda conn: store.insert_values(conn, "default", full))
    group = _group(api, "bund_people")
    assert group["trend"] == "steady" and "filling" not in group  # the ramp while filling is no rise
    assert group["sparkline"][:5] == [None] * 5 and group["sparkline"][5:] == [75_000.0 + 100 * k for k in range(5)]

    density = [("bund_crowd_density", BUND, now - (5 - k) * MIN, 4.5, 0, 0.5) for k in range(5)]
    rt.db.run_write(lambda conn: store.insert_values(conn, "default", density))  # past orange, but filling
    fc = api.get("/vitals/indicators/bund_crowd_density/forecast", params={"scope": BUND}).json()
    assert fc["preWarnings"] == []


def _group(api: Api, indicator: str) -> dict[str, Any]:
    overview = api.get("/vitals/overview").json()
    inds = [i for c in overview["categories"] for i in c["indicators"] if i["id"] == indicator]
    return inds[0]["groups"][0]


SQUARE = "urn:ngsi-ld:ManagementUnit:filling-square"
GATE = "urn:ngsi-ld:CrowdFlowObserved:filling-gate"
SQUARE_SUM: dict[str, Any] = {
    "name": {"zh": "广场客流", "en": "People through the square's gate"},
    "category": "crowds",
    "unit": "persons",
    "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"},
    "aggregation": "sum",
    "window": {"kind": "sliding", "duration": "10m"},
    "scope": {"level": "unit", "ids": [SQUARE]},
    "thresholds": {"blue": 100},
}


def _counted(rt: Runtime, n: int, at_ms: int) -> None:
    body = {"id": GATE, "type": "CrowdFlowObserved", "refUnit": {"type": "Relationship", "object": SQUARE},
            "peopleCount": {"type": "Property", "value": n, "observedAt": from_ms(at_ms)}}  # fmt: skip
    [outcome] = hub.apply(rt, "default", [(GATE, hub.m_append(parse_entity(body, TM, now=now_iso()), create=True))],
                          creates=True)  # fmt: skip
    assert outcome.error is None


def _restarted(rt: Runtime, now: int) -> Engine:
    e = Engine(service.catalogue(rt, "default"), lambda entity_id: service.entity_attrs(rt, "default", entity_id))
    rebuild(rt, "default", e, now)
    return e


@pytest.mark.settings(roles="ingest,notify")  # no engine of the server's: the test runs its own
def test_a_restart_counts_a_window_full_only_when_the_history_goes_on_from_before_it(rt: Runtime) -> None:
    service.ensure_definitions(rt, "default")
    service.put_definition(rt, "default", "square_sum", SQUARE_SUM, "test")
    now = int(time.time() * 1000)
    for k in range(12):  # seed data: an hour of counts, written two weeks ago
        _counted(rt, 50, now - 14 * 86_400_000 + k * 5 * MIN)
    _counted(rt, 150, now - MIN)
    e = _restarted(rt, now)
    latest = e.filling[("square_sum", SQUARE)]
    assert latest is not None and latest < 0.2 and e.levels.get(("square_sum", SQUARE)) is None  # a gap: filling
    _counted(rt, 10, now - 15 * MIN)  # a count from the span before the window: the history is continuous
    e = _restarted(rt, now)
    assert e.filling[("square_sum", SQUARE)] is None and e.levels[("square_sum", SQUARE)].level == 1
