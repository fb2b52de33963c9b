"""The map's layers and the sensors' rows, from the demo district's entities as the hub stores them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from shapely.geometry import box, shape

from cityos.context.entity import parse_entity
from cityos.context.jsonld import core_term_map
from cityos.demo.district import BUND, DISTRICT, SENSOR_TYPES, build_district
from cityos.demo.patterns import DEVICE_PROFILES
from cityos.twin import layers

TM = core_term_map()
NOW = "2026-11-21T08:00:00.000Z"

Stored = tuple[str, str, dict[str, list[dict[str, Any]]]]  # id, type name, expanded attributes


def stored(e: dict[str, Any]) -> Stored:
    p = parse_entity(e, TM, now=NOW)
    assert p.id is not None
    return p.id, e["type"], p.attrs


@pytest.fixture(scope="module")
def district() -> list[dict[str, Any]]:
    return build_district(sensors=200)


@pytest.fixture(scope="module")
def the_map(district: list[dict[str, Any]]) -> dict[str, Any]:
    return layers.district_map([stored(e) for e in district], TM)


def features(the_map: dict[str, Any], layer: str) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in the_map["layers"][layer]["features"]}


def test_every_level_of_the_hierarchy_is_a_layer_of_features(the_map: dict[str, Any], district: list[dict]) -> None:
    counts = {name: len(fc["features"]) for name, fc in the_map["layers"].items()}
    buildings = sum(1 for e in district if e["type"] == "Building")
    assert counts == {"district": 1, "streets": 10, "grids": 50, "units": 10, "buildings": buildings}
    assert all(fc["type"] == "FeatureCollection" for fc in the_map["layers"].values())
    for fc in the_map["layers"].values():
        for f in fc["features"]:
            assert f["type"] == "Feature" and f["id"] == f["properties"]["id"]
            assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
            assert f["properties"]["name"]["zh"] and f["properties"]["name"]["en"]


def test_the_bbox_holds_every_feature_of_the_district(the_map: dict[str, Any]) -> None:
    lo_x, lo_y, hi_x, hi_y = the_map["bbox"]
    assert 121.45 < lo_x < hi_x < 121.52 and 31.19 < lo_y < hi_y < 31.25  # Huangpu
    frame = box(lo_x, lo_y, hi_x, hi_y).buffer(1e-9)
    assert all(frame.contains(shape(f["geometry"])) for fc in the_map["layers"].values() for f in fc["features"])


def test_properties_of_the_district_streets_grids_and_units(the_map: dict[str, Any]) -> None:
    district = features(the_map, "district")[DISTRICT]["properties"]
    assert district == {"id": DISTRICT, "kind": "district", "name": {"zh": "黄浦区", "en": "Huangpu District"},
                        "code": "310101"}  # fmt: skip
    street = features(the_map, "streets")["urn:ngsi-ld:Street:waitan"]["properties"]
    assert street["kind"] == "street" and street["code"] == "HP-WT" and street["name"]["zh"] == "外滩街道"
    grid = next(iter(features(the_map, "grids").values()))["properties"]
    assert grid["kind"] == "grid" and grid["street"].startswith("urn:ngsi-ld:Street:") and grid["code"]
    bund = features(the_map, "units")[BUND]["properties"]
    assert bund["kind"] == "unit" and bund["name"] == {"zh": "外滩", "en": "The Bund"}
    assert bund["category"] == "hotSpot" and bund["walkableArea"] == 72800
    assert bund["street"] == "urn:ngsi-ld:Street:waitan" and bund["grid"].startswith("urn:ngsi-ld:Grid:HP-WT-")
    no_area = features(the_map, "units")["urn:ngsi-ld:ManagementUnit:chunjiangxiaoqu"]["properties"]
    assert no_area["category"] == "residentialCompound" and no_area["walkableArea"] is None


def test_buildings_carry_floors_height_category_and_their_unit(the_map: dict[str, Any], district: list) -> None:
    buildings = features(the_map, "buildings")
    first = buildings["urn:ngsi-ld:Building:HP-B0001"]["properties"]
    assert first["name"] == {"zh": "南京大楼", "en": "Nanjing Building"}  # name and alternateName
    assert first["floors"] == 8 and first["height"] == 25.6 and first["category"] == "office"
    assert first["unit"] == "urn:ngsi-ld:ManagementUnit:nanjingdalou"
    plain = next(e for e in district if e["type"] == "Building" and "alternateName" not in e)
    props = buildings[plain["id"]]["properties"]
    assert props["name"]["en"] == props["name"]["zh"] == plain["name"]["value"]  # no English name: the same
    assert props["height"] == round(plain["floorsAboveGround"]["value"] * layers.FLOOR_HEIGHT_M, 1)
    assert props["category"] == plain["category"]["value"][0]
    assert sum(1 for f in buildings.values() if f["properties"].get("unit") == "urn:ngsi-ld:ManagementUnit:yuyangli")


def test_entities_without_a_location_or_of_other_types_are_left_out() -> None:
    street = {"id": "urn:ngsi-ld:Street:x", "type": "Street", "name": {"type": "Property", "value": "某街"}}
    thing = {"id": "urn:ngsi-ld:Streetlight:x", "type": "Streetlight",
             "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.5, 31.2]}}}  # fmt: skip
    out = layers.district_map([stored(street), stored(thing)], TM)
    assert out["bbox"] is None and all(not fc["features"] for fc in out["layers"].values())


def test_bbox_walks_nested_coordinates_and_collections() -> None:
    geoms = [
        {"type": "Point", "coordinates": [1.0, 2.0]},
        {"type": "MultiPolygon", "coordinates": [[[[0.5, 3.0], [2.0, 3.5], [1.0, 4.0], [0.5, 3.0]]]]},
        {"type": "GeometryCollection", "geometries": [{"type": "LineString", "coordinates": [[-1, 0], [0, 9]]}]},
    ]
    assert layers.bbox(geoms) == [-1.0, 0.0, 2.0, 9.0]
    assert layers.bbox([]) is None


def test_names_from_language_maps_and_plain_names() -> None:
    only_zh = {TM.expand("name"): [{"type": "LanguageProperty", "languageMap": {"zh-Hans": "外滩"}}]}
    assert layers.names(only_zh, TM) == {"zh": "外滩", "en": "外滩"}
    plain = {TM.expand("name"): [{"type": "Property", "value": "和平饭店"}],
             TM.expand("alternateName"): [{"type": "Property", "value": "Fairmont Peace Hotel"}]}  # fmt: skip
    assert layers.names(plain, TM) == {"zh": "和平饭店", "en": "Fairmont Peace Hotel"}
    assert layers.names({}, TM) == {"zh": None, "en": None}


def test_the_default_instance_is_read_before_a_dataset() -> None:
    attrs = {TM.expand("pm25"): [{"type": "Property", "value": 80, "datasetId": "urn:ds:raw"},
                                 {"type": "Property", "value": 42}]}  # fmt: skip
    assert layers.value(attrs, TM.expand("pm25")) == 42
    assert layers.value(attrs, TM.expand("pm10")) is None


def test_sensor_kinds_are_the_demo_types_each_with_a_measure_its_devices_report(district: list) -> None:
    assert [k.type for k in layers.SENSOR_KINDS] == list(SENSOR_TYPES)
    for k in layers.SENSOR_KINDS:
        reported = {m.attr for m in DEVICE_PROFILES[k.type].measures.values()}
        assert k.attr in reported, f"{k.type}.{k.attr} is not a measure its devices send"
        things = [e for e in district if e["type"] == k.type]
        assert things and all(k.attr in e for e in things), f"not every {k.type} carries {k.attr}"
        assert k.zh and k.en and k.public()["name"] == {"zh": k.zh, "en": k.en}


def test_a_sensor_row_carries_position_value_state_unit_and_grid(district: list) -> None:
    counter = next(e for e in district if e["type"] == "CrowdFlowObserved" and "refUnit" in e)
    n = [k.type for k in layers.SENSOR_KINDS].index("CrowdFlowObserved")
    entity_id, _type, attrs = stored(counter)
    row = layers.sensor_row(entity_id, n, attrs, True, TM)
    assert row is not None
    assert dict(zip(layers.SENSOR_FIELDS, row, strict=True)) == {
        "id": counter["id"],
        "type": n,
        "lon": counter["location"]["value"]["coordinates"][0],
        "lat": counter["location"]["value"]["coordinates"][1],
        "value": counter["peopleCount"]["value"],
        "online": True,
        "unit": counter["refUnit"]["object"],
        "grid": counter["refGrid"]["object"],
    }
    spot = next(e for e in district if e["type"] == "ParkingSpot" and "refUnit" not in e)
    entity_id, _type, attrs = stored(spot)
    row = layers.sensor_row(entity_id, 2, attrs, None, TM)
    assert row is not None and row[4] in ("free", "occupied") and row[5] is None and row[6] is None
    assert layers.sensor_row(entity_id, 2, {}, None, TM) is None  # nowhere to draw it


def test_a_unit_sensor_state_names_its_measure_and_when_it_was_observed(district: list) -> None:
    smoke = next(e for e in district if e["type"] == "SmokeDetector")
    entity_id, type_name, attrs = stored(smoke)
    state = layers.sensor_state(entity_id, type_name, attrs, False, TM)
    observed = state.pop("observedAt")
    assert state == {"id": smoke["id"], "type": "SmokeDetector", "name": smoke["name"]["value"], "attr": "smoke",
                     "value": False, "unit": "", "online": False}  # fmt: skip
    assert datetime.fromisoformat(observed) == datetime.fromisoformat(smoke["smoke"]["observedAt"])
    counted = layers.counts_by_type(["SmokeDetector", "Streetlight", "SmokeDetector"])
    assert list(counted.items()) == [("Streetlight", 1), ("SmokeDetector", 2)]  # in SENSOR_KINDS order
