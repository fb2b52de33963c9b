"""Reports placed in the demo district's unit, grid and street (网格化管理): by coordinates, by address, by
what they name; routed by area and by the street that owns the grid; on the unit's twin; through Open311.
On SQLite and PostgreSQL, over the demo district without sensors."""

from __future__ import annotations

from functools import cache
from typing import Any

from conftest import Api
from shapely.geometry import shape

from cityos.auth import create_token
from cityos.cases.placing import NEAREST_METRES, PlaceIndex, normalise_address, placer
from cityos.context import core_term_map, parse_entity
from cityos.demo.district import BUND, build_district
from cityos.demo.load import upsert_entities
from cityos.runtime import Runtime
from cityos.vitals import service as vitals

OPEN311 = "/open311/v2"


@cache
def district() -> tuple[dict[str, Any], ...]:
    return tuple(build_district(sensors=0))


@cache
def index() -> PlaceIndex:
    tm = core_term_map()
    parsed = (parse_entity(e, tm, now="2026-11-21T08:00:00Z") for e in district())
    return PlaceIndex((p.id, p.types, p.attrs) for p in parsed)


def entity(entity_id: str) -> dict[str, Any]:
    return next(e for e in district() if e["id"] == entity_id)


def bund_point() -> tuple[float, float]:
    p = shape(entity(BUND)["location"]["value"]).representative_point()
    return (p.x, p.y)


def load(rt: Runtime) -> None:
    upsert_entities(rt, "default", list(district()))
    vitals.ensure_definitions(rt, "default")


def report(api: Api, **body: Any) -> dict[str, Any]:
    r = api.post("/cases", json={"source": "hotline", **body})
    assert r.status_code == 201, r.text
    case: dict[str, Any] = r.json()["case"]
    return case


def test_a_fight_at_the_bund_is_placed_routed_by_the_bund_rule_and_listed_on_its_twin(api: Api, rt: Runtime) -> None:
    load(rt)
    lon, lat = bund_point()
    case = report(api, text="外滩观景平台有人打架，围了很多人", category="security-hazard", lon=lon, lat=lat)
    assert (case["unit"], case["grid"], case["street"]) == (BUND, entity(BUND)["refGrid"]["object"],
                                                            "urn:ngsi-ld:Street:waitan")  # fmt: skip
    assert case["placement"]["method"] == "coordinates" and case["placement"]["reason"] is None
    assert case["routing"]["rule"] == "bund-public-safety" and case["department"] == "public-security"
    twin = api.get(f"/twin/units/{BUND}")
    assert twin.status_code == 200, twin.text
    assert case["id"] in [c["id"] for c in twin.json()["cases"]]


def test_a_point_outside_the_district_is_unplaced_with_its_reason(api: Api, rt: Runtime) -> None:
    load(rt)
    case = report(api, text="路上有人打架", category="security-hazard", lon=121.30, lat=31.10)
    assert case["unit"] is None and case["grid"] is None and case["street"] is None
    assert case["placement"]["method"] is None and "no street or grid" in case["placement"]["reason"]
    assert case["routing"]["rule"] == "default" and case["department"] == "public-security"


def test_an_address_only_report_is_placed_by_the_district_addresses_and_goes_to_its_street_office(
    api: Api, rt: Runtime
) -> None:
    load(rt)
    case = report(
        api, text="楼上住户把被子晾在沿街护栏上", category="street-drying", address="上海市黄浦区南京东路 233 号"
    )
    assert case["placement"]["method"] == "address"
    assert case["placement"]["address_match"]["text"] == "南京东路233号"
    assert case["unit"] == "urn:ngsi-ld:ManagementUnit:nanjingdalou" and case["street"] == "urn:ngsi-ld:Street:waitan"
    # the Waitan street-order rule matches the placed street; the office is the street's own, not a generic one
    assert case["routing"]["rule"] == "waitan-street-order" and case["department"] == "street-office-waitan"
    unknown = report(api, text="被子晾在护栏上", category="street-drying", address="火星路 1 号")
    assert unknown["placement"]["method"] is None and "matches no building" in unknown["placement"]["reason"]
    assert unknown["street"] is None and unknown["department"] == "street-office"  # left as before: no street known


def test_open311_with_coordinates_is_placed_the_same_way(api: Api, rt: Runtime) -> None:
    load(rt)
    lon, lat = bund_point()
    form = {"service_code": "security-hazard", "lat": str(lat), "long": str(lon), "description": "外滩有人打架斗殴"}
    app = create_token(rt.db, "city-app", role="reporter")
    r = api.post(f"{OPEN311}/requests.json", data={**form, "api_key": app}, token=None)
    assert r.status_code == 201, r.text
    case_id = r.json()[0]["service_request_id"]
    case = api.get(f"/cases/{case_id}").json()["case"]
    assert case["unit"] == BUND and case["placement"]["method"] == "coordinates"
    assert case["routing"]["rule"] == "bund-public-safety"


def test_the_index_is_refreshed_when_the_district_changes(api: Api, rt: Runtime) -> None:
    load(rt)
    assert placer(rt).index("default").areas  # read once and kept
    grid = {"id": "urn:ngsi-ld:Grid:HP-TEST-01", "type": "Grid", "refStreet": {"type": "Relationship",
            "object": "urn:ngsi-ld:Street:test"},
            "location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [
                [[121.30, 31.10], [121.31, 31.10], [121.31, 31.11], [121.30, 31.11], [121.30, 31.10]]]}}}  # fmt: skip
    assert api.post("/ngsi-ld/v1/entities", json=grid).status_code == 201
    case = report(api, text="路上有人打架", category="security-hazard", lon=121.305, lat=31.105)
    assert case["grid"] == "urn:ngsi-ld:Grid:HP-TEST-01" and case["street"] == "urn:ngsi-ld:Street:test"


def test_points_just_inside_every_grid_border_are_placed_in_that_grid() -> None:
    idx = index()
    grids = [e for e in district() if e["type"] == "Grid"]
    for g in grids:
        inner = shape(g["location"]["value"]).buffer(-0.000005)  # about half a metre inside the border
        assert not inner.is_empty
        ring = inner.exterior if inner.geom_type == "Polygon" else max(inner.geoms, key=lambda p: p.area).exterior
        for k in range(20):
            p = ring.interpolate(k / 20, normalized=True)
            placed = idx.at(p.x, p.y)
            assert placed.grid == g["id"], (g["id"], p.wkt, placed)
            assert placed.street == g["refStreet"]["object"]


def test_a_point_just_outside_the_district_takes_the_nearest_grid_within_the_limit() -> None:
    idx = index()
    outline = shape(entity("urn:ngsi-ld:District:huangpu")["location"]["value"])
    west = outline.bounds[0]
    lat = outline.centroid.y
    edge = min(outline.exterior.coords, key=lambda c: c[0])  # the westmost vertex
    metres_per_degree = 111_320 * 0.855  # cos(31.2°)
    near = idx.at(edge[0] - 10 / metres_per_degree, edge[1])
    assert near.method == "coordinates" and near.grid is not None
    assert near.distance_m is not None and 5 < near.distance_m <= NEAREST_METRES
    far = idx.at(west - 500 / metres_per_degree, lat)
    assert far.method is None and far.reason


def test_named_places_are_kept_and_completed_and_addresses_are_normalised() -> None:
    idx = index()
    named = idx.named(BUND, None, None)
    assert named.method == "reporter" and named.street == "urn:ngsi-ld:Street:waitan" and named.grid
    assert normalise_address("上海市 黄浦区 南京东路２３３号") == "南京东路233号"
    by_name = idx.by_address("和平饭店门口")
    assert by_name.method == "address" and by_name.address_match is not None
    assert by_name.address_match["by"] == "name" and by_name.street == "urn:ngsi-ld:Street:waitan"
