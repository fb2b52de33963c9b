"""NGSI-LD geo-queries (ETSI GS CIM 009, clause 4.10) and GeoProperty values (clause 4.7).

A geo-query has four parameters: ``georel`` (``near;maxDistance==2000``, ``within``, ``contains``,
``intersects``, ``disjoint``, ``equals``, ``overlaps``), ``geometry`` (one of the six GeoJSON types
below), ``coordinates`` (a GeoJSON coordinates array, as JSON text in a URL) and ``geoproperty``
(``location`` by default). Subscriptions carry the same as a ``geoQ`` object.

A query runs in two steps. :func:`compile_geo_prefilter` narrows the candidates in SQL using the
bounding box of every GeoProperty instance (table ``context_entity_geo``); :func:`matches` then
applies the exact test to each candidate's geometry with Shapely.

Coordinates are longitude/latitude (WGS 84) as in GeoJSON (RFC 7946). Topological relations
(within, contains, intersects, disjoint, overlaps, equals) are evaluated on the lon/lat plane, like
GeoJSON itself, which joins positions by straight lines in lon/lat. Distances (``near``) are metres
on a sphere of the Earth's mean radius: point to point by the haversine formula; any other pair by
projecting both geometries onto an azimuthal equidistant plane centred on the reference geometry's
centroid and measuring there. That projection keeps distances from its centre exact and stretches
others by about ``(ρ/R)²/6`` at a distance ρ from the centre, i.e. under 0.01 % within 100 km of
it; with the sphere itself (up to 0.5 % off the ellipsoid) the result is well within 1 % at city
scale. Near the antipode of the reference geometry the projection degrades, which only matters for
``minDistance`` queries of continental size.

Errors. Both classes render as HTTP 400; the split follows the level of the mistake:

- :class:`~cityos.context.errors.InvalidRequest` for syntax: ``coordinates`` that is not JSON
  (including ``NaN``/``Infinity`` and absurd nesting), a ``georel`` segment after the relation
  name that is not of the form ``name==value``, an empty segment.
- :class:`~cityos.context.errors.BadRequestData` for well-formed but invalid content: a geo
  parameter without its companions, an unknown relation, distance name or geometry type, a
  distance that is not a non-negative finite number, ``near`` without a distance or a distance on
  another relation, coordinates nested wrongly for the type, positions out of range, polygon rings
  that are open or too short, a malformed ``geoQ`` or ``geoproperty``, and a
  relation that no entity can satisfy with that geometry (``within`` anything but a Polygon or
  MultiPolygon, ``overlaps`` a single Point).

Nothing here knows about HTTP or the database driver.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

import numpy as np
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, false, select, union_all

from cityos.context.errors import BadRequestData, InvalidRequest
from cityos.context.tables import entities, entity_geo

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
GEORELS = ("near", "within", "contains", "intersects", "disjoint", "equals", "overlaps")
AREA_TYPES = ("Polygon", "MultiPolygon")  # what ``within`` needs: nothing lies within a point or a line
DEFAULT_GEOPROPERTY = "location"

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180  # along a meridian, on that sphere

Box = tuple[float, float, float, float]  # min_x (lon), min_y (lat), max_x, max_y

_EXAMPLES = {
    "Point": "[121.47,31.23]",
    "MultiPoint": "[[121.47,31.23],[121.48,31.24]]",
    "LineString": "[[121.47,31.23],[121.48,31.24]]",
    "MultiLineString": "[[[121.47,31.23],[121.48,31.24]]]",
    "Polygon": "[[[121.4,31.2],[121.5,31.2],[121.5,31.3],[121.4,31.2]]]",
    "MultiPolygon": "[[[[121.4,31.2],[121.5,31.2],[121.5,31.3],[121.4,31.2]]]]",
}
_DEPTH = {"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3, "Polygon": 3, "MultiPolygon": 4}
_BY_DEPTH = {d: [t for t, n in _DEPTH.items() if n == d] for d in (1, 2, 3, 4)}
_DISTANCES = ("maxDistance", "minDistance")
_SEGMENT = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*==\s*(.*?)\s*$")
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BAD_NAME_CHARS = re.compile(r"[\s<>\"'=;()\\\x00-\x1f\x7f]")
_MAX_NAME = 512
# Slack on the index prefilter so that float rounding never drops a true match: 1e-9° is 0.1 mm.
_EPS = 1e-9


@dataclass(frozen=True)
class GeoQuery:
    """A parsed geo-query: the relation, its distances and the reference geometry.

    ``reference`` is the Shapely geometry (2D lon/lat), ``geojson`` the reference as a GeoJSON
    object (coordinates as given, altitude kept). Distances are metres.
    """

    georel: str
    reference: BaseGeometry
    geojson: dict[str, Any] = field(hash=False)
    max_distance: float | None = None
    min_distance: float | None = None
    geoproperty: str = DEFAULT_GEOPROPERTY

    @property
    def bbox(self) -> Box:
        """The reference geometry's bounding box."""
        x0, y0, x1, y1 = self.reference.bounds
        return (x0, y0, x1, y1)

    def georel_text(self) -> str:
        """The ``georel`` parameter that gives this query, e.g. ``near;maxDistance==2000``."""
        parts = [self.georel]
        if self.max_distance is not None:
            parts.append(f"maxDistance=={_num_text(self.max_distance)}")
        if self.min_distance is not None:
            parts.append(f"minDistance=={_num_text(self.min_distance)}")
        return ";".join(parts)

    def to_geoq(self) -> dict[str, Any]:
        """The query as a subscription ``geoQ`` object."""
        return {
            "georel": self.georel_text(),
            "geometry": self.geojson["type"],
            "coordinates": self.geojson["coordinates"],
            "geoproperty": self.geoproperty,
        }


# --- parsing ------------------------------------------------------------------------------------


def parse_geoquery(
    georel: str | None,
    geometry: str | None,
    coordinates: str | list[Any] | None,
    geoproperty: str | None = None,
) -> GeoQuery | None:
    """Parse the geo-query parameters of a request (or of a ``geoQ``).

    Returns None when none of ``georel``, ``geometry`` and ``coordinates`` is given: a lone
    ``geoproperty`` is not a geo-query (it also names the geometry of GeoJSON output). Only None
    counts as absent; an empty string is an invalid value. ``coordinates`` is JSON text
    (percent-encoding is tolerated) or, from a ``geoQ``, an already parsed array.

    Raises ``InvalidRequest`` for syntax errors (coordinates not JSON, a georel segment not of
    the form ``name==value``) and ``BadRequestData`` for everything else that is wrong, with a
    message that names the parameter and the problem.
    """
    if georel is None and geometry is None and coordinates is None:
        return None
    missing = [n for n, v in (("georel", georel), ("geometry", geometry), ("coordinates", coordinates)) if v is None]
    if missing:
        raise BadRequestData(
            f"a geo-query needs georel, geometry and coordinates together; missing: {', '.join(missing)} "
            "(e.g. georel=near;maxDistance==500&geometry=Point&coordinates=[121.47,31.23])"
        )
    rel, max_d, min_d = parse_georel(georel)
    gtype = _parse_geometry_type(geometry)
    coords = _parse_coordinates(coordinates)
    try:
        _, norm = _walk(gtype, coords)
        shape = _build(gtype, norm)
    except _Invalid as exc:
        raise BadRequestData(
            f"coordinates: {gtype} {exc.problem}; e.g. coordinates={_EXAMPLES[gtype]}",
            parameter="coordinates",
        ) from None
    prop = _parse_geoproperty(geoproperty)
    _check_satisfiable(rel, gtype)
    return GeoQuery(
        georel=rel,
        reference=shape,
        geojson={"type": gtype, "coordinates": coords},
        max_distance=max_d,
        min_distance=min_d,
        geoproperty=prop,
    )


def reference_geometry(geometry: Any, coordinates: Any, name: str = "orderFrom") -> BaseGeometry:
    """The reference geometry of a distance ordering (NGSI-LD v1.9, clause 4.23.3): ``coordinates`` as JSON
    text or an array, of the type ``geometry`` names or, when it names none, the type its nesting implies
    (a position is a Point, a list of them a LineString, deeper a Polygon or MultiPolygon)."""
    if not isinstance(coordinates, str | list):
        raise BadRequestData(
            f"{name} must be a JSON array of coordinates such as [121.47,31.23], not {_show(coordinates)}",
            parameter=name,
        )
    if geometry is not None and not isinstance(geometry, str):
        raise BadRequestData(f"geometry must be a GeoJSON type name such as Point, not {_show(geometry)}")
    coords = _parse_coordinates(coordinates)
    gtype = _parse_geometry_type(geometry) if geometry is not None else None
    if gtype is None:
        gtype = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPolygon"}.get(_depth(coords) or 0)
        if gtype is None:
            raise BadRequestData(f"{name} {_show(coords)} is not a GeoJSON coordinates array", parameter=name)
    try:
        _, norm = _walk(gtype, coords)
        return _build(gtype, norm)
    except _Invalid as exc:
        raise BadRequestData(f"{name}: {gtype} {exc.problem}", parameter=name) from None


def _check_satisfiable(rel: str, gtype: str) -> None:
    """BadRequestData for a relation that no entity can satisfy with a reference of this geometry type."""
    if rel == "within" and gtype not in AREA_TYPES:
        raise BadRequestData(
            f"georel within needs an area to lie within: geometry Polygon or MultiPolygon, not {gtype} "
            f"(for entities at or near a {gtype}, use near;maxDistance==… or intersects)",
            parameter="geometry",
        )
    if rel == "overlaps" and gtype == "Point":
        raise BadRequestData(
            "georel overlaps needs a geometry that can share a part with another: a single Point overlaps "
            "nothing (use intersects or equals for entities at that point)",
            parameter="geometry",
        )


def parse_geoq(obj: Any) -> GeoQuery:
    """Parse a subscription's ``geoQ`` object (coordinates as an array or as JSON text).

    Raises ``BadRequestData`` when it is not an object or lacks a member, otherwise as
    :func:`parse_geoquery`.
    """
    if not isinstance(obj, dict):
        raise BadRequestData(
            "'geoQ' must be an object with georel, geometry and coordinates, e.g. "
            '{"georel": "near;maxDistance==500", "geometry": "Point", '
            '"coordinates": [121.47, 31.23]}'
        )
    missing = [k for k in ("georel", "geometry", "coordinates") if obj.get(k) is None]
    if missing:
        raise BadRequestData(f"'geoQ' lacks {', '.join(missing)}: it needs georel, geometry and coordinates")
    gq = parse_geoquery(obj["georel"], obj["geometry"], obj["coordinates"], obj.get("geoproperty"))
    assert gq is not None  # all three are present
    return gq


def parse_georel(text: Any) -> tuple[str, float | None, float | None]:
    """Split a ``georel`` into the relation, maxDistance and minDistance (metres or None)."""
    if not isinstance(text, str):
        raise BadRequestData(
            f"georel must be a string such as 'near;maxDistance==500' or 'within', not {_show(text)}",
            parameter="georel",
        )
    head, *segments = text.split(";")
    rel = head.strip()
    if rel not in GEORELS:
        raise BadRequestData(
            f"georel {rel!r} is not a geo-relationship; use one of {', '.join(GEORELS)}", parameter="georel"
        )
    distances: dict[str, float] = {}
    for seg in segments:
        m = _SEGMENT.match(seg)
        if m is None:
            raise InvalidRequest(
                f"georel {text!r}: segment {seg!r} is not of the form name==value, e.g. near;maxDistance==500",
                parameter="georel",
            )
        name, value = m.groups()
        if name not in _DISTANCES:
            raise BadRequestData(
                f"georel {text!r}: unknown modifier {name!r}; near takes maxDistance and minDistance",
                parameter="georel",
            )
        if rel != "near":
            raise BadRequestData(f"georel {rel!r} takes no {name}; only near has distances", parameter="georel")
        if name in distances:
            raise BadRequestData(f"georel {text!r} gives {name} twice", parameter="georel")
        distances[name] = _parse_distance(name, value)
    max_d, min_d = distances.get("maxDistance"), distances.get("minDistance")
    if rel == "near" and max_d is None and min_d is None:
        raise BadRequestData(
            "georel 'near' needs maxDistance or minDistance, e.g. near;maxDistance==500", parameter="georel"
        )
    if max_d is not None and min_d is not None and min_d > max_d:
        raise BadRequestData(
            f"georel {text!r}: minDistance {_num_text(min_d)} is greater than maxDistance "
            f"{_num_text(max_d)}, so nothing can match",
            parameter="georel",
        )
    return rel, max_d, min_d


def _parse_distance(name: str, value: str) -> float:
    if not _NUMBER.match(value):
        raise BadRequestData(f"georel {name} {value!r} is not a number of metres, e.g. {name}==500", parameter="georel")
    d = float(value)
    if not math.isfinite(d):
        raise BadRequestData(f"georel {name} {value!r} is not a finite number of metres", parameter="georel")
    if d < 0:
        raise BadRequestData(
            f"georel {name} {value!r} is negative; distances are metres, zero or more", parameter="georel"
        )
    return d


def _parse_geometry_type(geometry: Any) -> str:
    if isinstance(geometry, str) and geometry.strip() in GEOMETRY_TYPES:
        return geometry.strip()
    hint = ""
    if isinstance(geometry, str):
        fixed = {t.lower(): t for t in GEOMETRY_TYPES}.get(geometry.strip().lower())
        if fixed:
            hint = f" (the names are case-sensitive: {fixed!r})"
    raise BadRequestData(
        f"geometry {_show(geometry)} is not supported{hint}; use one of {', '.join(GEOMETRY_TYPES)}",
        parameter="geometry",
    )


def _parse_coordinates(coordinates: Any) -> Any:
    if isinstance(coordinates, list | tuple):
        return list(coordinates)
    if not isinstance(coordinates, str):
        raise BadRequestData(
            f"coordinates must be a JSON array such as [121.47,31.23], not {_show(coordinates)}",
            parameter="coordinates",
        )
    text = coordinates.strip()
    if "%" in text:  # still percent-encoded: '%' has no place in JSON numbers
        text = unquote(text)
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or "nested too deeply"
        raise InvalidRequest(
            f"coordinates {_show(coordinates)} is not a JSON array ({why}); write it as in "
            "GeoJSON, e.g. coordinates=[121.47,31.23]",
            parameter="coordinates",
        ) from None
    if not isinstance(value, list):
        raise BadRequestData(
            f"coordinates must be a JSON array such as [121.47,31.23], not {_show(value)}",
            parameter="coordinates",
        )
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _parse_geoproperty(name: Any) -> str:
    if name is None:
        return DEFAULT_GEOPROPERTY
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME or _BAD_NAME_CHARS.search(name):
        raise BadRequestData(
            f"geoproperty {_show(name)} is not an attribute name, e.g. geoproperty=location",
            parameter="geoproperty",
        )
    return name


# --- GeoJSON geometry validation ----------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def validate_geometry(value: Any, attr: str = DEFAULT_GEOPROPERTY) -> Box:
    """Check a GeoJSON geometry stored as a GeoProperty value; return its bounding box.

    The type must be one of the six GeoJSON geometry types, the coordinates nested as that type
    requires, each position ``[longitude, latitude]`` (an altitude may follow) within range, each
    polygon ring closed with at least four positions. A ring that crosses itself is accepted (RFC 7946
    does not forbid it) and evaluated as its repaired area (see ``_build``).
    Raises ``BadRequestData`` naming ``attr`` and the problem.
    """
    prefix = f"GeoProperty {attr!r}"
    if not isinstance(value, dict):
        raise BadRequestData(
            f"{prefix}: the value must be a GeoJSON geometry object such as "
            f'{{"type": "Point", "coordinates": [121.47, 31.23]}}, not {_show(value)}'
        )
    gtype = value.get("type")
    if gtype not in GEOMETRY_TYPES:
        raise BadRequestData(
            f"{prefix}: geometry type {_show(gtype)} is not supported; use one of {', '.join(GEOMETRY_TYPES)}"
        )
    if "coordinates" not in value:
        raise BadRequestData(f"{prefix}: the {gtype} has no coordinates, e.g. {_EXAMPLES[gtype]}")
    try:
        points, norm = _walk(gtype, value["coordinates"])
        if gtype in ("Polygon", "MultiPolygon"):
            _build(gtype, norm)
    except _Invalid as exc:
        raise BadRequestData(f"{prefix}: {gtype} {exc.problem}") from None
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def geometry_shape(value: Any) -> BaseGeometry | None:
    """The Shapely geometry of a stored GeoJSON geometry, or None when it is not valid."""
    if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
        return None
    try:
        _, norm = _walk(value["type"], value.get("coordinates"))
        return _build(value["type"], norm)
    except (_Invalid, ValueError, TypeError, ShapelyError):
        return None


def _walk(gtype: str, coords: Any) -> tuple[list[tuple[float, float]], Any]:
    """Validate the nesting; return all positions (2D) and the coordinates as 2D tuples."""
    depth, want = _depth(coords), _DEPTH[gtype]
    if depth is not None and depth != want:
        raise _Invalid(
            f"coordinates are arrays nested {depth} deep where a {gtype} needs {want}"
            + (f" (that nesting is a {' or '.join(_BY_DEPTH[depth])})" if depth in _BY_DEPTH else "")
        )
    points: list[tuple[float, float]] = []
    if gtype == "Point":
        p = _position(coords, "")
        points.append(p)
        return points, p
    if gtype == "MultiPoint":
        pts = _positions(coords, "coordinates", 1)
        points.extend(pts)
        return points, pts
    if gtype == "LineString":
        line = _positions(coords, "coordinates", 2)
        points.extend(line)
        return points, line
    if gtype == "MultiLineString":
        lines = []
        for i, item in enumerate(_list(coords, "coordinates", "a list of lines", 1)):
            line = _positions(item, f"line {i} (coordinates[{i}])", 2)
            points.extend(line)
            lines.append(line)
        return points, lines
    if gtype == "Polygon":
        rings = _polygon(coords, "", "coordinates")
        for r in rings:
            points.extend(r)
        return points, rings
    polys = []
    for i, item in enumerate(_list(coords, "coordinates", "a list of polygons", 1)):
        rings = _polygon(item, f"polygon {i} ", f"coordinates[{i}]")
        for r in rings:
            points.extend(r)
        polys.append(rings)
    return points, polys


def _depth(v: Any) -> int | None:
    """How deep the first elements nest down to a number, or None when that is not clear."""
    depth = 0
    while isinstance(v, list | tuple):
        if not v:
            return None
        depth += 1
        v = v[0]
    return depth if isinstance(v, int | float) and not isinstance(v, bool) else None


def _list(v: Any, path: str, what: str, at_least: int) -> list[Any]:
    if not isinstance(v, list | tuple):
        raise _Invalid(f"{path} must be {what}, not {_show(v)}")
    if len(v) < at_least:
        raise _Invalid(f"{path} must be {what} with at least {at_least}, got {len(v)}")
    return list(v)


def _positions(v: Any, path: str, at_least: int) -> list[tuple[float, float]]:
    items = _list(v, path, "a list of positions [longitude, latitude]", at_least)
    return [_position(p, f"{path}[{i}]") for i, p in enumerate(items)]


def _polygon(v: Any, name: str, path: str) -> list[list[tuple[float, float]]]:
    rings = []
    for j, ring in enumerate(_list(v, path, "a list of linear rings", 1)):
        label = f"{name}ring {j}"
        pts = _positions(ring, f"{label} ({path}[{j}])", 1)
        if len(pts) < 4:
            raise _Invalid(
                f"{label} has {len(pts)} positions; a closed ring needs at least 4 (the first one repeated at the end)"
            )
        if list(ring[0]) != list(ring[-1]):
            raise _Invalid(f"{label} is not closed (first and last positions differ)")
        rings.append(pts)
    return rings


def _position(v: Any, path: str) -> tuple[float, float]:
    path = f" {path}" if path else ""
    if not isinstance(v, list | tuple) or not 2 <= len(v) <= 3:
        raise _Invalid(f"position{path} must be [longitude, latitude] (an altitude may follow), not {_show(v)}")
    for n in v:
        if isinstance(n, bool) or not isinstance(n, int | float):
            raise _Invalid(f"position{path} {_show(v)} holds {_show(n)}, which is not a number")
        if isinstance(n, float) and not math.isfinite(n):
            raise _Invalid(f"position{path} {_show(v)} holds {n}, which is not a finite number")
    lon, lat = v[0], v[1]
    if not -180 <= lon <= 180:
        raise _Invalid(f"position{path} has longitude {_show(lon)} outside [-180, 180] (GeoJSON puts longitude first)")
    if not -90 <= lat <= 90:
        raise _Invalid(
            f"position{path} has latitude {_show(lat)} outside [-90, 90] (GeoJSON puts longitude first, then latitude)"
        )
    return (float(lon), float(lat))


def _build(gtype: str, norm: Any) -> BaseGeometry:
    """A Shapely geometry from validated 2D coordinates; an invalid polygon is repaired."""
    shape: BaseGeometry
    if gtype == "Point":
        shape = Point(norm)
    elif gtype == "MultiPoint":
        shape = MultiPoint(norm)
    elif gtype == "LineString":
        shape = LineString(norm)
    elif gtype == "MultiLineString":
        shape = MultiLineString(norm)
    elif gtype == "Polygon":
        shape = Polygon(norm[0], norm[1:])
    else:
        shape = MultiPolygon([(rings[0], rings[1:]) for rings in norm])
    if gtype in ("Polygon", "MultiPolygon") and not shape.is_valid:
        # RFC 7946 asks only for closed rings of four or more positions; a ring that crosses itself
        # (the ETSI suite's own building polygons do, by a hair) is still an area. Evaluate the
        # area it encloses, as the OGC repair (make_valid) reads it, instead of refusing it.
        shape = shapely.make_valid(shape)
    return shape


# --- exact test -----------------------------------------------------------------------------------


def matches(gq: GeoQuery, geometry: Any) -> bool:
    """Whether one stored GeoJSON geometry satisfies the geo-query.

    ``near`` compares the distance in metres (see the module notes) with maxDistance (at most)
    and minDistance (at least). ``within``: the candidate lies within the reference; ``contains``:
    the candidate contains the reference; ``intersects``, ``disjoint``, ``overlaps`` and ``equals``
    (topological equality) as in DE-9IM. An invalid or missing geometry never matches.
    """
    cand = geometry_shape(geometry)
    if cand is None:
        return False
    ref = gq.reference
    rel = gq.georel
    try:
        if rel == "near":
            d = distance_m(ref, cand)
            if gq.max_distance is not None and not d <= gq.max_distance:
                return False
            return gq.min_distance is None or d >= gq.min_distance
        if rel == "within":
            return bool(cand.within(ref))
        if rel == "contains":
            return bool(cand.contains(ref))
        if rel == "intersects":
            return bool(cand.intersects(ref))
        if rel == "disjoint":
            return bool(cand.disjoint(ref))
        if rel == "overlaps":
            return bool(cand.overlaps(ref))
        if rel == "equals":
            return bool(cand.equals(ref))
    except ShapelyError:
        return False
    return False


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two lon/lat points on the mean-radius sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_m(reference: BaseGeometry, candidate: BaseGeometry) -> float:
    """Distance in metres between two lon/lat geometries (0 when they touch or intersect).

    Points: haversine. Otherwise both are projected onto an azimuthal equidistant plane centred
    on the reference's centroid and measured there.
    """
    if isinstance(reference, Point) and isinstance(candidate, Point):
        return haversine_m(reference.x, reference.y, candidate.x, candidate.y)
    if reference.intersects(candidate):
        return 0.0
    c = reference.centroid
    project = _aeqd(c.x, c.y)
    return float(shapely.transform(reference, project).distance(shapely.transform(candidate, project)))


def _aeqd(lon0: float, lat0: float) -> Any:
    """Forward spherical azimuthal equidistant projection centred on (lon0, lat0), in metres."""
    phi0 = math.radians(lat0)
    sin0, cos0 = math.sin(phi0), math.cos(phi0)

    def project(xy: np.ndarray) -> np.ndarray:
        lam = np.radians(xy[:, 0] - lon0)
        phi = np.radians(xy[:, 1])
        sin_p, cos_p, cos_l = np.sin(phi), np.cos(phi), np.cos(lam)
        cos_c = np.clip(sin0 * sin_p + cos0 * cos_p * cos_l, -1.0, 1.0)
        c = np.arccos(cos_c)
        sin_c = np.sin(c)
        # k = c / sin c, which tends to 1 at the centre; at the antipode the direction is undefined.
        k = np.ones_like(c)
        np.divide(c, sin_c, out=k, where=sin_c > 1e-12)
        x = EARTH_RADIUS_M * k * cos_p * np.sin(lam)
        y = EARTH_RADIUS_M * k * (cos0 * sin_p - sin0 * cos_p * cos_l)
        return np.column_stack([x, y])

    return project


# --- index prefilter ------------------------------------------------------------------------------

BoxTest = Literal["overlaps", "inside", "covers", "equal"]


def prefilter_box(gq: GeoQuery) -> Box | None:
    """The box that a candidate's bounding box must intersect to possibly match, or None.

    For ``near`` with maxDistance it is the reference's box widened by the distance (with 5 %
    slack, in degrees at the box's most poleward latitude, the whole longitude range near a pole
    or across the antimeridian); for the topological relations it is the reference's own box.
    ``disjoint`` and ``near`` with only minDistance have no box (None): anything may match.
    """
    spec = _prefilter(gq)
    return None if spec is None else spec[0]


def _prefilter(gq: GeoQuery) -> tuple[Box, BoxTest] | None:
    """The prefilter box and how a candidate's box must relate to it.

    ``overlaps``: the boxes intersect; ``inside``: the candidate's box lies inside it (within);
    ``covers``: the candidate's box covers it (contains); ``equal``: the boxes are the same
    (equals: equal point sets have the same extreme vertices).
    """
    x0, y0, x1, y1 = gq.bbox
    if gq.georel == "near":
        if gq.max_distance is None:
            return None
        return _widen((x0, y0, x1, y1), gq.max_distance), "overlaps"
    if gq.georel == "disjoint":
        return None
    test: BoxTest = "overlaps"  # intersects, overlaps
    if gq.georel == "within":
        test = "inside"
    elif gq.georel == "equals":
        test = "equal"
    elif gq.georel == "contains":
        test = "covers"
    return (x0, y0, x1, y1), test


def _widen(box: Box, metres: float) -> Box:
    x0, y0, x1, y1 = box
    reach = metres * 1.05 + 1.0
    dlat = reach / METRES_PER_DEGREE
    ny0, ny1 = max(-90.0, y0 - dlat), min(90.0, y1 + dlat)
    poleward = max(abs(ny0), abs(ny1))
    cos_far = math.cos(math.radians(poleward))
    if cos_far < 1e-6:
        return (-180.0, ny0, 180.0, ny1)
    dlon = reach / (METRES_PER_DEGREE * cos_far)
    nx0, nx1 = x0 - dlon, x1 + dlon
    if nx0 < -180 or nx1 > 180:  # wraps around the antimeridian: keep every longitude
        return (-180.0, ny0, 180.0, ny1)
    return (nx0, ny0, nx1, ny1)


# Bounding boxes fall into size classes by their larger side, so that the index range on min_x is
# bounded on both sides: a box of class c is at most SIZE_CLASSES[c] degrees wide and high (the last
# class is unbounded; districts and streets land there). Without classes, "min_x <= x1" alone
# selects about half of all boxes.
SIZE_CLASSES: tuple[float | None, ...] = (0.001, 0.01, 0.1, 1.0, None)


def size_class(box: Box) -> int:
    """The size class of a bounding box (see SIZE_CLASSES)."""
    side = max(box[2] - box[0], box[3] - box[1])
    for n, bound in enumerate(SIZE_CLASSES):
        if bound is not None and side <= bound:
            return n
    return len(SIZE_CLASSES) - 1


def compile_geo_prefilter(gq: GeoQuery, *, attr_iri: str, tenant: str) -> ColumnElement[bool]:
    """An SQL condition on ``context_entities`` that keeps every entity that may match.

    It reads ``context_entity_geo`` (one bounding box per GeoProperty instance): the entity must
    have a box for ``attr_iri`` that overlaps, lies inside, covers or equals the prefilter box as
    the relation needs; with no prefilter box (disjoint, near with only minDistance) it must merely
    have the GeoProperty. One index range per size class (a UNION ALL), each bounded on both sides
    of ``min_x`` and ``min_y`` by the class's largest side; the index covers every column read.
    :func:`matches` must still run on the survivors.
    """
    g = entity_geo.c
    base: list[ColumnElement[bool]] = [g.tenant == tenant, g.attr == attr_iri]
    spec = _prefilter(gq)
    if spec is None:
        return entities.c.pk.in_(select(g.entity_pk).where(and_(*base)))
    (bx0, by0, bx1, by1), test = spec
    parts = []
    for cls, bound in enumerate(SIZE_CLASSES):
        w = bound if bound is not None else 360.0
        if test == "inside":
            conds = [
                g.min_x.between(bx0 - _EPS, bx1 + _EPS),
                g.max_x <= bx1 + _EPS,
                g.min_y.between(by0 - _EPS, by1 + _EPS),
                g.max_y <= by1 + _EPS,
            ]
        elif test == "equal":
            if cls != size_class((bx0, by0, bx1, by1)):
                continue
            conds = [
                g.min_x.between(bx0 - _EPS, bx0 + _EPS),
                g.max_x.between(bx1 - _EPS, bx1 + _EPS),
                g.min_y.between(by0 - _EPS, by0 + _EPS),
                g.max_y.between(by1 - _EPS, by1 + _EPS),
            ]
        elif test == "covers":
            if bx1 - bx0 > w + _EPS or by1 - by0 > w + _EPS:
                continue  # boxes of this class are too small to cover the reference
            conds = [
                g.min_x.between(bx1 - w - _EPS, bx0 + _EPS),
                g.max_x >= bx1 - _EPS,
                g.min_y.between(by1 - w - _EPS, by0 + _EPS),
                g.max_y >= by1 - _EPS,
            ]
        else:
            conds = [
                g.min_x.between(bx0 - w - _EPS, bx1 + _EPS),
                g.max_x >= bx0 - _EPS,
                g.min_y.between(by0 - w - _EPS, by1 + _EPS),
                g.max_y >= by0 - _EPS,
            ]
        parts.append(select(g.entity_pk).where(*base, g.size_class == cls, *conds))
    if not parts:
        return entities.c.pk.in_(select(g.entity_pk).where(false()))
    return entities.c.pk.in_(union_all(*parts) if len(parts) > 1 else parts[0])


# --- helpers --------------------------------------------------------------------------------------


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _num_text(d: float) -> str:
    return str(int(d)) if d.is_integer() else repr(d)
