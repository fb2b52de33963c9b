"""The twin's API on SQLite and PostgreSQL, over a small demo district (200 sensors, every hierarchy level)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from conftest import Api

from cityos.demo.devices import provision_demo_devices
from cityos.demo.district import BUND, SENSOR_TYPES, YU_GARDEN, build_district
from cityos.demo.load import upsert_entities
from cityos.iot.health import tracker
from cityos.runtime import Runtime
from cityos.twin import service as twin
from cityos.twin.schemas import MapPublic, SensorsPublic
from cityos.vitals import service as vitals
from cityos.vitals.engine import IndicatorValue, LevelChange
from cityos.vitals.levels import Change

# the vitals engine stays out of it: the indicator values and warnings here are the test's own
pytestmark = pytest.mark.settings(roles="ingest,notify")  # no engine: the tests store the values themselves
MIN = 60_000
TANGENT = "urn:ngsi-ld:ManagementUnit:nanjinglu-buxingjie"


@cache
def district() -> tuple[dict[str, Any], ...]:
    return tuple(build_district(sensors=200))


def load(rt: Runtime) -> list[dict[str, Any]]:
    """The district in the hub, its devices provisioned, the Bund's crowd counters heard from."""
    entities = list(district())
    upsert_entities(rt, "default", entities)
    provision_demo_devices(rt, entities)
    vitals.ensure_definitions(rt, "default")
    health = tracker(rt)
    for e in bund_counters():
        health.note(e["refDevice"]["object"].rsplit(":", 1)[-1], datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    None, None)  # fmt: skip
    health.flush()
    twin.forget_map(rt)
    return entities


def bund_counters() -> list[dict[str, Any]]:
    return [e for e in district() if e["type"] == "CrowdFlowObserved" and e.get("refUnit", {}).get("object") == BUND]


def test_the_map_has_every_layer_with_its_properties(api: Api, rt: Runtime) -> None:
    entities = load(rt)
    r = api.get("/twin/map")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"bbox", "layers"} and len(body["bbox"]) == 4
    MapPublic.model_validate(body)  # the shape the API description declares (served as computed, not through it)
    counts = {name: len(fc["features"]) for name, fc in body["layers"].items()}
    assert counts == {"district": 1, "streets": 10, "grids": 50, "units": 10,
                      "buildings": sum(1 for e in entities if e["type"] == "Building")}  # fmt: skip
    units = {f["id"]: f for f in body["layers"]["units"]["features"]}
    bund = units[BUND]
    assert bund["type"] == "Feature" and bund["geometry"]["type"] == "Polygon"
    assert bund["properties"]["name"] == {"zh": "外滩", "en": "The Bund"}
    assert bund["properties"]["walkableArea"] == 72800
    landmark = next(f for f in body["layers"]["buildings"]["features"] if f["id"] == "urn:ngsi-ld:Building:HP-B0002")
    assert landmark["properties"]["name"] == {"zh": "和平饭店", "en": "Fairmont Peace Hotel"}
    assert landmark["properties"]["floors"] == 12 and landmark["properties"]["height"] == 38.4
    assert landmark["properties"]["category"] == "hotel" and landmark["properties"]["kind"] == "building"
    # kept for a minute: a new grid shows once the cache is dropped
    extra = {"id": "urn:ngsi-ld:Grid:HP-TEST-01", "type": "Grid", "name": {"type": "Property", "value": "试验网格"},
             "location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [
                 [[121.47, 31.22], [121.471, 31.22], [121.471, 31.221], [121.47, 31.22]]]}}}  # fmt: skip
    assert api.post("/ngsi-ld/v1/entities", json=extra).status_code == 201
    assert len(api.get("/twin/map").json()["layers"]["grids"]["features"]) == 50
    twin.forget_map(rt)
    assert len(api.get("/twin/map").json()["layers"]["grids"]["features"]) == 51
    assert api.get("/twin/map", token=None).status_code == 401


def test_sensors_come_as_compact_rows_and_filter_by_type(api: Api, rt: Runtime) -> None:
    entities = load(rt)
    things = {e["id"]: e for e in entities if e["type"] in SENSOR_TYPES}
    r = api.get("/twin/sensors")
    assert r.status_code == 200, r.text
    body = r.json()
    SensorsPublic.model_validate(body)  # the shape the API description declares
    assert body["fields"] == ["id", "type", "lon", "lat", "value", "online", "unit", "grid"]
    assert [t["type"] for t in body["types"]] == list(SENSOR_TYPES)
    crowd = body["types"][4]
    assert crowd == {"type": "CrowdFlowObserved", "attr": "peopleCount", "unit": "人次",
                     "name": {"zh": "客流计数器", "en": "Crowd counter"}}  # fmt: skip
    assert datetime.fromisoformat(body["at"]) <= datetime.now(UTC)
    rows = {row[0]: row for row in body["sensors"]}
    assert set(rows) == set(things)
    heard = {e["id"] for e in bund_counters()}
    for entity_id, (_id, n, lon, lat, value, online, unit, grid) in rows.items():
        e = things[entity_id]
        kind = body["types"][n]
        assert kind["type"] == e["type"] and value == e[kind["attr"]]["value"]
        assert [lon, lat] == e["location"]["value"]["coordinates"] and grid == e["refGrid"]["object"]
        assert unit == e.get("refUnit", {}).get("object")
        assert online is (True if entity_id in heard else None)  # provisioned, never heard from: null
    parking = api.get("/twin/sensors", params={"type": "ParkingSpot"}).json()
    assert parking["sensors"] and {row[1] for row in parking["sensors"]} == {2}
    assert {row[4] for row in parking["sensors"]} <= {"free", "occupied"}  # a state word, not a number
    assert len(parking["types"]) == len(SENSOR_TYPES)  # indexes stay the same when filtered
    bad = api.get("/twin/sensors", params={"type": "Elevator"})
    assert bad.status_code == 400 and "CrowdFlowObserved" in bad.json()["detail"]
    assert bad.headers["content-type"] == "application/problem+json"


def test_units_and_a_units_twin(api: Api, rt: Runtime) -> None:
    load(rt)
    now = int(time.time() * 1000)
    values = [IndicatorValue("bund_people", BUND, now - k * MIN, 250_000.0 + k, None, 0) for k in range(5, 0, -1)]
    values.append(IndicatorValue("bund_crowd_density", BUND, now - MIN, 5.4, None, 4))
    red = LevelChange("bund_crowd_density", BUND, Change(0, 4, now - MIN, "raised"), 5.4)
    events = vitals.record(rt, "default", values, [red])
    assert [e.subject for e in events] == ["warning.raised"]
    mine = api.post("/cases", json={"text": "外滩垃圾桶满溢", "category": "garbage-uncollected", "unit": BUND,
                                    "address": "中山东一路"})  # fmt: skip
    assert mine.status_code == 201, mine.text
    other = {"text": "南京路垃圾桶满溢", "category": "garbage-uncollected", "unit": TANGENT, "address": "南京东路"}
    assert api.post("/cases", json=other).status_code == 201

    listed = {u["id"]: u for u in api.get("/twin/units").json()}
    assert len(listed) == 10
    assert listed[BUND] == {"id": BUND, "name": {"zh": "外滩", "en": "The Bund"}, "category": "hotSpot",
                            "grid": listed[BUND]["grid"], "street": "urn:ngsi-ld:Street:waitan", "level": 4,
                            "levelName": "red"}  # fmt: skip
    assert listed[YU_GARDEN]["level"] == 0 and listed[YU_GARDEN]["levelName"] == "none"

    r = api.get(f"/twin/units/{BUND}")
    assert r.status_code == 200, r.text
    t = r.json()
    assert set(t) == {"unit", "buildings", "sensors", "sensorCounts", "indicators", "warnings", "cases", "whatIf"}
    unit = t["unit"]
    assert unit["name"] == {"zh": "外滩", "en": "The Bund"} and unit["walkableArea"] == 72800
    assert unit["address"]["streetAddress"] == "中山东一路" and unit["location"]["type"] == "Polygon"
    assert unit["street"] == {"id": "urn:ngsi-ld:Street:waitan", "name": {"zh": "外滩街道", "en": "Waitan Subdistrict"}}
    assert unit["grid"]["id"] == listed[BUND]["grid"] and unit["grid"]["name"]["zh"]
    in_bund = [e for e in district() if e.get("refUnit", {}).get("object") == BUND and e["type"] in SENSOR_TYPES]
    assert {s["id"] for s in t["sensors"]} == {e["id"] for e in in_bund}
    assert (
        t["sensorCounts"]["CrowdFlowObserved"]
        == len(bund_counters())
        == sum(1 for s in t["sensors"] if s["type"] == "CrowdFlowObserved")
    )
    counter = next(s for s in t["sensors"] if s["type"] == "CrowdFlowObserved")
    assert counter["attr"] == "peopleCount" and counter["unit"] == "人次" and counter["online"] is True
    assert isinstance(counter["value"], int) and counter["observedAt"].endswith("Z") and counter["name"]
    indicators = {i["id"]: i for i in t["indicators"]}
    assert {"bund_people", "bund_crowd_density", "hotspot_people", "hotspot_walking_speed"} <= set(indicators)
    density = indicators["bund_crowd_density"]
    assert density["value"] == 5.4 and density["level"] == 4 and density["levelName"] == "red"
    assert density["hasForecast"] is True and density["thresholds"]["red"] == 5 and density["unit"] == "persons/m²"
    assert indicators["bund_people"]["value"] == 250_001.0 and indicators["bund_people"]["thresholds"] is None
    assert indicators["hotspot_people"]["value"] is None and indicators["hotspot_walking_speed"]["hasForecast"] is False
    assert [(w["indicator"], w["level"], w["active"]) for w in t["warnings"]] == [("bund_crowd_density", 4, True)]
    assert t["warnings"][0]["levelZh"] == "红" and t["warnings"][0]["scope"] == BUND
    assert [c["id"] for c in t["cases"]] == [mine.json()["case"]["id"]] and t["cases"][0]["unit"] == BUND
    assert t["whatIf"] == [
        {"indicator": "bund_people", "name": {"zh": "外滩客流计数", "en": "People counted at the Bund"},
         "affects": ["bund_crowd_density"]},
        {"indicator": "hotspot_people", "name": {"zh": "热点区域客流计数", "en": "People counted at the hot spots"},
         "affects": []},
    ]  # fmt: skip

    garden = api.get(f"/twin/units/{YU_GARDEN}").json()
    in_garden = [e for e in district() if e["type"] == "Building" and e.get("refUnit", {}).get("object") == YU_GARDEN]
    assert {b["id"] for b in garden["buildings"]} == {e["id"] for e in in_garden}
    temple = next(b for b in garden["buildings"] if b["name"]["zh"] == "上海城隍庙")
    assert temple == {"id": temple["id"], "name": {"zh": "上海城隍庙", "en": "City God Temple"}, "category": "temple",
                      "floors": 2}  # fmt: skip
    assert garden["warnings"] == [] and garden["cases"] == []

    missing = api.get("/twin/units/urn:ngsi-ld:ManagementUnit:nowhere")
    assert missing.status_code == 404 and "GET /twin/units" in missing.json()["detail"]
    assert missing.json()["type"].endswith("/unit-not-found")
    assert api.get(f"/twin/units/{listed[BUND]['grid']}").status_code == 404  # a grid is not a unit
    assert api.get(f"/twin/units/{BUND}", token=None).status_code == 401


def test_what_if_on_the_bund_after_its_history_is_stored(api: Api, rt: Runtime) -> None:
    load(rt)
    url = f"/twin/units/{BUND}/whatif"
    ask = {"indicator": "bund_people", "change": 1.5, "minutes": 60}
    none_yet = api.post(url, json=ask)
    assert none_yet.status_code == 409, none_yet.text
    detail = none_yet.json()["detail"]
    assert detail.startswith("no history for bund_people") and "forecast" in detail

    now = int(time.time() * 1000)
    calm = [IndicatorValue("bund_people", BUND, now - k * MIN, 229_000.0 + 300 * (k % 3), None, 0)
            for k in range(90, 0, -1)]  # fmt: skip
    vitals.record(rt, "default", calm, [])
    r = api.post(url, json=ask)
    assert r.status_code == 200, r.text
    run = r.json()
    assert run["unit"] == BUND
    names = {"zh": "外滩客流计数", "en": "People counted at the Bund"}
    assert run["input"] == {"indicator": "bund_people", "name": names, "change": 1.5, "minutes": 60}
    assert len(run["steps"]) == 12 and run["steps"] == sorted(run["steps"])
    people, density = run["series"]
    assert people["indicator"] == "bund_people" and density["indicator"] == "bund_crowd_density"
    assert people["scenario"] == pytest.approx([b * 2.5 for b in people["baseline"]], rel=1e-4)
    assert all(b == pytest.approx(1.1, abs=0.1) for b in density["baseline"]) and set(density["baselineLevels"]) == {0}
    assert set(density["scenarioLevels"]) == {4} and density["thresholds"]["red"] == 5
    peak = run["peak"]
    assert peak["indicator"] == "bund_crowd_density" and peak["level"] == 4 and peak["value"] >= 5
    assert (peak["levelName"], peak["levelZh"], peak["at"]) == ("red", "红", run["steps"][0])
    assert "红色预警" in run["summary"]["zh"] and "reaches red" in run["summary"]["en"]
    assert run["summary"]["zh"].startswith("外滩客流计数在未来60分钟增加150%时")

    short = api.post(url, json={"indicator": "bund_people", "change": 0.5, "minutes": 15}).json()
    levels = short["series"][1]["scenarioLevels"]
    assert levels[:3] == [1, 1, 1] and set(levels[3:]) == {0}
    assert short["input"]["minutes"] == 15 and short["peak"]["level"] == 1

    derived = api.post(url, json={"indicator": "bund_crowd_density", "change": 0.5})
    assert derived.status_code == 422 and "bund_people" in derived.json()["detail"]
    too_much = api.post(url, json={"indicator": "bund_people", "change": 9})
    assert too_much.status_code == 400 and "change" in too_much.json()["detail"]
    other = api.post(f"/twin/units/{TANGENT}/whatif", json={"indicator": "hotspot_people", "change": 0.2})
    assert other.status_code == 409 and "no history for hotspot_people" in other.json()["detail"]
    nowhere = api.post("/twin/units/urn:ngsi-ld:ManagementUnit:nowhere/whatif", json=ask)
    assert nowhere.status_code == 404
    assert api.post(url, json=ask, token=None).status_code == 401
