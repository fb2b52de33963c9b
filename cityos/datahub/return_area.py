"""Which city records concern a district (数据属地返还): pure functions over a record's geometry and address.

A record with a geometry concerns the district when its representative point lies in the district's polygon
(a point: the point itself; a building: a point inside it), so that districts that tile the city share no
record; a record without one (or a district without a polygon) concerns the district when an address of it
names the district (``黄浦区`` in ``上海市黄浦区南京东路100号``; a PostalAddress object by any of its texts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from cityos.datahub.errors import InvalidReturn

AREA_TYPES = ("Polygon", "MultiPolygon")


def parse_area(geometry: Any) -> BaseGeometry:
    """A district's polygon from GeoJSON; InvalidReturn naming what is wrong."""
    if not isinstance(geometry, Mapping) or geometry.get("type") not in AREA_TYPES:
        raise InvalidReturn(
            "the district's area must be a GeoJSON Polygon or MultiPolygon (or name an entity that has one)"
        )
    try:
        area = shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise InvalidReturn(f"the district's area is not valid GeoJSON: {exc}") from None
    if area.is_empty or not area.is_valid:
        raise InvalidReturn("the district's area is empty or not a valid polygon (a ring crosses itself?)")
    return area


@dataclass(frozen=True)
class District:
    """A district as the return matches records to it: its name, and its polygon when it has one."""

    name: str
    polygon: BaseGeometry | None = None

    @classmethod
    def of(cls, name: str, area: Any | None) -> District:
        if area is None:
            return cls(name)
        polygon = parse_area(area)
        shapely.prepare(polygon)  # made once: every record's test then takes microseconds
        return cls(name, polygon)

    def concerns(self, geometries: Iterable[Any], addresses: Iterable[Any]) -> bool:
        """Whether a record with these geometry values and address values concerns the district."""
        if self.polygon is not None:
            for g in geometries:
                xy = _xy(g)
                if xy is not None:  # a point (most records): tested without making a geometry of it
                    return bool(shapely.intersects_xy(self.polygon, *xy))
                point = _point(g)
                if point is not None:
                    return bool(self.polygon.covers(point))
        return any(self.name in text for a in addresses for text in _texts(a))


def _xy(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, Mapping) or value.get("type") != "Point":
        return None
    c = value.get("coordinates")
    if isinstance(c, list) and len(c) >= 2 and isinstance(c[0], int | float) and isinstance(c[1], int | float):
        return float(c[0]), float(c[1])
    return None


def _point(value: Any) -> BaseGeometry | None:
    if not isinstance(value, Mapping):
        return None
    try:
        geometry = shape(value)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None  # not a geometry: the record goes by its address
    return None if geometry.is_empty else geometry.representative_point()


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _texts(v)
