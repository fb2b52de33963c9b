"""Placing reports (网格化管理): the minimum management unit, grid and street (街道) a report falls in.

A report with coordinates is placed by point-in-polygon over the district's own geometries (the hub's
``ManagementUnit``, ``Grid`` and ``Street`` entities), through one STRtree per level; a point on no
polygon takes the nearest one within ``NEAREST_METRES``, else stays unplaced with the reason kept. A
report with only an address is placed through the district's addresses (the ``address.streetAddress``
and names of its buildings and units). A report that names its unit, grid or street keeps them, its
missing levels filled in from the named ones.

:class:`PlaceIndex` is pure (built from entities, no database); :class:`Placer` keeps one per tenant and
drops it when the hub says one of those entities changed, so the next report reads them again.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely import STRtree
from shapely.errors import GEOSException
from shapely.geometry import Point, box, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from cityos.bus import Event
from cityos.cases.schemas import NewCase
from cityos.context import ENTITY_EVENTS, core_term_map, entities_of_types
from cityos.core.places import GRID, LOCATION, REFS, STREET, UNIT, related
from cityos.runtime import Runtime

LEVELS = (UNIT, GRID, STREET)
KINDS = {UNIT: "ManagementUnit", GRID: "Grid", STREET: "Street"}
ADDRESSED = ("Building", "ManagementUnit")  # what carries a street address the district knows
NEAREST_METRES = 30.0  # a point this close to an area (GPS error, a kerb drawn a little off) is placed in it
_METRES_PER_DEGREE = 111_320.0
_CITY_PREFIXES = ("中国", "上海市", "上海", "黄浦区", "黄浦")

Entity = tuple[str, list[str], dict[str, list[dict[str, Any]]]]  # id, expanded types, expanded attrs


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a report was placed and how (the case shows it as :class:`cityos.cases.models.PlacementView`):
    ``method`` coordinates | address | reporter, None when unplaced with ``reason``. A plain dataclass:
    a pydantic model would cost more than the placing itself."""

    method: str | None
    unit: str | None = None
    grid: str | None = None
    street: str | None = None
    distance_m: float | None = None  # metres to the nearest grid or street, when the point lay on none
    point: tuple[float, float] | None = None  # (lon, lat) of the matched address, for area rules
    address_match: dict[str, str] | None = None  # entity, text, by (address | name)
    reason: str | None = None

    def doc(self) -> dict[str, Any]:
        """What the case keeps: the fields that are set."""
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass(frozen=True)
class _Area:
    id: str
    level: str
    refs: dict[str, str]  # the places it names above it (a unit's grid and street, a grid's street)


@dataclass(frozen=True)
class _Addressed:
    """A building or unit the district knows by its street address and name."""

    id: str
    address: str  # normalised
    name: str  # normalised; may be empty
    point: tuple[float, float]
    refs: dict[str, str]
    shown: str  # the address as written, for the dispatcher


CELLS = 64  # cells per side of a level's lookup grid: 4,096 cells, most of them inside one area


@dataclass
class _Level:
    """One level's areas: an STRtree (building the cells, the nearest area) and a lookup grid of cells, each
    either wholly inside one area (answered without a test) or listing the few areas whose border it crosses.
    A lookup is a little arithmetic and at most a few prepared point tests: microseconds, where one STRtree
    query costs tens of them in numpy's per-call overhead."""

    areas: list[_Area]
    geometries: list[BaseGeometry]
    tree: STRtree = field(init=False)
    origin: tuple[float, float] = field(init=False)
    size: tuple[float, float] = field(init=False)
    whole: list[int] = field(init=False)  # per cell: the area holding all of it, or -1
    border: list[tuple[int, ...]] = field(init=False)  # per cell: the areas it touches when none holds it all
    near: list[bool] = field(init=False)  # per cell: some area lies within NEAREST_METRES of it
    margin: float = field(init=False)  # NEAREST_METRES in degrees, generously

    def __post_init__(self) -> None:
        self.tree = STRtree(self.geometries)
        west, south, east, north = shapely.total_bounds(self.geometries)
        self.origin = (west, south)
        self.size = (max(east - west, 1e-9) / CELLS, max(north - south, 1e-9) / CELLS)
        dx, dy = self.size
        boxes = [
            box(west + i * dx, south + j * dy, west + (i + 1) * dx, south + (j + 1) * dy)
            for i in range(CELLS)
            for j in range(CELLS)
        ]
        cell_of, area_of = self.tree.query(boxes, predicate="intersects")
        holds = shapely.contains_properly([self.geometries[a] for a in area_of], [boxes[c] for c in cell_of])
        self.whole = [-1] * len(boxes)
        touching: list[list[int]] = [[] for _ in boxes]
        for c, a, held in zip(cell_of.tolist(), area_of.tolist(), holds.tolist(), strict=True):
            touching[c].append(a)
            if held:
                self.whole[c] = a
        self.border = [tuple(t) for t in touching]
        # NEAREST_METRES in degrees of longitude at the level's most poleward latitude, with a fifth to spare
        coslat = max(math.cos(math.radians(max(abs(south), abs(north)))), 0.01)
        self.margin = 1.2 * NEAREST_METRES / (_METRES_PER_DEGREE * coslat)
        margin = self.margin
        close_cells = self.tree.query([b.buffer(margin, join_style="mitre") for b in boxes], predicate="intersects")[0]
        self.near = [False] * len(boxes)
        for c in close_cells.tolist():
            self.near[c] = True

    def cell(self, x: float, y: float) -> int | None:
        i = int((x - self.origin[0]) // self.size[0])
        j = int((y - self.origin[1]) // self.size[1])
        return i * CELLS + j if 0 <= i < CELLS and 0 <= j < CELLS else None

    def may_be_near(self, x: float, y: float) -> bool:
        """Whether an area may lie within NEAREST_METRES: a cell says so; beyond the grid, a point close to it."""
        cell = self.cell(x, y)
        if cell is not None:
            return self.near[cell]
        margin = self.margin
        x0, y0 = self.origin
        x1, y1 = x0 + self.size[0] * CELLS, y0 + self.size[1] * CELLS
        return x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin

    def containing(self, x: float, y: float) -> _Area | None:
        """The area whose polygon covers (x, y); on a shared border, the first by id (the same every time)."""
        cell = self.cell(x, y)
        if cell is None:
            return None
        if self.whole[cell] >= 0:
            return self.areas[self.whole[cell]]
        hits = [self.areas[a] for a in self.border[cell] if shapely.intersects_xy(self.geometries[a], x, y)]
        return min(hits, key=lambda a: a.id) if hits else None


def normalise_address(text: str) -> str:
    """An address compared with another: full-width forms folded, spaces and the city's own names dropped."""
    folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    changed = True
    while changed:  # "上海市黄浦区南京东路233号" and "南京东路233号" are one place
        changed = False
        for prefix in _CITY_PREFIXES:
            if folded.startswith(prefix) and len(folded) > len(prefix):
                folded, changed = folded[len(prefix) :], True
    return folded


class PlaceIndex:
    """The district's areas by level, indexed for point-in-polygon, and its addresses."""

    def __init__(self, entities: Iterable[Entity]) -> None:
        tm = core_term_map()
        kind_of = {tm.expand(t): level for level, t in KINDS.items()}
        addressed = {tm.expand(t) for t in ADDRESSED}
        name_iri, address_iri = tm.expand("name"), tm.expand("address")
        found: dict[str, tuple[list[_Area], list[BaseGeometry]]] = {level: ([], []) for level in LEVELS}
        addresses: list[_Addressed] = []
        for entity_id, types, attrs in entities:
            geometry = _geometry(attrs)
            if geometry is None:
                continue
            refs = {lv: ref for lv in LEVELS if (ref := related(attrs, REFS[lv])) is not None}
            for t in types:
                if t in kind_of:
                    level = kind_of[t]
                    found[level][0].append(_Area(entity_id, level, refs))
                    found[level][1].append(geometry)
            if addressed.intersection(types):
                street_address = _street_address(attrs.get(address_iri))
                name = _name(attrs.get(name_iri))
                if street_address or name:
                    p = geometry.representative_point()
                    own = {**refs, UNIT: entity_id} if kind_of.get(types[0]) == UNIT else refs
                    addresses.append(
                        _Addressed(
                            entity_id,
                            normalise_address(street_address or ""),
                            normalise_address(name or ""),
                            (p.x, p.y),
                            own,
                            street_address or name or "",
                        )
                    )
        self.levels = {level: _Level(areas, geoms) for level, (areas, geoms) in found.items() if areas}
        self._exact = {a.address: a for a in addresses if a.address}
        # longest first: "南京东路233号" before "南京东路23号"; names from two characters ("豫园")
        # only an address with a number is specific enough to be found inside another ("中山东一路" is a road)
        specific = (a for a in addresses if len(a.address) >= 4 and any(c.isdigit() for c in a.address))
        self._addresses = sorted(specific, key=lambda a: -len(a.address))
        self._names = sorted((a for a in addresses if len(a.name) >= 2), key=lambda a: -len(a.name))
        self.areas = {a.id: a for lv in self.levels.values() for a in lv.areas}

    def __len__(self) -> int:
        return sum(len(lv.areas) for lv in self.levels.values())

    # --- by coordinates ------------------------------------------------------------------------------

    def at(self, lon: float, lat: float) -> Placement:
        """The unit, grid and street whose polygons hold (lon, lat); the nearest within NEAREST_METRES when
        it lies on none; unplaced, with the reason, when nothing is near."""
        if not self.levels:
            return Placement(method=None, reason=_NO_AREAS)
        ids: dict[str, str] = {}
        distance = 0.0
        for level, lv in self.levels.items():
            if level in ids:
                continue  # named by the area found below it (a grid names its street): no test needed
            hit = lv.containing(lon, lat)
            # units do not tile their grid (a point between them is in none); grids and streets tile the district;
            # the grids tile the streets: a point no grid is near has no street near either
            tiles = level == GRID or (level == STREET and GRID not in self.levels)
            if hit is None and tiles and lv.may_be_near(lon, lat):
                near = _nearest(lv, Point(lon, lat), lat)
                if near is not None:
                    hit, metres = near
                    distance = max(distance, metres)
            if hit is not None:
                ids.setdefault(level, hit.id)
                for above, ref in hit.refs.items():
                    ids.setdefault(above, ref)  # a unit names its grid and street when their polygons miss
        if not ids.get(GRID) and not ids.get(STREET):
            reason = (
                f"({lon:.6f}, {lat:.6f}) lies in no street or grid of the district, nor within "
                f"{NEAREST_METRES:g} m of one / 该位置不在本区任何街道或网格内"
            )
            return Placement(method=None, reason=reason)
        return Placement(
            method="coordinates", unit=ids.get(UNIT), grid=ids.get(GRID), street=ids.get(STREET),
            distance_m=round(distance, 1) if distance else None,
        )  # fmt: skip

    # --- by what the report names --------------------------------------------------------------------

    def named(self, unit: str | None, grid: str | None, street: str | None) -> Placement:
        """The places a report names, its missing levels filled in from those it names (a unit's grid)."""
        ids = {lv: v for lv, v in ((UNIT, unit), (GRID, grid), (STREET, street)) if v}
        for level in LEVELS:
            area = self.areas.get(ids.get(level, ""))
            if area is not None:
                for above, ref in area.refs.items():
                    ids.setdefault(above, ref)
        return Placement(method="reporter", unit=ids.get(UNIT), grid=ids.get(GRID), street=ids.get(STREET))

    # --- by address ----------------------------------------------------------------------------------

    def by_address(self, text: str) -> Placement:
        """The place of the building or unit whose street address (else name) the report's address holds."""
        wanted = normalise_address(text)
        found = self._exact.get(wanted)
        how = "address"
        if found is None:
            found = next((a for a in self._addresses if a.address in wanted), None)
        if found is None:
            found, how = next((a for a in self._names if a.name in wanted), None), "name"
        if found is None:
            reason = (
                f"the address {text[:80]!r} matches no building or unit of the district / 地址未匹配到本区建筑或单元"
            )

            return Placement(method=None, reason=reason)
        at = self.at(*found.point)
        ids = {UNIT: at.unit, GRID: at.grid, STREET: at.street, **found.refs}  # the entity's own refs first
        match = {"entity": found.id, "text": found.shown, "by": how}
        return Placement(
            method="address", unit=ids.get(UNIT), grid=ids.get(GRID), street=ids.get(STREET),
            point=found.point, address_match=match,
        )  # fmt: skip

    def place(self, new: NewCase) -> Placement:
        """Where a report is: named places first (the reporter or the sensor knows), then its coordinates,
        then its address."""
        if new.unit or new.grid or new.street:
            return self.named(new.unit, new.grid, new.street)
        if new.lon is not None and new.lat is not None:
            return self.at(new.lon, new.lat)
        if new.address:
            return self.by_address(new.address)
        return Placement(method=None, reason="the report gives no coordinates, address or place / 未提供位置")


_NO_AREAS = "the data hub holds no streets, grids or units with a geometry / 数据中枢无街道、网格或单元的边界"


def _nearest(lv: _Level, point: Point, lat: float) -> tuple[_Area, float] | None:
    """The area nearest the point within NEAREST_METRES, and how far it is in metres."""
    scale = _METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01)  # metres per degree of longitude
    hits = lv.tree.query_nearest(point, max_distance=NEAREST_METRES / scale)
    best: tuple[_Area, float] | None = None
    for i in hits:
        near = nearest_points(lv.geometries[i], point)[0]
        metres = math.hypot((near.x - point.x) * scale, (near.y - point.y) * _METRES_PER_DEGREE)
        if metres <= NEAREST_METRES and (best is None or metres < best[1]):
            best = (lv.areas[i], metres)
    return best


def _geometry(attrs: dict[str, list[dict[str, Any]]]) -> BaseGeometry | None:
    inst = attrs.get(LOCATION)
    value = inst[0].get("value") if inst else None
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon", "Point"):
        return None
    try:
        g = shape(value)
    except (ValueError, TypeError, AttributeError, GEOSException):
        return None
    if g.is_empty:
        return None
    shapely.prepare(g)
    return g


def _street_address(inst: list[dict[str, Any]] | None) -> str | None:
    value = inst[0].get("value") if inst else None
    if isinstance(value, dict):
        value = value.get("streetAddress")
    return value if isinstance(value, str) and value.strip() else None


def _name(inst: list[dict[str, Any]] | None) -> str | None:
    value = inst[0].get("value", inst[0].get("languageMap")) if inst else None
    if isinstance(value, dict):
        value = value.get("zh") or value.get("zh-CN") or next(iter(value.values()), None)
    return value if isinstance(value, str) and value.strip() else None


# --- per process --------------------------------------------------------------------------------------


@dataclass
class Placer:
    """The place index of each tenant, read from the hub on first use and dropped when the hub changes a
    street, grid, unit or building (the next report reads them again)."""

    read: Callable[[str], PlaceIndex]
    indexes: dict[str, PlaceIndex] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    watched: frozenset[str] = frozenset()
    cancel: Callable[[], None] | None = None

    def index(self, tenant: str) -> PlaceIndex:
        found = self.indexes.get(tenant)
        if found is None:
            found = self.read(tenant)
            with self.lock:
                self.indexes[tenant] = found
        return found

    def place(self, tenant: str, batch: Sequence[NewCase]) -> list[Placement]:
        index = self.index(tenant)
        return [index.place(new) for new in batch]

    def forget(self, tenant: str | None = None) -> None:
        with self.lock:
            if tenant is None:
                self.indexes.clear()
            else:
                self.indexes.pop(tenant, None)

    def changed(self, event: Event) -> None:
        """A hub event: drop the tenant's index when the entity is one the index is built from."""
        if self.watched.intersection(event.data.get("types") or ()):
            self.forget(event.tenant)

    def close(self) -> None:
        if self.cancel is not None:
            self.cancel()


def _read(rt: Runtime) -> Callable[[str], PlaceIndex]:
    def read(tenant: str) -> PlaceIndex:
        tm = core_term_map()
        rows = entities_of_types(rt, tenant, sorted({*KINDS.values(), *ADDRESSED}), tm)
        return PlaceIndex((r.id, r.types, r.attrs) for r in rows)

    return read


def placer(rt: Runtime) -> Placer:
    """The process's placer, listening to the hub's entity events from its making."""

    def make() -> Placer:
        tm = core_term_map()
        made = Placer(_read(rt), watched=frozenset(tm.expand(t) for t in {*KINDS.values(), *ADDRESSED}))
        made.cancel = rt.bus.subscribe(ENTITY_EVENTS, made.changed)
        return made

    return rt.parts.get(Placer, make)
