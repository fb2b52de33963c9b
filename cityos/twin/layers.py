"""What the map draws: the district's hierarchy as GeoJSON layers, and the sensors as compact rows.

Pure: entities come in as their stored (expanded) attributes, read here through a term map; nothing
here touches HTTP or the database. Layers: the district, its streets (街道), grids (网格), minimum
management units (最小管理单元) and buildings, each a FeatureCollection whose features carry the few
properties the map labels and colours them by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cityos.context import VALUE_MEMBER, TermMap

Attrs = Mapping[str, list[dict[str, Any]]]

FLOOR_HEIGHT_M = 3.2  # a storey, for extruding buildings on the map
# entity type -> (feature kind, layer)
KINDS: dict[str, tuple[str, str]] = {
    "District": ("district", "district"),
    "Street": ("street", "streets"),
    "Grid": ("grid", "grids"),
    "ManagementUnit": ("unit", "units"),
    "Building": ("building", "buildings"),
}
LAYERS = tuple(layer for _kind, layer in KINDS.values())


@dataclass(frozen=True)
class SensorKind:
    """A type of observed thing and the one attribute the map shows for it."""

    type: str
    attr: str
    unit: str
    zh: str
    en: str

    def public(self) -> dict[str, Any]:
        return {"type": self.type, "attr": self.attr, "unit": self.unit, "name": {"zh": self.zh, "en": self.en}}


# The demo district's observed things (cityos.demo.district.SENSOR_TYPES, same order) and the measure each
# device reports that best says how the thing is (cityos.demo.patterns.DEVICE_PROFILES): a number, a state
# word (powerState, status) or a boolean (smoke).
SENSOR_KINDS: tuple[SensorKind, ...] = (
    SensorKind("Streetlight", "powerState", "", "路灯", "Streetlight"),
    SensorKind("WasteContainer", "fillingLevel", "0–1", "垃圾桶满溢", "Waste bin fill level"),
    SensorKind("ParkingSpot", "status", "", "路内泊位", "Parking spot"),
    SensorKind("TrafficFlowObserved", "intensity", "辆次", "车流检测器", "Traffic counter"),
    SensorKind("CrowdFlowObserved", "peopleCount", "人次", "客流计数器", "Crowd counter"),
    SensorKind("AirQualityObserved", "pm25", "µg/m³", "空气质量微站", "Air quality station"),
    SensorKind("NoiseLevelObserved", "LAeq", "dB(A)", "噪声监测点", "Noise meter"),
    SensorKind("FloodMonitoring", "currentLevel", "m", "水位监测", "Water level gauge"),
    SensorKind("OffStreetParking", "availableSpotNumber", "个", "公共停车场空位", "Car park free spaces"),
    SensorKind("WaterQualityObserved", "pH", "pH", "水质监测站", "Water quality probe"),
    SensorKind("WeatherObserved", "temperature", "°C", "气象站", "Weather station"),
    SensorKind("BuildingTilt", "tiltX", "°", "建筑倾斜监测", "Building tilt meter"),
    SensorKind("SmokeDetector", "smoke", "", "烟感", "Smoke detector"),
)
SENSOR_BY_TYPE = {k.type: k for k in SENSOR_KINDS}
SENSOR_FIELDS = ("id", "type", "lon", "lat", "value", "online", "unit", "grid")


# --- reading stored attributes -------------------------------------------------------------------------


def instance(attrs: Attrs, iri: str) -> dict[str, Any] | None:
    """The attribute's default instance (the one without a datasetId), else its first one."""
    found = attrs.get(iri)
    if not found:
        return None
    return next((i for i in found if "datasetId" not in i), found[0])


def value(attrs: Attrs, iri: str) -> Any:
    """An attribute's value: a Property's value, a Relationship's object, a LanguageProperty's map, ..."""
    inst = instance(attrs, iri)
    if inst is None:
        return None
    return inst.get(VALUE_MEMBER.get(inst.get("type", "Property"), "value"))


def names(attrs: Attrs, tm: TermMap) -> dict[str, str | None]:
    """{"zh", "en"}: from a LanguageProperty name, or from a plain name (zh) and alternateName (en)."""
    name = value(attrs, tm.expand("name"))
    if isinstance(name, dict):
        zh = name.get("zh") or next((v for k, v in name.items() if k.startswith("zh")), None)
        en = name.get("en") or next((v for k, v in name.items() if k.startswith("en")), None)
        first = next(iter(name.values()), None)
        return {"zh": zh or en or first, "en": en or zh or first}
    alternate = value(attrs, tm.expand("alternateName"))
    text = name if isinstance(name, str) else None
    return {"zh": text, "en": alternate if isinstance(alternate, str) else text}


def point(attrs: Attrs, tm: TermMap) -> tuple[float, float] | None:
    """(lon, lat) of a Point location."""
    geo = value(attrs, tm.expand("location"))
    if isinstance(geo, dict) and geo.get("type") == "Point":
        lon, lat = geo["coordinates"][:2]
        return float(lon), float(lat)
    return None


# --- map layers ------------------------------------------------------------------------------------


def feature(entity_id: str, type_name: str, attrs: Attrs, tm: TermMap) -> dict[str, Any] | None:
    """A hierarchy entity (KINDS) as a GeoJSON Feature, or None when it has no location to draw."""
    kind = KINDS[type_name][0]
    geometry = value(attrs, tm.expand("location"))
    if not isinstance(geometry, dict) or "type" not in geometry:
        return None
    props: dict[str, Any] = {"id": entity_id, "kind": kind, "name": names(attrs, tm)}
    code = value(attrs, tm.expand("code"))
    if code is not None:
        props["code"] = code
    for key, attr in (("street", "refStreet"), ("grid", "refGrid"), ("unit", "refUnit")):
        ref = value(attrs, tm.expand(attr))
        if isinstance(ref, str):
            props[key] = ref
    if kind == "unit":
        props["category"] = value(attrs, tm.expand("category"))
        props["walkableArea"] = value(attrs, tm.expand("walkableArea"))
    elif kind == "building":
        categories = value(attrs, tm.expand("category"))
        floors = value(attrs, tm.expand("floorsAboveGround"))
        props["category"] = categories[0] if isinstance(categories, list) and categories else categories
        props["floors"] = floors
        props["height"] = round(floors * FLOOR_HEIGHT_M, 1) if isinstance(floors, int | float) else None
    return {"type": "Feature", "id": entity_id, "geometry": geometry, "properties": props}


def bbox(geometries: Iterable[dict[str, Any]]) -> list[float] | None:
    """[minLon, minLat, maxLon, maxLat] over GeoJSON geometries, or None when there are no coordinates."""
    lo_x = lo_y = float("inf")
    hi_x = hi_y = float("-inf")
    for g in geometries:
        for x, y in _positions(g.get("coordinates") if g.get("type") != "GeometryCollection" else None):
            lo_x, lo_y, hi_x, hi_y = min(lo_x, x), min(lo_y, y), max(hi_x, x), max(hi_y, y)
        for sub in g.get("geometries") or ():
            found = bbox([sub])
            if found:
                lo_x, lo_y = min(lo_x, found[0]), min(lo_y, found[1])
                hi_x, hi_y = max(hi_x, found[2]), max(hi_y, found[3])
    return None if lo_x == float("inf") else [lo_x, lo_y, hi_x, hi_y]


def _positions(coords: Any) -> Iterable[tuple[float, float]]:
    if isinstance(coords, list | tuple) and coords:
        if isinstance(coords[0], int | float):
            yield float(coords[0]), float(coords[1])
        else:
            for c in coords:
                yield from _positions(c)


def district_map(entities: Iterable[tuple[str, str, Attrs]], tm: TermMap) -> dict[str, Any]:
    """{"bbox", "layers"} from (id, type name, attributes) of the hierarchy's entities; features in the
    order given, entities of other types and without a location left out."""
    layers: dict[str, list[dict[str, Any]]] = {layer: [] for layer in LAYERS}
    for entity_id, type_name, attrs in entities:
        if type_name not in KINDS:
            continue
        f = feature(entity_id, type_name, attrs, tm)
        if f is not None:
            layers[KINDS[type_name][1]].append(f)
    outline = layers["district"] or layers["streets"] or [f for fs in layers.values() for f in fs]
    return {
        "bbox": bbox(f["geometry"] for f in outline),
        "layers": {name: {"type": "FeatureCollection", "features": fs} for name, fs in layers.items()},
    }


# --- sensors ---------------------------------------------------------------------------------------


def sensor_row(entity_id: str, kind_index: int, attrs: Attrs, online: bool | None, tm: TermMap) -> list[Any] | None:
    """One sensor as a row of SENSOR_FIELDS, or None when it has no Point location to draw."""
    where = point(attrs, tm)
    if where is None:
        return None
    kind = SENSOR_KINDS[kind_index]
    return [
        entity_id,
        kind_index,
        where[0],
        where[1],
        value(attrs, tm.expand(kind.attr)),
        online,
        value(attrs, tm.expand("refUnit")),
        value(attrs, tm.expand("refGrid")),
    ]


def sensor_state(entity_id: str, type_name: str, attrs: Attrs, online: bool | None, tm: TermMap) -> dict[str, Any]:
    """One sensor of a unit as the unit's twin shows it: its main value, when it was observed, whether online."""
    kind = SENSOR_BY_TYPE[type_name]
    inst = instance(attrs, tm.expand(kind.attr)) or {}
    name = value(attrs, tm.expand("name"))
    return {
        "id": entity_id,
        "type": type_name,
        "name": name if isinstance(name, str) else names(attrs, tm)["zh"],
        "attr": kind.attr,
        "value": inst.get("value"),
        "unit": kind.unit,
        "observedAt": inst.get("observedAt"),
        "online": online,
    }


def counts_by_type(types: Sequence[str]) -> dict[str, int]:
    """How many of each type, in SENSOR_KINDS order."""
    return {k.type: n for k in SENSOR_KINDS if (n := sum(1 for t in types if t == k.type))}
