"""A diagnosis says when its baseline is too old or too short, instead of calling sensors outliers with no z."""

from __future__ import annotations

import time

import pytest
from conftest import Api

from cityos.context import service as hub
from cityos.context.entity import parse_entity
from cityos.context.jsonld import core_term_map
from cityos.core.timefmt import from_ms, now_iso
from cityos.runtime import Runtime
from cityos.vitals import service, store
from cityos.vitals.anomaly import BASELINE_MIN_POINTS, basis

GRID = "urn:ngsi-ld:Grid:baseline-test"
STEP = 15 * 60_000
DAY = 86_400_000
NOW = 1_790_000_000_000


def test_basis_of_a_history() -> None:
    fresh = [NOW - k * STEP for k in range(BASELINE_MIN_POINTS + 1)]
    assert basis(fresh, NOW, STEP).ok
    short = basis(fresh[:4], NOW, STEP)
    assert short.status == "too-short" and "3 earlier points" in (short.reason_en or "")
    assert "基线过短" in (short.reason_zh or "")
    seed = [NOW - 14 * DAY + k * STEP for k in range(500)]  # five days of seed data, written two weeks ago
    old = basis(seed + fresh[:3], NOW, STEP)
    assert old.status == "too-old" and "基线过旧" in (old.reason_zh or "")
    assert "2 earlier points in the last 2 days" in (old.reason_en or "") and "days ago" in (old.reason_en or "")
    assert basis(seed + fresh, NOW, STEP).ok  # once enough of the last two days are there
    assert basis([], NOW, STEP).status == "too-short"


@pytest.mark.settings(roles="ingest,notify")  # no engine: the test stores the indicator's values itself
def test_sensors_with_two_week_old_seed_data_are_not_outliers(api: Api, rt: Runtime) -> None:
    service.ensure_definitions(rt, "default")
    now = int(time.time() * 1000)
    tm = core_term_map()
    seed_end = now - 14 * DAY
    times = [*[seed_end - k * STEP for k in range(3 * 96)][::-1], now - 10 * 60_000, now - 60_000]
    for i, at in enumerate(times):
        batch = []
        for k in range(4):
            entity_id = f"urn:ngsi-ld:AirQualityObserved:base-{k}"
            value = 40.0 + k if at < seed_end + 1 else 90.0 + k  # the live readings depart from the seed's
            body = {"id": entity_id, "type": "AirQualityObserved",
                    "pm25": {"type": "Property", "value": value + (i % 3), "observedAt": from_ms(at)},
                    "refGrid": {"type": "Relationship", "object": GRID}}  # fmt: skip
            batch.append((entity_id, hub.m_append(parse_entity(body, tm, now=now_iso()), create=True)))
        assert all(o.error is None for o in hub.apply(rt, "default", batch, creates=True))
    rows = [("pm25_grid", GRID, now - k * 5 * 60_000, 92.0, 0) for k in range(3)]  # three values so far
    rt.db.run_write(lambda conn: store.insert_values(conn, "default", rows))

    r = api.get("/vitals/indicators/pm25_grid/diagnosis", params={"scope": GRID})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["baselineStatus"] == "too-short" and d["verdict"] == "unknown" and d["anomalous"] is False
    assert d["z"] is None and "基线过短" in d["baselineReason"]["zh"] and "too short" in d["baselineReason"]["en"]
    assert len(d["sensors"]) == 4
    for s in d["sensors"]:
        assert s["baselineStatus"] == "too-old", s
        assert s["pattern"] == "unknown" and s["z"] is None  # not an outlier with z = null
        assert "基线过旧" in s["baselineReason"]["zh"] and "days ago" in s["baselineReason"]["en"]
