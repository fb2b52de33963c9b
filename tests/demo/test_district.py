"""The demo district generator: deterministic, complete, geometrically sound, faithful to the schemas."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape
from shapely.geometry.polygon import LinearRing

from cityos.demo.district import (
    DISTRICT,
    HOT_SPOTS,
    SENSOR_TYPES,
    UNITS,
    build_district,
    district_summary,
)

SDM = Path(__file__).resolve().parents[1] / "data" / "smart-data-models"  # CC-BY-4.0, see its README.md
REF_KEYS = {"refGrid", "refStreet", "refUnit", "refDistrict", "refDevice"}
# GSMA-Commons and Location-Commons (referenced by the schemas, not stored beside them)
COMMON = {
    "id", "type", "name", "description", "alternateName", "dataProvider", "source", "seeAlso", "dateCreated",
    "dateModified", "owner", "location", "address", "areaServed", "dateObserved",
}  # fmt: skip
NAMED_UNITS = {
    "南京大楼": "building", "田子坊": "scenicArea", "春江小区": "residentialCompound",
    "瞿溪路沿街商铺": "streetShops", "渔阳里": "neighbourhood", "外滩": "hotSpot", "南京路步行街": "hotSpot",
    "豫园": "hotSpot", "人民广场": "hotSpot", "新天地": "hotSpot",
}  # fmt: skip


@pytest.fixture(scope="module")
def entities() -> list[dict[str, Any]]:
    return build_district()


@pytest.fixture(scope="module")
def by_id(entities: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in entities}


def of_type(entities: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in entities if e["type"] == kind]


def geom(e: dict[str, Any]) -> Any:
    return shape(e["location"]["value"])


def schema_names(kind: str) -> set[str]:
    """Attribute names a reference schema allows: its own properties and those of its normalized example."""
    schema = json.loads((SDM / f"{kind}.schema.json").read_text(encoding="utf-8"))
    names: set[str] = set(schema.get("properties", {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            names |= set(part.get("properties", {}))
    example = SDM / f"{kind}.example-normalized.jsonld"
    if example.exists():
        names |= set(json.loads(example.read_text(encoding="utf-8"))) - {"@context"}
    return names


def test_same_seed_same_output(entities: list[dict[str, Any]]) -> None:
    assert build_district() == entities
    assert build_district(seed=7) != entities


def test_counts(entities: list[dict[str, Any]]) -> None:
    summary = district_summary(entities)
    assert summary["District"] == 1
    assert summary["Street"] == 10
    assert 45 <= summary["Grid"] <= 60
    assert summary["ManagementUnit"] == len(UNITS)
    assert 200 <= summary["Building"] <= 600
    observed = sum(summary.get(t, 0) for t in SENSOR_TYPES)
    assert observed >= 5200
    assert summary["Device"] == observed
    hierarchy = summary["District"] + summary["Street"] + summary["Grid"]
    assert len(entities) - hierarchy >= 5000
    assert all(summary.get(t, 0) >= 1 for t in SENSOR_TYPES)
    assert sum(summary.values()) == len(entities)


def test_sensors_parameter_sets_the_observed_count() -> None:
    summary = district_summary(build_district(seed=1, sensors=300))
    assert sum(summary.get(t, 0) for t in SENSOR_TYPES) >= 300
    assert summary["Grid"] == district_summary(build_district(seed=2, sensors=20))["Grid"]


def test_ids_unique_and_typed(entities: list[dict[str, Any]]) -> None:
    ids = [e["id"] for e in entities]
    assert len(ids) == len(set(ids))
    for e in entities:
        assert re.fullmatch(rf"urn:ngsi-ld:{e['type']}:[^\s]+", e["id"]), e["id"]
        assert "@context" not in e


def test_relationships_point_at_existing_entities(entities: list[dict[str, Any]], by_id: dict[str, Any]) -> None:
    for e in entities:
        for name, attr in e.items():
            if isinstance(attr, dict) and attr.get("type") == "Relationship":
                assert attr["object"] in by_id, f"{e['id']} {name} -> {attr['object']}"


def test_attribute_shapes(entities: list[dict[str, Any]]) -> None:
    for e in entities:
        for name, attr in e.items():
            if name in ("id", "type"):
                continue
            kind = attr["type"]
            member = {
                "Property": "value",
                "Relationship": "object",
                "GeoProperty": "value",
                "LanguageProperty": "languageMap",
            }[kind]
            assert attr[member] is not None, (e["id"], name)
            if "observedAt" in attr:
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", attr["observedAt"])
    for e in entities:
        if e["type"] in ("District", "Street", "Grid", "ManagementUnit"):
            assert set(e["name"]["languageMap"]) == {"zh", "en"}


def test_geometries_valid(entities: list[dict[str, Any]]) -> None:
    for e in entities:
        value = e["location"]["value"]
        g = shape(value)
        assert g.is_valid and not g.is_empty, e["id"]
        if value["type"] == "Polygon":
            outer = value["coordinates"][0]
            assert outer[0] == outer[-1]
            assert LinearRing(outer).is_ccw, e["id"]
        for x, y in [value["coordinates"]] if value["type"] == "Point" else value["coordinates"][0]:
            assert 121.4 < x < 121.6 and 31.1 < y < 31.3  # lon/lat order


def test_streets_tessellate_the_district(entities: list[dict[str, Any]]) -> None:
    district = geom(of_type(entities, "District")[0])
    streets = [geom(s) for s in of_type(entities, "Street")]
    for a, b in combinations(streets, 2):
        assert a.intersection(b).area < 1e-4 * district.area
    covered = sum(s.intersection(district).area for s in streets)
    assert covered >= 0.95 * district.area
    assert sum(s.area for s in streets) <= 1.001 * district.area


def test_grids_and_units_nest(entities: list[dict[str, Any]], by_id: dict[str, Any]) -> None:
    for g in of_type(entities, "Grid"):
        street = by_id[g["refStreet"]["object"]]
        assert street["type"] == "Street" and g["refDistrict"]["object"] == DISTRICT
        assert geom(g).difference(geom(street)).area < 1e-3 * geom(g).area
        assert re.fullmatch(r"HP-[A-Z]+-\d\d", g["code"]["value"])
    grids = [geom(g) for g in of_type(entities, "Grid")]
    for a, b in combinations(grids, 2):
        assert a.intersection(b).area < 1e-3 * min(a.area, b.area)
    for u in of_type(entities, "ManagementUnit"):
        grid = by_id[u["refGrid"]["object"]]
        assert grid["refStreet"]["object"] == u["refStreet"]["object"]
        assert geom(u).difference(geom(grid)).area < 1e-3 * geom(u).area


def test_named_units_and_hot_spots(entities: list[dict[str, Any]]) -> None:
    units = {u["name"]["languageMap"]["zh"]: u for u in of_type(entities, "ManagementUnit")}
    assert {name: u["category"]["value"] for name, u in units.items()} == NAMED_UNITS
    for u in units.values():
        if u["id"] in HOT_SPOTS:
            area = u["walkableArea"]
            assert area["unitCode"] == "MTK" and 0 < area["value"] <= geom(u).area * 95_282 * 110_874
    assert {u["id"] for u in units.values()} == set(UNITS)


def test_sensors_inside_their_grid(entities: list[dict[str, Any]], by_id: dict[str, Any]) -> None:
    district = geom(of_type(entities, "District")[0])
    grids = {g["id"]: geom(g) for g in of_type(entities, "Grid")}
    units = {u["id"]: geom(u) for u in of_type(entities, "ManagementUnit")}
    for e in entities:
        if e["type"] not in (*SENSOR_TYPES, "Device"):
            continue
        pt = geom(e)
        assert pt.geom_type == "Point"
        assert district.contains(pt), e["id"]
        assert grids[e["refGrid"]["object"]].contains(pt), e["id"]
        assert by_id[e["refGrid"]["object"]]["refStreet"] == e["refStreet"]
        if "refUnit" in e:
            assert units[e["refUnit"]["object"]].intersects(pt.buffer(1e-6)), e["id"]
    crowd = of_type(entities, "CrowdFlowObserved")
    assert {c["refUnit"]["object"] for c in crowd} == set(HOT_SPOTS)


def test_attribute_names_follow_the_reference_schemas(entities: list[dict[str, Any]]) -> None:
    assert SDM.is_dir(), f"reference schemas not found at {SDM}"
    own = {"BuildingTilt", "SmokeDetector"}  # no Smart Data Model covers them: cityos's own types
    assert not any((SDM / f"{kind}.schema.json").exists() for kind in own)
    for kind in (*(t for t in SENSOR_TYPES if t not in own), "Device", "Building"):
        allowed = schema_names(kind) | COMMON | REF_KEYS
        used = set().union(*(e.keys() for e in of_type(entities, kind)))
        assert used <= allowed, f"{kind}: {sorted(used - allowed)}"
