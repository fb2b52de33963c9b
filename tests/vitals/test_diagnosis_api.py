"""Anomaly diagnosis through the API, on stored indicator values and the sensors' attribute history."""

from __future__ import annotations

import math
import random
import time

from conftest import Api

from cityos.context import service as hub
from cityos.context.entity import parse_entity
from cityos.context.jsonld import core_term_map
from cityos.core.timefmt import from_ms, now_iso
from cityos.runtime import Runtime
from cityos.vitals import store

GRID = "urn:ngsi-ld:Grid:diagnosis-test"
STEP = 15 * 60_000
STEPS = 3 * 96  # three days every 15 minutes


def pm25(i: int, seed: int) -> float:
    return 40 + 15 * math.sin(2 * math.pi * i / 96) + random.Random(seed * 100_000 + i).gauss(0, 1.0)


def test_a_stuck_station_is_diagnosed_as_the_sensor_not_the_air(api: Api, rt: Runtime) -> None:
    now = int(time.time() * 1000)
    start = now - now % STEP - (STEPS - 1) * STEP
    tm = core_term_map()
    readings: dict[str, list[float]] = {}
    for k in range(6):
        values = [pm25(i, k) for i in range(STEPS)]
        if k == 2:
            values[-8:] = [180.0] * 8  # the station reads 180 over and over for the last two hours
        readings[f"urn:ngsi-ld:AirQualityObserved:diag-{k}"] = values
    for i in range(STEPS):
        batch = []
        for entity_id, values in readings.items():
            reading = {"type": "Property", "value": round(values[i], 1), "observedAt": from_ms(start + i * STEP)}
            body = {"id": entity_id, "type": "AirQualityObserved", "pm25": reading,
                    "refGrid": {"type": "Relationship", "object": GRID}}  # fmt: skip
            batch.append((entity_id, hub.m_append(parse_entity(body, tm, now=now_iso()), create=True)))
        assert all(o.error is None for o in hub.apply(rt, "default", batch, creates=True))
    grid_avg = [(start + i * STEP, sum(v[i] for v in readings.values()) / 6, 0) for i in range(STEPS)]
    rt.db.run_write(lambda conn: store.insert_values(conn, "default", [("pm25_grid", GRID, *r) for r in grid_avg]))

    r = api.get("/vitals/indicators/pm25_grid/diagnosis", params={"scope": GRID})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["anomalous"] is True and d["z"] > 3.5
    assert d["verdict"] == "sensor", d["explanation"]
    assert d["sensors"][0]["entity"] == "urn:ngsi-ld:AirQualityObserved:diag-2"
    assert d["sensors"][0]["pattern"] == "stuck"
    assert {s["pattern"] for s in d["sensors"][1:]} == {"normal"}
    missing = api.get("/vitals/indicators/nope/diagnosis", params={"scope": GRID})
    assert missing.status_code == 404
