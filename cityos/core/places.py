"""The district's place hierarchy (网格化管理): district → street (街道) → grid (网格) → minimum management
unit (最小管理单元), and where a city thing sits in it.

A thing names its places with relationships: ``refUnit``, ``refGrid`` and ``refStreet`` (a unit names its
grid and street, a grid its street), and its position with ``location``. Attribute names here are the
expanded IRIs the data hub stores under the NGSI-LD core @context (terms it does not define expand into
its default vocabulary).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCABULARY = NGSI_LD + "default-context/"

LOCATION = NGSI_LD + "location"
REF_UNIT = DEFAULT_VOCABULARY + "refUnit"
REF_GRID = DEFAULT_VOCABULARY + "refGrid"
REF_STREET = DEFAULT_VOCABULARY + "refStreet"

UNIT, GRID, STREET, DISTRICT = "unit", "grid", "street", "district"
# the relationship that names a thing's place at each level below the district
REFS: dict[str, str] = {UNIT: REF_UNIT, GRID: REF_GRID, STREET: REF_STREET}
# the relationship's term (the compact name) at each level below the district
REF_TERMS: dict[str, str] = {UNIT: "refUnit", GRID: "refGrid", STREET: "refStreet"}

Attrs = Mapping[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Place:
    """Where a city thing is: its unit, grid and street (ids, None where it names none) and its point."""

    unit: str | None
    grid: str | None
    street: str | None
    point: tuple[float, float] | None

    def key(self, level: str) -> str | None:
        """The id of the place at ``level``; ``"district"`` for the district; None where it has none."""
        if level == DISTRICT:
            return DISTRICT
        return getattr(self, level) if level in REFS else None


def related(attrs: Attrs, iri: str) -> str | None:
    """The object of a relationship's first instance, None if there is none."""
    inst = attrs.get(iri)
    obj = inst[0].get("object") if inst else None
    return obj if isinstance(obj, str) else None


def point_of(attrs: Attrs) -> tuple[float, float] | None:
    """The (lon, lat) of a thing whose location is a Point, None otherwise."""
    loc = attrs.get(LOCATION)
    value = loc[0].get("value") if loc else None
    if isinstance(value, dict) and value.get("type") == "Point":
        lon, lat = value["coordinates"][:2]
        return float(lon), float(lat)
    return None


def place_of(attrs: Attrs) -> Place:
    """The places of a thing, from its refUnit, refGrid, refStreet and location (expanded attributes)."""
    return Place(related(attrs, REF_UNIT), related(attrs, REF_GRID), related(attrs, REF_STREET), point_of(attrs))
