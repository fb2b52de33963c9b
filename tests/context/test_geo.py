"""Geo-queries: parsing, GeoProperty validation, the exact test, and the SQL bounding-box prefilter."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from cityos.context.errors import BadRequestData, InvalidRequest
from cityos.context.geo import (
    GEOMETRY_TYPES,
    GEORELS,
    GeoQuery,
    compile_geo_prefilter,
    distance_m,
    haversine_m,
    matches,
    parse_geoq,
    parse_geoquery,
    prefilter_box,
    size_class,
    validate_geometry,
)
from cityos.context.tables import entities, entity_geo
from cityos.store.engine import Database

BUND = (121.4905, 31.2397)
PEOPLES_SQUARE = (121.4737, 31.2304)
SQUARE = [[[121.47, 31.23], [121.48, 31.23], [121.48, 31.24], [121.47, 31.24], [121.47, 31.23]]]
SQUARE_GEOJSON = {"type": "Polygon", "coordinates": SQUARE}
EXAMPLES: dict[str, Any] = {
    "Point": [121.47, 31.23],
    "MultiPoint": [[121.47, 31.23], [121.48, 31.24]],
    "LineString": [[121.47, 31.23], [121.48, 31.24]],
    "MultiLineString": [[[121.47, 31.23], [121.48, 31.24]], [[121.46, 31.22], [121.46, 31.25]]],
    "Polygon": SQUARE,
    "MultiPolygon": [SQUARE, [[[121.5, 31.3], [121.51, 31.3], [121.51, 31.31], [121.5, 31.3]]]],
}


def gq(georel: str, geometry: str, coordinates: Any, geoproperty: str | None = None) -> GeoQuery:
    text = coordinates if isinstance(coordinates, str) else json.dumps(coordinates)
    q = parse_geoquery(georel, geometry, text, geoproperty)
    assert q is not None
    return q


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


# --- parsing ------------------------------------------------------------------------------------


def test_no_geo_parameters_is_no_geo_query() -> None:
    assert parse_geoquery(None, None, None, None) is None
    # a lone geoproperty names the geometry of GeoJSON output; it is not a query
    assert parse_geoquery(None, None, None, "location") is None


@pytest.mark.parametrize("georel", [r for r in GEORELS if r != "near"])
def test_each_topological_georel(georel: str) -> None:
    q = gq(georel, "Polygon", SQUARE)
    assert (q.georel, q.max_distance, q.min_distance) == (georel, None, None)
    assert q.geoproperty == "location"
    assert q.bbox == (121.47, 31.23, 121.48, 31.24)


@pytest.mark.parametrize(
    ("georel", "max_d", "min_d"),
    [
        ("near;maxDistance==2000", 2000.0, None),
        ("near;minDistance==100", None, 100.0),
        ("near;minDistance==100;maxDistance==2000", 2000.0, 100.0),
        ("near;maxDistance==2000;minDistance==100", 2000.0, 100.0),
        ("near;maxDistance==12.5", 12.5, None),
        ("near;maxDistance==0", 0.0, None),
        ("near; maxDistance == 1e3", 1000.0, None),
    ],
)
def test_near_distances(georel: str, max_d: float | None, min_d: float | None) -> None:
    q = gq(georel, "Point", "[121.49,31.24]")
    assert (q.georel, q.max_distance, q.min_distance) == ("near", max_d, min_d)


@pytest.mark.parametrize("geometry", GEOMETRY_TYPES)
def test_each_geometry_type(geometry: str) -> None:
    q = gq("intersects", geometry, EXAMPLES[geometry])
    assert q.reference.geom_type == geometry
    assert q.geojson == {"type": geometry, "coordinates": EXAMPLES[geometry]}


@pytest.mark.parametrize(
    "text",
    [
        "[121.49,31.24]",
        " [ 121.49 , 31.24 ] ",
        "%5B121.49%2C31.24%5D",  # still percent-encoded
        "[121.49,31.24,4.5]",  # with altitude
    ],
)
def test_url_style_point_coordinates(text: str) -> None:
    q = gq("near;maxDistance==10", "Point", text)
    assert (q.reference.x, q.reference.y) == (121.49, 31.24)


def test_url_style_polygon_coordinates() -> None:
    encoded = "%5B%5B%5B121.4%2C31.2%5D%2C%5B121.5%2C31.2%5D%2C%5B121.5%2C31.3%5D%2C%5B121.4%2C31.2%5D%5D%5D"
    q = gq("within", "Polygon", encoded)
    assert q.bbox == (121.4, 31.2, 121.5, 31.3)


def test_coordinates_may_be_an_array_and_geoproperty_is_kept() -> None:
    q = parse_geoquery("within", "Polygon", SQUARE, "servedArea")
    assert q is not None
    assert q.geoproperty == "servedArea"
    assert q.bbox == (121.47, 31.23, 121.48, 31.24)


def test_geoq_object_and_round_trip() -> None:
    q = parse_geoq({"georel": "near;maxDistance==500", "geometry": "Point", "coordinates": [121.47, 31.23]})
    assert (q.georel, q.max_distance, q.geoproperty) == ("near", 500.0, "location")
    again = parse_geoq(
        {
            "georel": "near;minDistance==10;maxDistance==500.5",
            "geometry": "Point",
            "coordinates": "[121.47,31.23]",
            "geoproperty": "position",
        }
    )
    assert again.to_geoq() == {
        "georel": "near;maxDistance==500.5;minDistance==10",
        "geometry": "Point",
        "coordinates": [121.47, 31.23],
        "geoproperty": "position",
    }
    assert parse_geoq(again.to_geoq()) == again


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ("near", "'geoQ' must be an object"),
        ([], "'geoQ' must be an object"),
        ({"georel": "within", "geometry": "Point"}, "'geoQ' lacks coordinates"),
        ({"coordinates": [1, 2]}, "'geoQ' lacks georel, geometry"),
        ({"georel": 5, "geometry": "Point", "coordinates": [1, 2]}, "georel must be a string"),
        (
            {"georel": "within", "geometry": ["Point"], "coordinates": [1, 2]},
            "geometry ['Point'] is not supported",
        ),
        (
            {"georel": "within", "geometry": "Point", "coordinates": {"x": 1}},
            "coordinates must be a JSON array",
        ),
        ({"georel": "within", "geometry": "Point", "coordinates": [1, 2], "geoproperty": 3}, "geoproperty 3"),
    ],
)
def test_bad_geoq(obj: Any, fragment: str) -> None:
    with pytest.raises(BadRequestData) as info:
        parse_geoq(obj)
    assert fragment in info.value.detail


PT = "[121.47,31.23]"
INVALID: list[tuple[tuple[Any, ...], type[Exception], str]] = [
    # incomplete
    (("near;maxDistance==5", None, None), BadRequestData, "missing: geometry, coordinates"),
    ((None, "Point", PT), BadRequestData, "missing: georel"),
    (("within", "Point", None), BadRequestData, "missing: coordinates"),
    # georel
    (("nearby;maxDistance==5", "Point", PT), BadRequestData, "georel 'nearby' is not a geo-relationship"),
    (("", "Point", PT), BadRequestData, "georel '' is not a geo-relationship"),
    (("Within", "Point", PT), BadRequestData, "use one of near, within"),
    (
        ("near", "Point", PT),
        BadRequestData,
        "georel 'near' needs maxDistance or minDistance, e.g. near;maxDistance==500",
    ),
    (
        ("near;maxDistance=5", "Point", PT),
        InvalidRequest,
        "segment 'maxDistance=5' is not of the form name==value",
    ),
    (("near;maxDistance", "Point", PT), InvalidRequest, "not of the form name==value"),
    (("near;;maxDistance==5", "Point", PT), InvalidRequest, "segment '' is not of the form"),
    (("near;maxDistance==5;", "Point", PT), InvalidRequest, "segment '' is not of the form"),
    (("near;maxDistance==abc", "Point", PT), BadRequestData, "maxDistance 'abc' is not a number of metres"),
    (("near;maxDistance==", "Point", PT), BadRequestData, "maxDistance '' is not a number"),
    (("near;maxDistance==-5", "Point", PT), BadRequestData, "maxDistance '-5' is negative"),
    (("near;minDistance==1e999", "Point", PT), BadRequestData, "not a finite number"),
    (("near;maxDistance==inf", "Point", PT), BadRequestData, "is not a number"),
    (("near;maxDistance==5;maxDistance==6", "Point", PT), BadRequestData, "gives maxDistance twice"),
    (("near;distance==5", "Point", PT), BadRequestData, "unknown modifier 'distance'"),
    (("within;maxDistance==5", "Point", PT), BadRequestData, "georel 'within' takes no maxDistance"),
    (
        ("near;minDistance==50;maxDistance==10", "Point", PT),
        BadRequestData,
        "minDistance 50 is greater than maxDistance 10",
    ),
    # geometry
    (("within", "Circle", PT), BadRequestData, "geometry 'Circle' is not supported"),
    (("within", "polygon", SQUARE), BadRequestData, "case-sensitive: 'Polygon'"),
    (("within", "GeometryCollection", PT), BadRequestData, "use one of Point, MultiPoint"),
    (("within", "", PT), BadRequestData, "geometry '' is not supported"),
    # coordinates: syntax
    (("within", "Point", "[121.47,31.23"), InvalidRequest, "is not a JSON array"),
    (("within", "Point", "121.47,31.23"), InvalidRequest, "write it as in GeoJSON"),
    (("within", "Point", ""), InvalidRequest, "is not a JSON array"),
    (("within", "Point", "[NaN,31.23]"), InvalidRequest, "NaN is not a number"),
    (("within", "Point", "[Infinity,31.23]"), InvalidRequest, "Infinity is not a number"),
    (("within", "Point", "[" * 100_000 + "]" * 100_000), InvalidRequest, "is not a JSON array"),
    # coordinates: content
    (("within", "Point", '"121.47,31.23"'), BadRequestData, "coordinates must be a JSON array"),
    (("within", "Point", "[121.47]"), BadRequestData, "must be [longitude, latitude]"),
    (("within", "Point", "[1,2,3,4]"), BadRequestData, "must be [longitude, latitude]"),
    (("within", "Point", '["121.47",31.23]'), BadRequestData, "holds '121.47', which is not a number"),
    (("within", "Point", "[true,31.23]"), BadRequestData, "which is not a number"),
    (("within", "Point", "[181,31.23]"), BadRequestData, "longitude 181 outside [-180, 180]"),
    (("within", "Point", "[-180.5,31.23]"), BadRequestData, "longitude -180.5 outside [-180, 180]"),
    (("within", "Point", "[31.23,121.47]"), BadRequestData, "latitude 121.47 outside [-90, 90]"),
    (("within", "Point", "[121.47,-91]"), BadRequestData, "latitude -91 outside [-90, 90]"),
    (("within", "Point", "[[121.47,31.23]]"), BadRequestData, "nested 2 deep where a Point needs 1"),
    (
        ("within", "LineString", PT),
        BadRequestData,
        "nested 1 deep where a LineString needs 2 (that nesting is a Point)",
    ),
    (("within", "LineString", "[[121.47,31.23]]"), BadRequestData, "at least 2, got 1"),
    (
        ("within", "LineString", "[[121.47,31.23],[121.48,95]]"),
        BadRequestData,
        "position coordinates[1] has latitude 95 outside",
    ),
    (("within", "MultiPoint", "[]"), BadRequestData, "at least 1, got 0"),
    (("within", "MultiLineString", "[[[121.47,31.23]]]"), BadRequestData, "at least 2, got 1"),
    (
        ("within", "Polygon", "[[121.47,31.23],[121.48,31.24]]"),
        BadRequestData,
        "nested 2 deep where a Polygon needs 3 (that nesting is a MultiPoint or LineString)",
    ),
    (
        ("within", "Polygon", "[[[121.4,31.2],[121.5,31.2],[121.4,31.2]]]"),
        BadRequestData,
        "Polygon ring 0 has 3 positions; a closed ring needs at least 4",
    ),
    (
        ("within", "Polygon", "[[[121.4,31.2],[121.5,31.2],[121.5,31.3],[121.4,31.3]]]"),
        BadRequestData,
        "Polygon ring 0 is not closed (first and last positions differ)",
    ),
    (("within", "Polygon", "[[]]"), BadRequestData, "ring 0 (coordinates[0]) must be a list of positions"),
    (
        ("within", "MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,0],[1,1]]]]"),
        BadRequestData,
        "MultiPolygon polygon 1 ring 0 has 3 positions",
    ),
    # geoproperty
    (("within", "Point", PT, ""), BadRequestData, "geoproperty '' is not an attribute name"),
    (
        ("within", "Point", PT, "my location"),
        BadRequestData,
        "geoproperty 'my location' is not an attribute name",
    ),
]


@pytest.mark.parametrize(("args", "error", "fragment"), INVALID, ids=[str(i) for i in range(len(INVALID))])
def test_invalid_geoqueries(args: tuple[Any, ...], error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as info:
        parse_geoquery(*args)
    assert type(info.value) is error
    assert fragment in info.value.detail  # type: ignore[attr-defined]


def test_coordinates_message_shows_an_example() -> None:
    with pytest.raises(BadRequestData) as info:
        parse_geoquery("within", "Polygon", "[[[121.4,31.2],[121.5,31.2],[121.5,31.3],[121.4,31.3]]]", None)
    assert info.value.detail == (
        "coordinates: Polygon ring 0 is not closed (first and last positions differ); "
        "e.g. coordinates=[[[121.4,31.2],[121.5,31.2],[121.5,31.3],[121.4,31.2]]]"
    )


# --- GeoProperty values ----------------------------------------------------------------------------


@pytest.mark.parametrize("geometry", GEOMETRY_TYPES)
def test_validate_geometry_returns_bbox(geometry: str) -> None:
    bbox = validate_geometry({"type": geometry, "coordinates": EXAMPLES[geometry]}, attr="location")
    q = gq("intersects", geometry, EXAMPLES[geometry])
    assert bbox == q.bbox


def test_validate_geometry_with_altitude_and_hole() -> None:
    value = {
        "type": "Polygon",
        "coordinates": [
            [[121.0, 31.0, 5], [122.0, 31.0, 5], [122.0, 32.0, 5], [121.0, 31.0, 5]],
            [[121.5, 31.2], [121.8, 31.2], [121.8, 31.4], [121.5, 31.2]],
        ],
    }
    assert validate_geometry(value) == (121.0, 31.0, 122.0, 32.0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
            "GeoProperty 'location': Polygon ring 0 is not closed (first and last positions differ)",
        ),
        ("POINT (121 31)", "GeoProperty 'location': the value must be a GeoJSON geometry object"),
        (
            {"type": "Circle", "coordinates": [0, 0]},
            "GeoProperty 'location': geometry type 'Circle' is not supported",
        ),
        ({"type": "GeometryCollection", "geometries": []}, "type 'GeometryCollection' is not supported"),
        ({"type": "Point"}, "GeoProperty 'location': the Point has no coordinates, e.g. [121.47,31.23]"),
        (
            {"type": "Point", "coordinates": [200, 0]},
            "GeoProperty 'location': Point position has longitude 200",
        ),
        ({"type": "Point", "coordinates": [0, float("nan")]}, "holds nan, which is not a finite number"),
        ({"type": "Point", "coordinates": [10**400, 0]}, "outside [-180, 180]"),
        (
            {"type": "LineString", "coordinates": [[0, 0], [1, None]]},
            "position coordinates[1] [1, None] holds None",
        ),
        (
            {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], "x"]},
            "line 1 (coordinates[1]) must be",
        ),
    ],
)
def test_validate_geometry_rejects(value: Any, message: str) -> None:
    with pytest.raises(BadRequestData) as info:
        validate_geometry(value, attr="location")
    assert message in info.value.detail


def test_validate_geometry_names_the_attribute() -> None:
    with pytest.raises(BadRequestData, match="GeoProperty 'servedArea': Polygon ring 0 has 3 positions"):
        validate_geometry({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, attr="servedArea")


# --- the exact test ----------------------------------------------------------------------------------


def law_of_cosines_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[1]), math.radians(b[1])
    dl = math.radians(b[0] - a[0])
    cos_c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6_371_000 * math.acos(min(1.0, cos_c))


def test_haversine_agrees_with_law_of_cosines() -> None:
    d = haversine_m(*BUND, *PEOPLES_SQUARE)
    assert abs(d - law_of_cosines_m(BUND, PEOPLES_SQUARE)) / d < 0.02
    assert 1850 < d < 1960  # about 1.9 km across Huangpu
    assert haversine_m(*BUND, *BUND) == 0


def test_near_max_and_min_distance_in_metres() -> None:
    square = point(*PEOPLES_SQUARE)
    assert matches(gq("near;maxDistance==2000", "Point", list(BUND)), square)
    assert not matches(gq("near;maxDistance==1800", "Point", list(BUND)), square)
    assert matches(gq("near;minDistance==1800", "Point", list(BUND)), square)
    assert not matches(gq("near;minDistance==2000", "Point", list(BUND)), square)
    assert matches(gq("near;minDistance==1800;maxDistance==2000", "Point", list(BUND)), square)
    assert not matches(gq("near;minDistance==100;maxDistance==1800", "Point", list(BUND)), square)
    assert matches(gq("near;maxDistance==0", "Point", list(BUND)), point(*BUND))


def test_near_for_lines_and_polygons_matches_the_metric_distance() -> None:
    # A meridian segment 0.01° east of the Bund: the nearest point is due east, at the same latitude.
    line = {"type": "LineString", "coordinates": [[BUND[0] + 0.01, 31.2], [BUND[0] + 0.01, 31.3]]}
    expected = haversine_m(*BUND, BUND[0] + 0.01, BUND[1])
    q = gq("near;maxDistance==1", "Point", list(BUND))
    measured = distance_m(q.reference, gq("intersects", "LineString", line["coordinates"]).reference)
    assert abs(measured - expected) / expected < 0.001
    assert matches(gq(f"near;maxDistance=={expected * 1.01}", "Point", list(BUND)), line)
    assert not matches(gq(f"near;maxDistance=={expected * 0.99}", "Point", list(BUND)), line)
    # a polygon reference: distance from its nearest edge; inside it is zero
    ref = [[[121.47, 31.23], [121.48, 31.23], [121.48, 31.24], [121.47, 31.24], [121.47, 31.23]]]
    north = haversine_m(121.475, 31.24, 121.475, 31.245)
    assert matches(gq(f"near;maxDistance=={north * 1.01}", "Polygon", ref), point(121.475, 31.245))
    assert not matches(gq(f"near;maxDistance=={north * 0.99}", "Polygon", ref), point(121.475, 31.245))
    assert matches(gq("near;maxDistance==0", "Polygon", ref), point(121.475, 31.235))
    assert not matches(gq("near;minDistance==1", "Polygon", ref), point(121.475, 31.235))


def test_topological_relations() -> None:
    inner = box(121.472, 31.232, 121.475, 31.235)
    overlapping = box(121.475, 31.235, 121.49, 31.25)
    outside = box(121.50, 31.25, 121.51, 31.26)
    same_but_rotated = {
        "type": "Polygon",
        "coordinates": [[[121.48, 31.23], [121.48, 31.24], [121.47, 31.24], [121.47, 31.23], [121.48, 31.23]]],
    }
    within, contains = gq("within", "Polygon", SQUARE), gq("contains", "Polygon", SQUARE)
    intersects, disjoint = gq("intersects", "Polygon", SQUARE), gq("disjoint", "Polygon", SQUARE)
    overlaps, equals = gq("overlaps", "Polygon", SQUARE), gq("equals", "Polygon", SQUARE)

    assert matches(within, inner) and matches(within, point(121.475, 31.235))
    assert not matches(within, overlapping) and not matches(within, outside)
    assert not matches(within, point(121.47, 31.235))  # on the boundary: not within
    assert matches(within, same_but_rotated)

    assert matches(contains, box(121.46, 31.22, 121.49, 31.25))
    assert not matches(contains, inner) and not matches(contains, overlapping)
    assert matches(gq("contains", "Point", [121.475, 31.235]), SQUARE_GEOJSON)

    assert matches(intersects, overlapping) and matches(intersects, inner)
    assert matches(intersects, point(121.47, 31.235))  # boundary counts
    assert not matches(intersects, outside)

    assert matches(disjoint, outside) and matches(disjoint, point(121.0, 31.0))
    assert not matches(disjoint, overlapping) and not matches(disjoint, inner)

    assert matches(overlaps, overlapping)
    assert not matches(overlaps, inner)  # inside is not overlap
    assert not matches(overlaps, outside)
    assert not matches(overlaps, point(121.475, 31.235))  # different dimension

    assert matches(equals, same_but_rotated) and matches(equals, SQUARE_GEOJSON)
    assert not matches(equals, inner)
    line = gq("intersects", "LineString", [[121.46, 31.235], [121.49, 31.235]])
    assert matches(line, SQUARE_GEOJSON) and not matches(line, outside)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "POINT (121.47 31.23)",
        {"type": "Point"},
        {"type": "Point", "coordinates": [999, 0]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}},
        {"type": "LineString", "coordinates": [[0, 0], ["a", 1]]},
    ],
)
def test_invalid_stored_geometry_never_matches(stored: Any) -> None:
    for q in (
        gq("disjoint", "Point", PT),
        gq("near;minDistance==0", "Point", PT),
        gq("intersects", "Polygon", [[[-10, -10], [10, -10], [10, 10], [-10, -10]]]),
    ):
        assert matches(q, stored) is False


# --- prefilter box -----------------------------------------------------------------------------------


def test_prefilter_box_per_relation() -> None:
    assert prefilter_box(gq("disjoint", "Polygon", SQUARE)) is None
    assert prefilter_box(gq("near;minDistance==100", "Point", PT)) is None
    for rel in ("within", "contains", "intersects", "overlaps", "equals"):
        assert prefilter_box(gq(rel, "Polygon", SQUARE)) == (121.47, 31.23, 121.48, 31.24)
    x0, y0, x1, y1 = prefilter_box(gq("near;minDistance==10;maxDistance==1000", "Point", PT))  # type: ignore[misc]
    # 1 km is about 0.009° of latitude and 0.0105° of longitude at 31°N
    assert 0.009 < 31.23 - y0 < 0.0099 and 0.009 < y1 - 31.23 < 0.0099
    assert 0.0105 < 121.47 - x0 < 0.0115 and 0.0105 < x1 - 121.47 < 0.0115


def test_prefilter_box_at_the_edges_of_the_map() -> None:
    x0, _, x1, _ = prefilter_box(gq("near;maxDistance==5000", "Point", [179.99, 10]))  # type: ignore[misc]
    assert (x0, x1) == (-180.0, 180.0)
    x0, y0, x1, y1 = prefilter_box(gq("near;maxDistance==5000", "Point", [0, 89.99]))  # type: ignore[misc]
    assert (x0, x1, y1) == (-180.0, 180.0, 90.0) and y0 < 89.95
    assert prefilter_box(gq("near;maxDistance==30000000", "Point", PT)) == (-180.0, -90.0, 180.0, 90.0)


# --- property tests ----------------------------------------------------------------------------------

CITY_LON, CITY_LAT = 121.47, 31.23
lons = st.floats(CITY_LON - 0.2, CITY_LON + 0.2)
lats = st.floats(CITY_LAT - 0.2, CITY_LAT + 0.2)
offsets = st.floats(-0.06, 0.06)


@st.composite
def polygons(draw: st.DrawFn) -> list[list[list[float]]]:
    """A simple polygon: vertices at increasing angles around a centre, so edges never cross."""
    cx, cy = draw(lons), draw(lats)
    n = draw(st.integers(3, 8))
    start = draw(st.floats(0, 2 * math.pi))
    ring = []
    for k in range(n):
        angle = start + (k + draw(st.floats(0.05, 0.95))) * 2 * math.pi / n
        radius = draw(st.floats(0.0005, 0.03))
        ring.append([cx + radius * math.cos(angle), cy + radius * math.sin(angle)])
    ring.append(list(ring[0]))
    return [ring]


@st.composite
def references(draw: st.DrawFn) -> tuple[str, Any]:
    if draw(st.booleans()):
        return "Point", [draw(lons), draw(lats)]
    return "Polygon", draw(polygons())


def overlaps_box(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@settings(max_examples=400, deadline=None)
@given(ref=references(), dx=offsets, dy=offsets, distance=st.floats(10, 5000), as_box=st.booleans())
def test_prefilter_never_drops_a_near_match(
    ref: tuple[str, Any], dx: float, dy: float, distance: float, as_box: bool
) -> None:
    geometry, coords = ref
    q = gq(f"near;maxDistance=={distance!r}", geometry, coords)
    cx, cy = q.reference.centroid.x + dx, q.reference.centroid.y + dy
    candidate = box(cx, cy, cx + 0.001, cy + 0.001) if as_box else point(cx, cy)
    bbox = validate_geometry(candidate)
    pre = prefilter_box(q)
    assert pre is not None
    if matches(q, candidate):
        assert overlaps_box(bbox, pre)


@settings(max_examples=200, deadline=None)
@given(
    ref=polygons(),
    candidate=st.one_of(polygons(), st.tuples(lons, lats)),
    rel=st.sampled_from(["within", "contains", "intersects", "overlaps", "equals"]),
)
def test_prefilter_never_drops_a_topological_match(ref: Any, candidate: Any, rel: str) -> None:
    q = gq(rel, "Polygon", ref)
    value = point(*candidate) if isinstance(candidate, tuple) else {"type": "Polygon", "coordinates": candidate}
    pre = prefilter_box(q)
    assert pre is not None
    if matches(q, value):
        assert overlaps_box(validate_geometry(value), pre)
    assert matches(gq(rel, "Polygon", ref), {"type": "Polygon", "coordinates": ref}) is (rel != "overlaps")


text = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.sampled_from(["near;maxDistance==5", "within", "Point", "Polygon", "[121,31]"]),
)
coord_text = st.one_of(
    text,
    st.recursive(
        st.one_of(st.floats(allow_nan=True), st.integers(), st.booleans(), st.none(), st.text(max_size=3)),
        lambda inner: st.lists(inner, max_size=5),
        max_leaves=30,
    ).map(json.dumps),
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    georel=text,
    geometry=st.one_of(text, st.sampled_from(GEOMETRY_TYPES)),
    coordinates=coord_text,
    geoproperty=text,
)
def test_parse_geoquery_only_raises_declared_errors(
    georel: str | None, geometry: str | None, coordinates: str | None, geoproperty: str | None
) -> None:
    try:
        parse_geoquery(georel, geometry, coordinates, geoproperty)
    except (BadRequestData, InvalidRequest) as exc:
        assert exc.detail


@settings(max_examples=300, deadline=None)
@given(
    value=st.recursive(
        st.one_of(st.floats(), st.integers(), st.none(), st.text(max_size=3)),
        lambda inner: st.lists(inner, max_size=5),
        max_leaves=30,
    ),
    gtype=st.sampled_from(GEOMETRY_TYPES),
)
def test_validate_geometry_and_matches_only_raise_declared_errors(value: Any, gtype: str) -> None:
    stored = {"type": gtype, "coordinates": value}
    try:
        validate_geometry(stored)
    except BadRequestData as exc:
        assert exc.detail.startswith("GeoProperty 'location': ")
        assert not matches(gq("disjoint", "Point", PT), stored)


# --- SQL prefilter, on SQLite and PostgreSQL ---------------------------------------------------------

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
AREA = "https://uri.etsi.org/ngsi-ld/default-context/servedArea"
NOW = "2026-11-21T08:00:00.000Z"
HUANGPU_BOX = box(121.45, 31.19, 121.52, 31.26)["coordinates"]

PLACES: dict[str, tuple[str, str, dict[str, Any]]] = {
    # id: (tenant, attr IRI, geometry)
    "bund": ("t1", LOCATION, point(*BUND)),
    "square": ("t1", LOCATION, point(*PEOPLES_SQUARE)),
    "yuyuan": ("t1", LOCATION, point(121.4921, 31.2272)),
    "lujiazui": ("t1", LOCATION, point(121.5055, 31.2397)),
    "hongqiao": ("t1", LOCATION, point(121.3197, 31.1940)),
    "pudong-airport": ("t1", LOCATION, point(121.8053, 31.1443)),
    "beijing": ("t1", LOCATION, point(116.3975, 39.9087)),
    "huangpu": ("t1", LOCATION, box(121.46, 31.20, 121.51, 31.25)),
    "road": ("t1", LOCATION, {"type": "LineString", "coordinates": [[121.40, 31.235], [121.55, 31.236]]}),
    "served": ("t1", AREA, point(*BUND)),  # right place, other attribute
    "other-tenant": ("t2", LOCATION, point(*BUND)),
}


def load(db: Database) -> None:
    with db.begin() as conn:
        for name, (tenant, attr, geometry) in PLACES.items():
            pk = conn.execute(
                insert(entities).values(
                    tenant=tenant,
                    id=f"urn:ngsi-ld:Place:{name}",
                    types=["https://uri.etsi.org/ngsi-ld/default-context/Place"],
                    attrs={attr: [{"type": "GeoProperty", "value": geometry}]},
                    created_at=NOW,
                    modified_at=NOW,
                )
            ).inserted_primary_key[0]
            x0, y0, x1, y1 = validate_geometry(geometry)
            conn.execute(
                insert(entity_geo).values(
                    entity_pk=pk,
                    attr=attr,
                    dataset_id="",
                    tenant=tenant,
                    min_x=x0,
                    min_y=y0,
                    max_x=x1,
                    max_y=y1,
                    size_class=size_class((x0, y0, x1, y1)),
                )
            )


def run(db: Database, q: GeoQuery, attr: str = LOCATION) -> set[str]:
    clause = compile_geo_prefilter(q, attr_iri=attr, tenant="t1")
    stmt = select(entities.c.id).where(entities.c.tenant == "t1", clause)
    with db.connect() as conn:
        return {i.rsplit(":", 1)[1] for i in conn.scalars(stmt)}


def exact(q: GeoQuery, attr: str = LOCATION) -> set[str]:
    return {
        name for name, (tenant, a, geometry) in PLACES.items() if tenant == "t1" and a == attr and matches(q, geometry)
    }


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "expected", "excluded"),
    [
        (
            "near;maxDistance==2000",
            "Point",
            list(BUND),
            {"bund", "square", "yuyuan", "lujiazui", "huangpu", "road"},
            {"hongqiao", "pudong-airport", "beijing"},
        ),
        ("near;maxDistance==100", "Point", list(BUND), {"bund", "huangpu"}, {"square", "lujiazui", "road"}),
        ("near;minDistance==10000", "Point", list(BUND), {"hongqiao", "pudong-airport", "beijing"}, set()),
        (
            "near;minDistance==1000;maxDistance==2500",
            "Point",
            list(BUND),
            {"square", "lujiazui", "yuyuan"},
            {"beijing", "hongqiao"},
        ),
        (
            "within",
            "Polygon",
            HUANGPU_BOX,
            {"bund", "square", "yuyuan", "lujiazui", "huangpu"},
            {"road", "hongqiao", "beijing"},
        ),
        ("contains", "Point", list(BUND), {"huangpu", "bund"}, {"square", "road", "beijing"}),
        (
            "intersects",
            "Polygon",
            box(121.48, 31.22, 121.50, 31.24)["coordinates"],
            {"bund", "yuyuan", "huangpu", "road"},
            {"square", "hongqiao", "beijing"},
        ),
        (
            "overlaps",
            "Polygon",
            box(121.50, 31.24, 121.52, 31.26)["coordinates"],
            {"huangpu"},
            {"bund", "beijing"},
        ),
        (
            "equals",
            "Polygon",
            box(121.46, 31.20, 121.51, 31.25)["coordinates"],
            {"huangpu"},
            {"bund", "road", "beijing"},
        ),
        ("disjoint", "Polygon", HUANGPU_BOX, {"hongqiao", "pudong-airport", "beijing"}, set()),
    ],
)
def test_sql_prefilter_keeps_every_match(
    db: Database, georel: str, geometry: str, coordinates: Any, expected: set[str], excluded: set[str]
) -> None:
    load(db)
    q = gq(georel, geometry, coordinates)
    assert exact(q) == expected
    found = run(db, q)
    assert found >= expected
    assert not found & excluded
    assert "served" not in found and "other-tenant" not in found


@pytest.mark.postgres
def test_sql_prefilter_on_another_geoproperty(db: Database) -> None:
    load(db)
    q = gq("near;maxDistance==50", "Point", list(BUND), "servedArea")
    assert run(db, q, AREA) == {"served"}
    assert run(db, gq("disjoint", "Point", PT), AREA) == {"served"}
    assert run(db, q, "https://example.org/nothing") == set()


@pytest.mark.parametrize(
    "coordinates",
    [
        "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]",  # a bow tie: the ring crosses itself
        "[[[0,0],[3,0],[3,3],[0,0]],[[5,5],[6,5],[6,6],[5,5]]]",  # a hole outside its shell
    ],
)
def test_a_ring_that_crosses_itself_is_an_area_not_an_error(coordinates: str) -> None:
    # RFC 7946 asks only for closed rings of four or more positions (ETSI 019_11's building polygons cross
    # themselves by a hair): the area is evaluated as repaired
    q = parse_geoquery("intersects", "Polygon", coordinates)
    assert q is not None and q.reference.is_valid and not q.reference.is_empty
    assert validate_geometry({"type": "Polygon", "coordinates": json.loads(coordinates)})


def test_a_bow_tie_holds_both_of_its_triangles() -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
    for inside in ([0.2, 1.0], [1.8, 1.0]):
        assert matches(gq("intersects", "Point", json.dumps(inside)), bow_tie)
    assert not matches(gq("intersects", "Point", "[1.0,1.8]"), bow_tie)
