"""The demo district: a Huangpu-like district of Shanghai (黄浦区) as NGSI-LD entities.

``build_district`` is pure and deterministic: no clock, no database, the same seed gives the same
list. Entities are in normalized form with plain terms and no ``@context`` member, so the server
expands every name with the NGSI-LD core context alone.

What is approximated: the outline follows the Huangpu river (黄浦江), Suzhou Creek (苏州河) and
the western roads at roughly their real WGS84 positions; the ten subdistrict streets (街道) are
hand-drawn along main roads (Yan'an Road, Henan Road, Xizang Road, Lujiabang Road, ...) and
tessellate the outline exactly; grids (网格) split each street into parts of equal area; the ten
minimum management units (最小管理单元) are small outlines at their approximate real places.
Buildings and sensors are placed at random inside their grids (streetlights and traffic counters
along main roads, crowd counters at the hot spots, water and flood sensors along the rivers,
parking near Xintiandi and People's Square), with plausible values for a Saturday afternoon in
November at ``REFERENCE_TIME``. None of it is survey data.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
from shapely import STRtree, affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from cityos.demo.patterns import is_road_gauge

REFERENCE_TIME = "2026-11-21T08:00:00Z"  # a Saturday, 16:00 in Shanghai
_REF = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)

DISTRICT = "urn:ngsi-ld:District:huangpu"

# Minimum management units; the first five are the hot spots (crowd density uses walkableArea).
BUND = "urn:ngsi-ld:ManagementUnit:waitan"
NANJING_ROAD = "urn:ngsi-ld:ManagementUnit:nanjinglu-buxingjie"
YU_GARDEN = "urn:ngsi-ld:ManagementUnit:yuyuan"
PEOPLES_SQUARE = "urn:ngsi-ld:ManagementUnit:renminguangchang"
XINTIANDI = "urn:ngsi-ld:ManagementUnit:xintiandi"
NANJING_BUILDING = "urn:ngsi-ld:ManagementUnit:nanjingdalou"
TIANZIFANG = "urn:ngsi-ld:ManagementUnit:tianzifang"
CHUNJIANG = "urn:ngsi-ld:ManagementUnit:chunjiangxiaoqu"
QUXI_ROAD_SHOPS = "urn:ngsi-ld:ManagementUnit:quxilu-shangpu"
YUYANGLI = "urn:ngsi-ld:ManagementUnit:yuyangli"
HOT_SPOTS = (BUND, NANJING_ROAD, YU_GARDEN, PEOPLES_SQUARE, XINTIANDI)
UNITS = (*HOT_SPOTS, NANJING_BUILDING, TIANZIFANG, CHUNJIANG, QUXI_ROAD_SHOPS, YUYANGLI)

# Observed things (Smart Data Model types), each with its own Device on top.
SENSOR_TYPES = (
    "Streetlight", "WasteContainer", "ParkingSpot", "TrafficFlowObserved", "CrowdFlowObserved",
    "AirQualityObserved", "NoiseLevelObserved", "FloodMonitoring", "OffStreetParking",
    "WaterQualityObserved", "WeatherObserved", "BuildingTilt", "SmokeDetector",
)  # fmt: skip
GRID_COUNT = 50

# ---------------------------------------------------------------------------------------------
# Geography

_LON0, _LAT0 = 121.48, 31.22
_MX, _MY = 95_282.0, 110_874.0  # metres per degree of longitude / latitude at 31.22° N
_PRECISION = 1e-7  # degrees, about 1 cm: coordinates are snapped to this grid

# Outline and street-corner vertices (lon, lat). N: Suzhou Creek, E/S: the Huangpu river bank,
# W: Chengdu Road North and Shaanxi Road South down to Rihui Port.
_V: dict[str, tuple[float, float]] = {
    "N1": (121.4912, 31.2433), "N2": (121.4870, 31.2441), "N3": (121.4850, 31.2445),
    "N4": (121.4800, 31.2449), "N5": (121.4760, 31.2447), "N6": (121.4725, 31.2441),
    "N7": (121.4690, 31.2432), "N8": (121.4655, 31.2423), "W1": (121.4648, 31.2390),
    "W2": (121.4646, 31.2330), "W3": (121.4645, 31.2284), "Y1": (121.4590, 31.2270),
    "W4": (121.4586, 31.2200), "W5": (121.4582, 31.2140), "W6": (121.4578, 31.2060),
    "W7": (121.4590, 31.1985), "S1": (121.4640, 31.1962), "S2": (121.4700, 31.1955),
    "S3": (121.4740, 31.1958), "S4": (121.4790, 31.1970), "S5": (121.4850, 31.1990),
    "S6": (121.4880, 31.2002), "S7": (121.4930, 31.2022), "S8": (121.4990, 31.2052),
    "S9": (121.5030, 31.2088), "E1": (121.5062, 31.2132), "E2": (121.5075, 31.2150),
    "E3": (121.5072, 31.2185), "E4": (121.5055, 31.2230), "E5": (121.5020, 31.2270),
    "E6": (121.4975, 31.2310), "E7": (121.4955, 31.2330), "E8": (121.4940, 31.2355),
    "E9": (121.4928, 31.2390), "E10": (121.4918, 31.2415),
    # inner corners: Yan'an Road (Y), Lujiabang Road (L), street borders (R, D)
    "Y2": (121.4665, 31.2287), "Y3": (121.4780, 31.2296), "Y4": (121.4850, 31.2303),
    "Y5": (121.4945, 31.2322), "R1": (121.4665, 31.2140), "D1": (121.4740, 31.2140),
    "L1": (121.4780, 31.2140), "L5": (121.4880, 31.2140), "L4": (121.4945, 31.2140),
    "L2": (121.4850, 31.2215), "L3": (121.4945, 31.2215),
}  # fmt: skip

_HUANGPU_BANK = ("N1", "E10", "E9", "E8", "E7", "E6", "E5", "E4", "E3", "E2", "E1", "S9", "S8", "S7",
                 "S6", "S5", "S4", "S3", "S2", "S1", "W7")  # fmt: skip
_SUZHOU_BANK = ("N8", "N7", "N6", "N5", "N4", "N3", "N2", "N1")  # east-bound, land on the right


@dataclass(frozen=True)
class _StreetSpec:
    key: str
    code: str
    zh: str
    en: str
    ring: tuple[str, ...]  # vertex names; shared borders use the same vertices in both streets


_STREETS = (
    _StreetSpec("nanjingdonglu", "NJ", "南京东路街道", "Nanjing Donglu Subdistrict",
                ("N3", "N4", "N5", "N6", "N7", "N8", "W1", "W2", "W3", "Y2", "Y3", "Y4")),
    _StreetSpec("waitan", "WT", "外滩街道", "Waitan Subdistrict",
                ("N1", "N2", "N3", "Y4", "Y5", "E7", "E8", "E9", "E10")),
    _StreetSpec("ruijinerlu", "RJ", "瑞金二路街道", "Ruijin Erlu Subdistrict",
                ("Y1", "W4", "W5", "R1", "Y2", "W3")),
    _StreetSpec("huaihaizhonglu", "HH", "淮海中路街道", "Huaihai Zhonglu Subdistrict",
                ("Y2", "R1", "D1", "L1", "Y3")),
    _StreetSpec("laoximen", "LXM", "老西门街道", "Laoximen Subdistrict",
                ("Y3", "L1", "L5", "L4", "L3", "L2", "Y4")),
    _StreetSpec("yuyuan", "YY", "豫园街道", "Yuyuan Subdistrict", ("Y4", "L2", "L3", "Y5")),
    _StreetSpec("xiaodongmen", "XDM", "小东门街道", "Xiaodongmen Subdistrict",
                ("Y5", "L3", "L4", "E2", "E3", "E4", "E5", "E6", "E7")),
    _StreetSpec("dapuqiao", "DPQ", "打浦桥街道", "Dapuqiao Subdistrict",
                ("W5", "W6", "W7", "S1", "S2", "S3", "D1", "R1")),
    _StreetSpec("wuliqiao", "WLQ", "五里桥街道", "Wuliqiao Subdistrict",
                ("D1", "S3", "S4", "S5", "S6", "L5", "L1")),
    _StreetSpec("bansongyuanlu", "BSY", "半淞园路街道", "Bansongyuan Lu Subdistrict",
                ("L5", "S6", "S7", "S8", "S9", "E1", "E2", "L4")),
)  # fmt: skip
STREET_NAMES = tuple(s.zh for s in _STREETS)  # the ten subdistricts (街道), in Chinese


@dataclass(frozen=True)
class _UnitSpec:
    id: str
    zh: str
    en: str
    category: str
    street: str  # key of the street that holds it
    address: str
    shape: tuple[Any, ...]  # ("box", minx, miny, maxx, maxy) | ("rect", lon, lat, w_m, h_m) | ("strip", points, w_m)
    walkable: float | None = None  # hot spots: walkable share of the outline


_UNIT_SPECS = (
    _UnitSpec(BUND, "外滩", "The Bund", "hotSpot", "waitan", "中山东一路",
              ("strip", ("E7", "E8", "E9", "E10", "N1"), 140.0), 0.85),
    _UnitSpec(NANJING_ROAD, "南京路步行街", "Nanjing Road Pedestrian Street", "hotSpot", "nanjingdonglu",
              "南京东路", ("strip", ((121.4752, 31.2372), (121.4845, 31.2382)), 28.0), 0.9),
    _UnitSpec(YU_GARDEN, "豫园", "Yu Garden", "hotSpot", "yuyuan", "福佑路168号",
              ("box", 121.4878, 31.2254, 121.4922, 31.2286), 0.55),
    _UnitSpec(PEOPLES_SQUARE, "人民广场", "People's Square", "hotSpot", "nanjingdonglu", "人民大道",
              ("box", 121.4705, 31.2310, 121.4755, 31.2345), 0.6),
    _UnitSpec(XINTIANDI, "新天地", "Xintiandi", "hotSpot", "huaihaizhonglu", "太仓路181弄",
              ("box", 121.4724, 31.2180, 121.4756, 31.2211), 0.5),
    _UnitSpec(NANJING_BUILDING, "南京大楼", "Nanjing Building", "building", "waitan", "南京东路233号",
              ("rect", 121.4868, 31.2393, 46.0, 36.0)),
    _UnitSpec(TIANZIFANG, "田子坊", "Tianzifang", "scenicArea", "dapuqiao", "泰康路210弄",
              ("box", 121.4655, 31.2082, 121.4681, 31.2098)),
    _UnitSpec(CHUNJIANG, "春江小区", "Chunjiang Residential Compound", "residentialCompound",
              "bansongyuanlu", "半淞园路", ("box", 121.4948, 31.2086, 121.4972, 31.2103)),
    _UnitSpec(QUXI_ROAD_SHOPS, "瞿溪路沿街商铺", "Quxi Road Street Shops", "streetShops", "wuliqiao",
              "瞿溪路", ("strip", ((121.4790, 31.2043), (121.4866, 31.2049)), 44.0)),
    _UnitSpec(YUYANGLI, "渔阳里", "Yuyangli", "neighbourhood", "huaihaizhonglu", "淮海中路567弄",
              ("box", 121.4687, 31.2209, 121.4703, 31.2221)),
)  # fmt: skip
_OPEN_SPACES = frozenset({BUND, NANJING_ROAD, PEOPLES_SQUARE})  # no generated buildings there

# Main roads (zh, en, kind, points). kind: "main" carries traffic counters, "walk" does not.
_ROADS: tuple[tuple[str, str, str, tuple[tuple[float, float], ...]], ...] = (
    ("延安中路", "Yan'an Road Middle", "main", ((121.4592, 31.2273), (121.4665, 31.2286), (121.4780, 31.2295))),
    ("延安东路", "Yan'an Road East", "main", ((121.4780, 31.2295), (121.4850, 31.2302), (121.4945, 31.2321))),
    ("南京东路", "Nanjing Road East", "walk", ((121.4752, 31.2372), (121.4845, 31.2382), (121.4910, 31.2402))),
    ("南京西路", "Nanjing Road West", "main", ((121.4650, 31.2360), (121.4700, 31.2366), (121.4752, 31.2372))),
    ("北京东路", "Beijing Road East", "main", ((121.4755, 31.2418), (121.4850, 31.2420), (121.4912, 31.2422))),
    ("福州路", "Fuzhou Road", "main", ((121.4760, 31.2350), (121.4850, 31.2355), (121.4927, 31.2362))),
    ("西藏中路", "Xizang Road Middle", "main", ((121.4757, 31.2440), (121.4759, 31.2360), (121.4762, 31.2296))),
    ("西藏南路", "Xizang Road South", "main",
     ((121.4762, 31.2296), (121.4775, 31.2200), (121.4800, 31.2100), (121.4815, 31.1990))),
    ("河南中路", "Henan Road Middle", "main", ((121.4840, 31.2443), (121.4845, 31.2303))),
    ("河南南路", "Henan Road South", "main", ((121.4845, 31.2303), (121.4852, 31.2230), (121.4858, 31.2150))),
    ("四川中路", "Sichuan Road Middle", "main", ((121.4875, 31.2440), (121.4880, 31.2315))),
    ("人民路", "Renmin Road", "main",
     ((121.4826, 31.2250), (121.4838, 31.2280), (121.4880, 31.2296), (121.4922, 31.2282), (121.4934, 31.2250))),
    ("中华路", "Zhonghua Road", "main",
     ((121.4934, 31.2250), (121.4922, 31.2218), (121.4880, 31.2204), (121.4838, 31.2220), (121.4826, 31.2250))),
    ("淮海中路", "Huaihai Road Middle", "main",
     ((121.4588, 31.2215), (121.4665, 31.2222), (121.4740, 31.2228), (121.4775, 31.2240))),
    ("复兴中路", "Fuxing Road Middle", "main",
     ((121.4592, 31.2172), (121.4665, 31.2166), (121.4740, 31.2163), (121.4776, 31.2173))),
    ("复兴东路", "Fuxing Road East", "main",
     ((121.4776, 31.2173), (121.4800, 31.2180), (121.4880, 31.2203), (121.4990, 31.2228), (121.5035, 31.2236))),
    ("黄陂南路", "Huangpi Road South", "main", ((121.4722, 31.2285), (121.4725, 31.2150))),
    ("重庆南路", "Chongqing Road South", "main",
     ((121.4690, 31.2285), (121.4695, 31.2150), (121.4700, 31.2050), (121.4705, 31.1975))),
    ("瑞金二路", "Ruijin Road No.2", "main", ((121.4625, 31.2270), (121.4628, 31.2150), (121.4632, 31.2060))),
    ("徐家汇路", "Xujiahui Road", "main", ((121.4582, 31.2065), (121.4665, 31.2075), (121.4740, 31.2090))),
    ("陆家浜路", "Lujiabang Road", "main", ((121.4790, 31.2137), (121.4945, 31.2137), (121.5060, 31.2147))),
    ("鲁班路", "Luban Road", "main", ((121.4770, 31.2130), (121.4775, 31.2050), (121.4785, 31.1980))),
    ("泰康路", "Taikang Road", "walk", ((121.4640, 31.2090), (121.4720, 31.2092))),
    ("瞿溪路", "Quxi Road", "main", ((121.4760, 31.2041), (121.4866, 31.2049), (121.4900, 31.2052))),
    ("半淞园路", "Bansongyuan Road", "main", ((121.4890, 31.2120), (121.4960, 31.2110), (121.5030, 31.2120))),
)  # fmt: skip
# Roads along the river bank, drawn 90 m inland of it: (zh, en, first bank vertex, last bank vertex).
_BANK_ROADS = (
    ("中山东一路", "Zhongshan Road East No.1", "N1", "E7"),
    ("中山东二路", "Zhongshan Road East No.2", "E7", "E2"),
    ("中山南路", "Zhongshan Road South", "E2", "S6"),
    ("中山南一路", "Zhongshan Road South No.1", "S6", "S2"),
)
ROAD_NAMES = tuple(zh for zh, *_ in (*_ROADS, *_BANK_ROADS))  # the district's named roads, in Chinese


def _to_m(g: BaseGeometry) -> BaseGeometry:
    return affinity.affine_transform(g, [_MX, 0, 0, _MY, -_LON0 * _MX, -_LAT0 * _MY])


def _to_deg(g: BaseGeometry) -> BaseGeometry:
    return affinity.affine_transform(g, [1 / _MX, 0, 0, 1 / _MY, _LON0, _LAT0])


def _xy_to_deg(x: float, y: float) -> tuple[float, float]:
    return round(x / _MX + _LON0, 7), round(y / _MY + _LAT0, 7)


def _area_m2(g: BaseGeometry) -> float:
    return float(g.area * _MX * _MY)


def _polygonal(g: BaseGeometry) -> Polygon | MultiPolygon:
    """The polygons of an overlay result (drops the points and lines an overlay can leave)."""
    parts = [p for p in shapely.get_parts(g) if isinstance(p, Polygon) and not p.is_empty]
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(parts)


def _finish(g: BaseGeometry) -> Polygon:
    """Snap to the output precision, as one valid polygon with a counter-clockwise outer ring."""
    snapped = _polygonal(shapely.set_precision(g, _PRECISION))
    if isinstance(snapped, MultiPolygon):  # a snapped-off crumb: keep the body
        snapped = max(snapped.geoms, key=lambda p: p.area)
    return orient(snapped, sign=1.0)


def _geojson(g: Polygon | Point) -> dict[str, Any]:
    if isinstance(g, Point):
        return {"type": "Point", "coordinates": [round(g.x, 7), round(g.y, 7)]}
    rings = [g.exterior, *g.interiors]
    return {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring.coords] for ring in rings]}


def _shape_of(spec: _UnitSpec) -> BaseGeometry:
    kind = spec.shape[0]
    if kind == "box":
        return box(*spec.shape[1:])
    if kind == "rect":
        _, lon, lat, w, h = spec.shape
        return _rect(lon, lat, w, h, 0.0)
    _, points, width = spec.shape
    coords = [_V[p] if isinstance(p, str) else p for p in points]
    return _to_deg(_to_m(LineString(coords)).buffer(width / 2, cap_style="flat"))


def _rect(lon: float, lat: float, w: float, h: float, angle: float) -> Polygon:
    """A w × h metre rectangle centred on (lon, lat), turned by angle degrees."""
    x = (lon - _LON0) * _MX
    y = (lat - _LAT0) * _MY
    r = affinity.rotate(box(-w / 2, -h / 2, w / 2, h / 2), angle, origin=(0, 0))
    return _to_deg(affinity.translate(r, x, y))


def _equal_parts(poly: BaseGeometry, k: int) -> list[BaseGeometry]:
    """Cut a polygon into k parts of equal area by recursive straight cuts across its longer side."""
    if k <= 1:
        return [poly]
    k1 = k // 2
    minx, miny, maxx, maxy = poly.bounds
    across_x = (maxx - minx) * _MX >= (maxy - miny) * _MY
    pad = 1.0

    def low(cut: float) -> Polygon:
        return (
            box(minx - pad, miny - pad, cut, maxy + pad) if across_x else box(minx - pad, miny - pad, maxx + pad, cut)
        )

    def high(cut: float) -> Polygon:
        return (
            box(cut, miny - pad, maxx + pad, maxy + pad) if across_x else box(minx - pad, cut, maxx + pad, maxy + pad)
        )

    lo, hi = (minx, maxx) if across_x else (miny, maxy)
    target = poly.area * k1 / k
    for _ in range(40):
        mid = (lo + hi) / 2
        if poly.intersection(low(mid)).area < target:
            lo = mid
        else:
            hi = mid
    cut = round((lo + hi) / 2, 7)
    a = _polygonal(poly.intersection(low(cut)))
    b = _polygonal(poly.intersection(high(cut)))
    return _equal_parts(a, k1) + _equal_parts(b, k - k1)


def _merge_fragments(pieces: list[BaseGeometry]) -> list[Polygon]:
    """Give every detached fragment of a piece to the neighbour it shares the longest border with."""
    pieces = [_polygonal(p) for p in pieces]
    for _ in range(len(pieces) * 4):
        split = next((i for i, p in enumerate(pieces) if isinstance(p, MultiPolygon)), None)
        if split is None:
            break
        parts = sorted(pieces[split].geoms, key=lambda p: p.area, reverse=True)
        pieces[split] = parts[0]
        for frag in parts[1:]:
            border = [(frag.boundary.intersection(p.boundary).length, j) for j, p in enumerate(pieces) if j != split]
            length, j = max(border)
            if length <= 0:
                raise ValueError("a grid fragment touches no other grid")
            pieces[j] = _polygonal(shapely.union(pieces[j], frag))
    if any(isinstance(p, MultiPolygon) for p in pieces):
        raise ValueError("grid pieces could not be made whole")
    return pieces


def _allocate(weights: list[float], total: int, minimum: int) -> list[int]:
    """Split total into integer shares proportional to weights (largest remainder), each ≥ minimum."""
    spare = total - minimum * len(weights)
    raw = [spare * w / sum(weights) for w in weights]
    shares = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in order[: spare - sum(shares)]:
        shares[i] += 1
    return [s + minimum for s in shares]


@dataclass
class _Street:
    spec: _StreetSpec
    id: str
    poly: Polygon


@dataclass
class _Grid:
    id: str
    code: str
    zh: str
    en: str
    street: _Street
    poly: Polygon


@dataclass
class _Unit:
    spec: _UnitSpec
    poly: Polygon
    grid: _Grid
    street: _Street


@dataclass
class _Road:
    zh: str
    en: str
    kind: str
    line: LineString  # metres


@dataclass
class _Geo:
    district: Polygon
    streets: list[_Street]
    grids: list[_Grid]
    units: list[_Unit]
    roads: list[_Road]
    rivers: dict[str, LineString]  # metres

    def __post_init__(self) -> None:
        for g in (self.district, *(s.poly for s in self.grids), *(u.poly for u in self.units)):
            shapely.prepare(g)
        self._grid_tree = STRtree([g.poly for g in self.grids])
        self._unit_tree = STRtree([u.poly for u in self.units])
        self._road_tree = STRtree([r.line for r in self.roads])
        self.unit_by_id = {u.spec.id: u for u in self.units}

    def locate(self, lon: float, lat: float) -> tuple[_Grid, _Unit | None] | None:
        """The grid (and unit) strictly containing a point, or None if it is on a border or outside."""
        pt = Point(lon, lat)
        if not self.district.contains(pt):
            return None
        hits = self._grid_tree.query(pt, predicate="within")
        if len(hits) == 0:
            return None
        grid = self.grids[int(min(hits))]
        units = self._unit_tree.query(pt, predicate="within")
        unit = self.units[int(min(units))] if len(units) else None
        if unit is not None and unit.grid is not grid:
            unit = None
        return grid, unit

    def nearest_road(self, x: float, y: float) -> _Road:
        return self.roads[int(self._road_tree.nearest(Point(x, y)))]


def _build_geography() -> _Geo:
    raw_streets = [Polygon([_V[v] for v in s.ring]) for s in _STREETS]
    district = _finish(shapely.union_all(raw_streets))
    streets = [
        _Street(spec, f"urn:ngsi-ld:Street:{spec.key}", _finish(p))
        for spec, p in zip(_STREETS, raw_streets, strict=True)
    ]
    by_key = {s.spec.key: (s, raw) for s, raw in zip(streets, raw_streets, strict=True)}

    counts = _allocate([p.area for p in raw_streets], GRID_COUNT, 3)
    pieces = {
        s.spec.key: _merge_fragments(_equal_parts(raw, k))
        for s, raw, k in zip(streets, raw_streets, counts, strict=True)
    }

    # Each unit joins the grid it overlaps most, so that a unit lies inside one grid.
    unit_shapes: list[tuple[_UnitSpec, BaseGeometry, int]] = []
    for spec in _UNIT_SPECS:
        street_raw = by_key[spec.street][1]
        outline = _polygonal(_shape_of(spec).intersection(street_raw))
        parts = pieces[spec.street]
        owner = max(range(len(parts)), key=lambda i: parts[i].intersection(outline).area)
        for i, p in enumerate(parts):
            parts[i] = shapely.union(p, outline) if i == owner else p.difference(outline)
        pieces[spec.street] = _merge_fragments(parts)
        unit_shapes.append((spec, outline, owner))

    grids: list[_Grid] = []
    grid_of: dict[tuple[str, int], _Grid] = {}
    for street in streets:
        parts = pieces[street.spec.key]
        # number grids north to south in ~330 m rows, west to east within a row
        order = sorted(range(len(parts)), key=lambda i: (-round(parts[i].centroid.y / 0.003), parts[i].centroid.x))
        for n, i in enumerate(order, start=1):
            code = f"HP-{street.spec.code}-{n:02d}"
            grid = _Grid(
                f"urn:ngsi-ld:Grid:{code}",
                code,
                f"{street.spec.zh}第{n:02d}网格",
                f"{street.spec.en} Grid {n:02d}",
                street,
                _finish(parts[i]),
            )
            grids.append(grid)
            grid_of[(street.spec.key, i)] = grid
    units = []
    for spec, outline, owner in unit_shapes:
        grid = grid_of[(spec.street, owner)]
        units.append(_Unit(spec, _finish(outline.intersection(grid.poly)), grid, grid.street))

    roads = [_Road(zh, en, kind, _to_m(LineString(pts))) for zh, en, kind, pts in _ROADS]
    bank = [_V[v] for v in _HUANGPU_BANK]
    for zh, en, start, end in _BANK_ROADS:
        seg = _to_m(LineString(bank[_HUANGPU_BANK.index(start) : _HUANGPU_BANK.index(end) + 1]))
        # the bank runs with the land on its right: a negative offset goes inland
        roads.append(_Road(zh, en, "main", seg.offset_curve(-90.0)))
    rivers = {"黄浦江": _to_m(LineString(bank)), "苏州河": _to_m(LineString([_V[v] for v in _SUZHOU_BANK]))}
    return _Geo(district, streets, grids, units, roads, rivers)


# ---------------------------------------------------------------------------------------------
# Entity helpers


def _prop(value: Any, unit: str | None = None, observed: str | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"type": "Property", "value": value}
    if unit:
        p["unitCode"] = unit
    if observed:
        p["observedAt"] = observed
    return p


def _rel(target: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


def _geo(g: Polygon | Point) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": _geojson(g)}


def _lang(zh: str, en: str) -> dict[str, Any]:
    return {"type": "LanguageProperty", "languageMap": {"zh": zh, "en": en}}


def _address(street_address: str) -> dict[str, Any]:
    return _prop(
        {
            "addressCountry": "CN",
            "addressRegion": "上海市",
            "addressLocality": "黄浦区",
            "streetAddress": street_address,
        }
    )


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hierarchy(geo: _Geo) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "id": DISTRICT,
            "type": "District",
            "name": _lang("黄浦区", "Huangpu District"),
            "code": _prop("310101"),
            "description": _prop("示范区：上海市黄浦区（近似）Demo district approximating Huangpu, Shanghai"),
            "location": _geo(geo.district),
        }
    ]
    for s in geo.streets:
        out.append(
            {
                "id": s.id,
                "type": "Street",
                "name": _lang(s.spec.zh, s.spec.en),
                "code": _prop(f"HP-{s.spec.code}"),
                "location": _geo(s.poly),
                "refDistrict": _rel(DISTRICT),
            }
        )
    for g in geo.grids:
        out.append(
            {
                "id": g.id,
                "type": "Grid",
                "name": _lang(g.zh, g.en),
                "code": _prop(g.code),
                "location": _geo(g.poly),
                "refStreet": _rel(g.street.id),
                "refDistrict": _rel(DISTRICT),
            }
        )
    for u in geo.units:
        e: dict[str, Any] = {
            "id": u.spec.id,
            "type": "ManagementUnit",
            "name": _lang(u.spec.zh, u.spec.en),
            "category": _prop(u.spec.category),
            "address": _address(u.spec.address),
            "location": _geo(u.poly),
            "refGrid": _rel(u.grid.id),
            "refStreet": _rel(u.street.id),
            "refDistrict": _rel(DISTRICT),
        }
        if u.spec.walkable is not None:
            e["walkableArea"] = _prop(int(round(_area_m2(u.poly) * u.spec.walkable, -2)), "MTK")
        out.append(e)
    return out


# ---------------------------------------------------------------------------------------------
# Buildings

# (zh, en, lon, lat, width m, depth m, floors, category, street address, unit or None)
_LANDMARKS = (
    ("南京大楼", "Nanjing Building", 121.4868, 31.2393, 42, 32, 8, "office", "南京东路233号", NANJING_BUILDING),
    ("和平饭店", "Fairmont Peace Hotel", 121.4895, 31.2406, 60, 48, 12, "hotel", "南京东路20号", None),
    ("海关大楼", "Custom House", 121.4906, 31.2374, 48, 42, 8, "office", "中山东一路13号", None),
    ("汇丰银行大楼", "HSBC Building", 121.4908, 31.2359, 70, 56, 7, "office", "中山东一路12号", None),
    ("上海博物馆", "Shanghai Museum", 121.4732, 31.2318, 110, 100, 5, "public", "人民大道201号", PEOPLES_SQUARE),
    ("上海大剧院", "Shanghai Grand Theatre", 121.4713, 31.2336, 90, 80, 10, "civic", "人民大道300号",
     PEOPLES_SQUARE),
    ("上海城市规划展示馆", "Shanghai Urban Planning Exhibition Center", 121.4746, 31.2337, 70, 60, 6, "public",
     "人民大道100号", PEOPLES_SQUARE),
    ("国际饭店", "Park Hotel", 121.4700, 31.2372, 45, 40, 24, "hotel", "南京西路170号", None),
    ("上海市第一百货商店", "Shanghai No.1 Department Store", 121.4770, 31.2366, 60, 45, 10, "retail",
     "南京东路830号", None),
    ("永安百货", "Wing On Department Store", 121.4803, 31.2386, 50, 40, 7, "retail", "南京东路635号", None),
    ("大世界", "Great World", 121.4770, 31.2281, 50, 45, 4, "commercial", "西藏南路1号", None),
    ("中共一大会址", "Site of the First National Congress of the CPC", 121.4737, 31.2199, 30, 24, 2, "public",
     "兴业路76号", XINTIANDI),
    ("湖心亭", "Huxinting Teahouse", 121.4898, 31.2272, 18, 16, 2, "pavilion", "豫园路257号", YU_GARDEN),
    ("上海城隍庙", "City God Temple", 121.4907, 31.2261, 50, 36, 2, "temple", "方浜中路249号", YU_GARDEN),
    ("渔阳里6号", "No.6 Yuyangli", 121.4694, 31.2216, 16, 12, 2, "public", "淮海中路567弄6号", YUYANGLI),
    ("董家渡天主堂", "Dongjiadu Cathedral", 121.5030, 31.2162, 50, 30, 3, "cathedral", "董家渡路185号", None),
    ("瑞金医院", "Ruijin Hospital", 121.4636, 31.2160, 140, 110, 20, "hospital", "瑞金二路197号", None),
    ("上海市第九人民医院", "Shanghai Ninth People's Hospital", 121.4850, 31.2095, 110, 90, 16, "hospital",
     "制造局路639号", None),
)  # fmt: skip

# Building mix per street: (categories, floors range, size range in metres).
_CHARACTER = {
    "NJ": (("office", "commercial", "retail", "hotel", "apartments"), (5, 36), (28, 70)),
    "WT": (("office", "commercial", "hotel", "retail"), (5, 30), (28, 70)),
    "YY": (("residential", "residential", "retail", "apartments"), (2, 24), (16, 45)),
    "LXM": (("residential", "residential", "apartments", "retail", "school"), (2, 28), (16, 50)),
    "XDM": (("residential", "apartments", "office", "retail"), (2, 32), (16, 55)),
    "HH": (("residential", "office", "commercial", "apartments"), (3, 40), (20, 60)),
    "RJ": (("residential", "residential", "apartments", "office", "school"), (3, 30), (20, 55)),
    "DPQ": (("apartments", "apartments", "residential", "office", "commercial", "school"), (6, 32), (24, 60)),
    "WLQ": (("apartments", "apartments", "residential", "office", "school"), (6, 30), (24, 60)),
    "BSY": (("apartments", "residential", "office", "commercial"), (6, 32), (24, 60)),
}
# Buildings drawn inside units: (unit, count, categories, floors range, size range).
_UNIT_BUILDINGS = (
    (CHUNJIANG, 8, ("apartments",), (6, 18), (14, 40)),
    (TIANZIFANG, 8, ("retail", "residential"), (2, 3), (12, 26)),
    (XINTIANDI, 6, ("commercial", "retail"), (2, 4), (18, 40)),
    (YU_GARDEN, 5, ("retail", "commercial"), (2, 3), (14, 30)),
    (QUXI_ROAD_SHOPS, 8, ("retail",), (1, 3), (8, 14)),
    (YUYANGLI, 3, ("residential",), (2, 3), (10, 16)),
)
GENERATED_BUILDINGS = 290


class _Buildings:
    def __init__(self, rng: random.Random, geo: _Geo) -> None:
        self.rng, self.geo = rng, geo
        self.placed: list[Polygon] = []
        self.entities: list[dict[str, Any]] = []
        self.numbers: Counter[str] = Counter()
        roads = shapely.union_all([r.line for r in geo.roads]).buffer(12.0)
        self.road_clearance = _to_deg(roads)
        shapely.prepare(self.road_clearance)

    def street_number(self, road: str) -> str:
        self.numbers[road] += self.rng.randint(1, 12)
        return f"{road}{self.numbers[road]}号"

    def add(
        self, zh: str, en: str | None, footprint: Polygon, floors: int, category: str, address: str, unit: _Unit | None
    ) -> None:
        footprint = _finish(footprint)
        c = footprint.representative_point()
        found = self.geo.locate(c.x, c.y)
        if found is None:
            raise ValueError(f"building {zh} lies outside the district")
        grid = found[0]
        n = len(self.entities) + 1
        e: dict[str, Any] = {
            "id": f"urn:ngsi-ld:Building:HP-B{n:04d}",
            "type": "Building",
            "name": _prop(zh),
            "category": _prop([category]),
            "address": _address(address),
            "floorsAboveGround": _prop(floors),
            "floorsBelowGround": _prop(0 if floors < 6 else self.rng.randint(1, 3)),
            "location": _geo(footprint),
            "refGrid": _rel(grid.id),
            "refStreet": _rel(grid.street.id),
        }
        if en:
            e["alternateName"] = _prop(en)
        if unit is not None:
            e["refUnit"] = _rel(unit.spec.id)
        self.entities.append(e)
        self.placed.append(footprint)

    def fits(self, footprint: Polygon, region: Polygon, unit: _Unit | None) -> bool:
        if not region.contains(footprint) or any(footprint.intersects(p) for p in self.placed):
            return False
        if unit is None:
            if self.road_clearance.intersects(footprint):
                return False
            return not any(footprint.intersects(u.poly) for u in self.geo.units)
        return True

    def scatter(
        self, region: Polygon, count: int, character: tuple[Any, ...], unit: _Unit | None, street_code: str
    ) -> None:
        categories, (f_lo, f_hi), (s_lo, s_hi) = character
        rng = self.rng
        minx, miny, maxx, maxy = region.bounds
        done = 0
        for _ in range(count * 60):
            if done == count:
                break
            w, h = rng.uniform(s_lo, s_hi), rng.uniform(s_lo, s_hi) * rng.uniform(0.5, 1.0)
            fp = _finish(_rect(rng.uniform(minx, maxx), rng.uniform(miny, maxy), w, h, rng.uniform(-20, 20)))
            if not self.fits(fp, region, unit):
                continue
            category = rng.choice(categories)
            floors = rng.randint(f_lo, f_hi)
            if category == "residential" and street_code in ("YY", "LXM", "XDM"):
                floors = min(floors, rng.randint(2, 6))  # old-town lilong houses stay low
            c = fp.centroid
            road = self.geo.nearest_road((c.x - _LON0) * _MX, (c.y - _LAT0) * _MY).zh
            address = self.street_number(road)
            name = f"{unit.spec.zh} {address}" if unit else address
            self.add(name, None, fp, floors, category, address, unit)
            done += 1


def _buildings(rng: random.Random, geo: _Geo) -> list[dict[str, Any]]:
    b = _Buildings(rng, geo)
    for zh, en, lon, lat, w, h, floors, category, address, unit_id in _LANDMARKS:
        unit = geo.unit_by_id[unit_id] if unit_id else None
        fp = _rect(lon, lat, w, h, 0.0)
        if unit is not None:  # a landmark inside a unit stays inside it
            fp = _polygonal(fp.intersection(unit.poly.buffer(-2e-6)))
        b.add(zh, en, fp, floors, category, address, unit)
    for unit_id, count, categories, storeys, sizes in _UNIT_BUILDINGS:
        unit = geo.unit_by_id[unit_id]
        b.scatter(unit.poly, count, (categories, storeys, sizes), unit, unit.street.spec.code)
    total = sum(g.poly.area for g in geo.grids)
    for grid in geo.grids:
        count = max(2, round(GENERATED_BUILDINGS * grid.poly.area / total))
        b.scatter(grid.poly, count, _CHARACTER[grid.street.spec.code], None, grid.street.spec.code)
    return b.entities


# ---------------------------------------------------------------------------------------------
# Sensors

# Relative share of each observed type (every type gets at least one).
_MIX = (
    ("Streetlight", 1500), ("WasteContainer", 1300), ("ParkingSpot", 1000), ("TrafficFlowObserved", 400),
    ("CrowdFlowObserved", 300), ("AirQualityObserved", 200), ("NoiseLevelObserved", 200),
    ("FloodMonitoring", 120), ("OffStreetParking", 60), ("WaterQualityObserved", 60), ("WeatherObserved", 9),
    ("BuildingTilt", 40), ("SmokeDetector", 160),
)  # fmt: skip
_ABBR = {
    "Streetlight": "SL",
    "WasteContainer": "WC",
    "ParkingSpot": "PS",
    "TrafficFlowObserved": "TF",
    "CrowdFlowObserved": "CF",
    "AirQualityObserved": "AQ",
    "NoiseLevelObserved": "NL",
    "FloodMonitoring": "FM",
    "OffStreetParking": "OP",
    "WaterQualityObserved": "WQ",
    "WeatherObserved": "WO",
    "BuildingTilt": "BT",
    "SmokeDetector": "SD",
}
# Device controlledProperty per observed type (Device data model vocabulary).
_CONTROLLED = {
    "Streetlight": ["light", "power"],
    "WasteContainer": ["fillingLevel", "temperature"],
    "ParkingSpot": ["occupancy"],
    "TrafficFlowObserved": ["trafficFlow", "speed"],
    "CrowdFlowObserved": ["occupancy", "speed"],
    "AirQualityObserved": ["airPollution", "temperature", "humidity"],
    "NoiseLevelObserved": ["noiseLevel"],
    "FloodMonitoring": ["waterLevel"],
    "OffStreetParking": ["occupancy"],
    "WaterQualityObserved": ["waterPollution", "temperature", "pH", "conductivity", "turbidity"],
    "WeatherObserved": [
        "temperature",
        "humidity",
        "atmosphericPressure",
        "windSpeed",
        "windDirection",
        "precipitation",
        "solarRadiation",
    ],
    "BuildingTilt": ["tilt"],
    "SmokeDetector": ["smoke", "temperature"],
}
# Hot spot share of crowd counters and a Saturday-afternoon people count per 5 minutes at a gate.
_CROWD = ((BUND, 0.3, (300, 900)), (NANJING_ROAD, 0.25, (400, 1000)), (YU_GARDEN, 0.15, (200, 650)),
          (PEOPLES_SQUARE, 0.15, (100, 400)), (XINTIANDI, 0.15, (150, 500)))  # fmt: skip
# Chinese AQI breakpoints (HJ 633): concentration low, high → index low, high.
_PM25_BREAKS = ((0, 35, 0, 50), (35, 75, 50, 100), (75, 115, 100, 150), (115, 150, 150, 200),
                (150, 250, 200, 300), (250, 500, 300, 500))  # fmt: skip
_PM10_BREAKS = ((0, 50, 0, 50), (50, 150, 50, 100), (150, 250, 100, 150), (250, 350, 150, 200),
                (350, 420, 200, 300), (420, 600, 300, 500))  # fmt: skip
_AQ_LEVELS = ((50, "good"), (100, "moderate"), (150, "unhealthyForSensitiveGroups"), (200, "unhealthy"),
              (300, "veryUnhealthy"), (10_000, "hazardous"))  # fmt: skip
# Shanghai's four waste classes: (kind, zh, bin colour).
_WASTE = (("organic", "湿垃圾", "brown"), ("other", "干垃圾", "black"), ("paper", "可回收物", "blue"),
          ("hazardous", "有害垃圾", "red"))  # fmt: skip


def _iaqi(c: float, breaks: tuple[tuple[int, int, int, int], ...]) -> float:
    for lo, hi, i_lo, i_hi in breaks:
        if c <= hi:
            return i_lo + (i_hi - i_lo) * (c - lo) / (hi - lo)
    return 500.0


def sensor_counts(sensors: int) -> dict[str, int]:
    """How many observed things of each type a district with ``sensors`` observed things gets."""
    shares = _allocate([w for _, w in _MIX], max(sensors, len(_MIX)), 1)
    return {t: n for (t, _), n in zip(_MIX, shares, strict=True)}


@dataclass
class _Site:
    lon: float
    lat: float
    grid: _Grid
    unit: _Unit | None
    road: _Road | None = None


class _Sensors:
    def __init__(self, rng: random.Random, geo: _Geo) -> None:
        self.rng, self.geo = rng, geo
        self.entities: list[dict[str, Any]] = []
        self.devices: list[dict[str, Any]] = []
        self.serial: Counter[str] = Counter()
        self.labels: Counter[str] = Counter()
        self.grid_weights = [g.poly.area for g in geo.grids]

    # -- where ---------------------------------------------------------------------------------

    def _site(self, lon: float, lat: float, road: _Road | None = None) -> _Site | None:
        lon, lat = round(lon, 7), round(lat, 7)
        found = self.geo.locate(lon, lat)
        return None if found is None else _Site(lon, lat, found[0], found[1], road)

    def _retry(self, attempt: Any) -> _Site:
        for _ in range(500):
            site = attempt()
            if site is not None:
                return site
        raise RuntimeError("could not place a sensor inside the district")

    def in_polygon(self, poly: Polygon) -> _Site:
        minx, miny, maxx, maxy = poly.bounds
        rng = self.rng

        def attempt() -> _Site | None:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            return self._site(x, y) if shapely.contains_xy(poly, x, y) else None

        return self._retry(attempt)

    def anywhere(self) -> _Site:
        return self.in_polygon(self.rng.choices(self.geo.grids, self.grid_weights)[0].poly)

    def _offset(self, line: LineString, d: float, off: float) -> tuple[float, float]:
        d = min(max(d, 0.0), line.length)
        a = line.interpolate(max(d - 1.0, 0.0))
        b = line.interpolate(min(d + 1.0, line.length))
        p = line.interpolate(d)
        n = math.hypot(b.x - a.x, b.y - a.y) or 1.0
        return _xy_to_deg(p.x - (b.y - a.y) / n * off, p.y + (b.x - a.x) / n * off)

    def on_road(self, off: tuple[float, float], kinds: tuple[str, ...] = ("main", "walk")) -> _Site:
        rng = self.rng
        roads = [r for r in self.geo.roads if r.kind in kinds]
        weights = [r.line.length for r in roads]

        def attempt() -> _Site | None:
            road = rng.choices(roads, weights)[0]
            side = rng.choice((-1, 1))
            lon, lat = self._offset(road.line, rng.uniform(0, road.line.length), side * rng.uniform(*off))
            return self._site(lon, lat, road)

        return self._retry(attempt)

    def near(self, lon: float, lat: float, radius: float, off: tuple[float, float]) -> _Site:
        """A kerbside point on the road nearest to a random point within radius metres of (lon, lat)."""
        rng = self.rng
        cx, cy = (lon - _LON0) * _MX, (lat - _LAT0) * _MY

        def attempt() -> _Site | None:
            r, a = radius * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            x, y = cx + r * math.cos(a), cy + r * math.sin(a)
            road = self.geo.nearest_road(x, y)
            d = road.line.project(Point(x, y))
            lon2, lat2 = self._offset(road.line, d, rng.choice((-1, 1)) * rng.uniform(*off))
            return self._site(lon2, lat2, road)

        return self._retry(attempt)

    def by_river(self, river: str, off: tuple[float, float]) -> _Site:
        rng = self.rng
        line = self.geo.rivers[river]

        def attempt() -> _Site | None:
            # the land lies right of both bank lines (they run with the district on their right)
            lon, lat = self._offset(line, rng.uniform(0, line.length), -rng.uniform(*off))
            return self._site(lon, lat)

        return self._retry(attempt)

    def in_unit(self, unit_id: str) -> _Site:
        unit = self.geo.unit_by_id[unit_id]
        inner = unit.poly.buffer(-2e-5) if _area_m2(unit.poly) > 5000 else unit.poly
        return self.in_polygon(inner)

    # -- what ----------------------------------------------------------------------------------

    def _ts(self) -> str:
        return _iso(_REF - timedelta(seconds=self.rng.randint(0, 240)))

    def label(self, prefix: str) -> int:
        self.labels[prefix] += 1
        return self.labels[prefix]

    def emit(
        self,
        kind: str,
        site: _Site,
        name: str,
        attrs: dict[str, Any],
        *,
        battery: bool = False,
        category: str = "sensor",
    ) -> str:
        rng = self.rng
        self.serial[kind] += 1
        local = f"HP-{_ABBR[kind]}-{self.serial[kind]:05d}"
        thing_id, device_id = f"urn:ngsi-ld:{kind}:{local}", f"urn:ngsi-ld:Device:{local}"
        where = {
            "location": _geo(Point(site.lon, site.lat)),
            "refGrid": _rel(site.grid.id),
            "refStreet": _rel(site.grid.street.id),
        }
        if site.unit is not None:
            where["refUnit"] = _rel(site.unit.spec.id)
        self.entities.append(
            {"id": thing_id, "type": kind, "name": _prop(name), **attrs, **where, "refDevice": _rel(device_id)}
        )
        installed = _REF - timedelta(days=rng.randint(120, 1400))
        device: dict[str, Any] = {
            "id": device_id,
            "type": "Device",
            "name": _prop(f"{name} 终端"),
            "deviceCategory": _prop([category]),
            "controlledProperty": _prop(_CONTROLLED[kind]),
            "controlledAsset": _rel(thing_id),
            "serialNumber": _prop(f"{_ABBR[kind]}{rng.getrandbits(40):010X}"),
            "firmwareVersion": _prop(f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}"),
            "dateInstalled": _prop(_iso(installed)),
            "deviceState": _prop("ok" if rng.random() > 0.01 else "fault"),
            "dateLastValueReported": _prop(self._ts()),
            **where,
        }
        if battery:
            device["batteryLevel"] = _prop(round(rng.uniform(0.15, 1.0), 2), observed=self._ts())
        self.devices.append(device)
        return thing_id

    def streetlight(self) -> None:
        rng = self.rng
        ts = self._ts()
        if rng.random() < 0.8:
            site = self.on_road((8.0, 18.0))
            where, category = site.road.zh, rng.choice(("road", "sidewalk"))  # type: ignore[union-attr]
        else:
            site = self.anywhere()
            where, category = f"{site.grid.code}街巷", rng.choice(("pedestrianPath", "pedestrianPath", "garden"))
        burning = rng.random() < 0.015  # lit in daylight: a classic fault for the grid inspectors
        status = rng.choices(("ok", "defectiveLamp", "brokenLantern", "columnIssue"), (0.97, 0.02, 0.005, 0.005))[0]
        on = burning and status == "ok"
        rating = rng.choice((60, 80, 100, 150))
        n = self.label(where)
        self.emit(
            "Streetlight",
            site,
            f"{where}路灯 {n:04d}",
            {
                "status": _prop(status, observed=ts),
                "powerState": _prop("on" if on else "off", observed=ts),
                "illuminanceLevel": _prop(1.0 if on else 0.0, observed=ts),
                "powerConsumption": _prop(round(rating * rng.uniform(0.9, 1.05), 1) if on else 0.0, "WTT", ts),
                "powerRating": _prop(rating, "WTT"),
                "lanternHeight": _prop(rng.choice((6, 8, 10, 12)), "MTR"),
                "locationCategory": _prop(category),
                "controllingMethod": _prop("group"),
                "streetPoleNum": _prop(f"{n:04d}"),
                "dateLastSwitchingOn": _prop("2026-11-20T09:05:00Z"),
                "dateLastSwitchingOff": _prop("2026-11-20T22:50:00Z"),
                "observationDateTime": _prop(ts),
            },
        )

    def waste_container(self) -> None:
        rng = self.rng
        ts = self._ts()
        site = self.in_unit(rng.choice(UNITS)) if rng.random() < 0.2 else self.anywhere()
        kind, zh, colour = rng.choices(_WASTE, (0.4, 0.35, 0.2, 0.05))[0]
        level = min(0.99, rng.betavariate(2.2, 2.8) * (1.25 if site.unit is not None else 1.0))
        where = site.unit.spec.zh if site.unit is not None else site.grid.code
        emptied = _REF - timedelta(minutes=rng.randint(60, 600))
        self.emit(
            "WasteContainer",
            site,
            f"{where} {zh}桶 {self.label(where):03d}",
            {
                "fillingLevel": _prop(round(level, 2), observed=ts),
                "temperature": _prop(round(rng.uniform(13.5, 18.0), 1), "CEL", ts),
                "status": _prop("ok" if rng.random() > 0.02 else "lidOpen", observed=ts),
                "category": _prop(["fixed"]),
                "storedWasteKind": _prop(kind),
                "storedWasteOrigin": _prop("municipal" if site.unit is not None else "household"),
                "binColor": _prop(colour),
                "binCapacity": _prop(rng.choice((120, 240, 240, 660)), "LTR"),
                "dateLastEmptying": _prop(_iso(emptied)),
            },
            battery=True,
        )

    def off_street_parking(self, near_unit: str | None) -> tuple[str, _Site, str]:
        rng = self.rng
        ts = self._ts()
        if near_unit is not None:
            u = self.geo.unit_by_id[near_unit]
            c = u.poly.centroid
            site = self.near(c.x, c.y, 450.0, (20.0, 45.0))
            label = u.spec.zh
            occupancy = rng.uniform(0.82, 0.99)
        else:
            site = self.on_road((20.0, 50.0), ("main",))
            label = site.road.zh  # type: ignore[union-attr]
            occupancy = rng.uniform(0.4, 0.85)
        total = rng.randrange(80, 820, 10)
        occupied = min(total, round(total * occupancy))
        name = f"{label}公共停车场 P{self.label(label + 'P')}"
        thing = self.emit(
            "OffStreetParking",
            site,
            name,
            {
                "category": _prop([rng.choice(("underground", "parkingGarage")), "public", "feeCharged"]),
                "allowedVehicleType": _prop(["car"]),
                "layout": _prop([rng.choice(("multiLevel", "singleLevel", "multiStorey"))]),
                "totalSpotNumber": _prop(total),
                "availableSpotNumber": _prop(total - occupied, observed=ts),
                "occupiedSpotNumber": _prop(occupied, observed=ts),
                "occupancy": _prop(round(occupied / total, 2), observed=ts),
                "priceCurrency": _prop("CNY"),
                "priceRatePerMinute": _prop(0.25 if near_unit else round(rng.choice((10, 12)) / 60, 3)),
                "openingHours": _prop("Mo-Su 00:00-24:00"),
                "observationDateTime": _prop(ts),
                "address": _address(site.road.zh if site.road else label),
            },
        )
        return thing, site, name

    def parking_spot(self, garage: tuple[str, _Site, str] | None) -> None:
        rng = self.rng
        ts = self._ts()
        extra: dict[str, Any] = {}
        if garage is not None:  # a sensored bay inside a garage
            thing, g, gname = garage
            site = self._retry(lambda: self._site(g.lon + rng.uniform(-3e-4, 3e-4), g.lat + rng.uniform(-3e-4, 3e-4)))
            name, category, busy = f"{gname} {self.label(gname):03d}号车位", "offStreet", 0.9
            extra["refParkingSite"] = _rel(thing)
        else:
            r = rng.random()
            if r < 0.35:
                c = self.geo.unit_by_id[XINTIANDI].poly.centroid
            elif r < 0.7:
                c = self.geo.unit_by_id[PEOPLES_SQUARE].poly.centroid
            else:
                c = None
            site = self.near(c.x, c.y, 600.0, (5.0, 9.0)) if c is not None else self.on_road((5.0, 9.0), ("main",))
            road = site.road.zh  # type: ignore[union-attr]
            name, category, busy = f"{road}泊位 {self.label(road + 'PS'):04d}", "onStreet", 0.85 if c else 0.6
        self.emit(
            "ParkingSpot",
            site,
            name,
            {
                "status": _prop("occupied" if rng.random() < busy else "free", observed=ts),
                "category": _prop([category]),
                "width": _prop(2.5, "MTR"),
                "length": _prop(5.3 if category == "offStreet" else 6.0, "MTR"),
                **extra,
            },
            battery=True,
        )

    def traffic(self) -> None:
        rng = self.rng
        end = _REF - timedelta(seconds=self.rng.randint(0, 240))
        ts = _iso(end)
        site = self.on_road((2.0, 9.0), ("main",))
        road = site.road.zh  # type: ignore[union-attr]
        occupancy = rng.uniform(0.05, 0.65)
        speed = max(6.0, 52.0 * (1 - occupancy) + rng.uniform(-6, 6))
        intensity = max(4, round(occupancy * 160 + rng.uniform(-10, 20)))
        self.emit(
            "TrafficFlowObserved",
            site,
            f"{road}车流检测 {self.label(road + 'TF'):03d}",
            {
                "intensity": _prop(intensity, observed=ts),
                "occupancy": _prop(round(occupancy, 2), observed=ts),
                "averageVehicleSpeed": _prop(round(speed, 1), "KMH", ts),
                "averageVehicleLength": _prop(round(rng.uniform(4.3, 5.6), 2), "MTR", ts),
                "averageHeadwayTime": _prop(round(300 / intensity, 1), "SEC", ts),
                "congested": _prop(speed < 15, observed=ts),
                "laneId": _prop(rng.randint(1, 4)),
                "laneDirection": _prop(rng.choice(("forward", "backward"))),
                "dateObserved": _prop(ts),
                "dateObservedFrom": _prop(_iso(end - timedelta(minutes=5))),
                "dateObservedTo": _prop(ts),
                "address": _address(road),
            },
        )

    def crowd(self, unit_id: str, count_range: tuple[int, int]) -> None:
        rng = self.rng
        end = _REF - timedelta(seconds=self.rng.randint(0, 240))
        ts = _iso(end)
        site = self.in_unit(unit_id)
        unit = self.geo.unit_by_id[unit_id]
        people = rng.randint(*count_range)
        occupancy = min(0.95, people / count_range[1] * rng.uniform(0.55, 0.85))
        towards = round(people * rng.uniform(0.4, 0.6))
        self.emit(
            "CrowdFlowObserved",
            site,
            f"{unit.spec.zh}客流计数 {self.label(unit_id):02d}",
            {
                "peopleCount": _prop(people, observed=ts),
                "peopleCountTowards": _prop(towards, observed=ts),
                "peopleCountAway": _prop(people - towards, observed=ts),
                "occupancy": _prop(round(occupancy, 2), observed=ts),
                "averageCrowdSpeed": _prop(round(4.6 - 3.2 * occupancy + rng.uniform(-0.3, 0.3), 1), "KMH", ts),
                "averageHeadwayTime": _prop(round(300 / people, 2), "SEC", ts),
                "congested": _prop(occupancy > 0.6, observed=ts),
                "direction": _prop(rng.choice(("inbound", "outbound"))),
                "dateObserved": _prop(ts),
                "dateObservedFrom": _prop(_iso(end - timedelta(minutes=5))),
                "dateObservedTo": _prop(ts),
            },
        )

    def air_quality(self, grid: _Grid) -> None:
        rng = self.rng
        ts = self._ts()
        site = self.in_polygon(grid.poly)
        pm25 = max(8.0, rng.gauss(38, 9))
        pm10 = pm25 * rng.uniform(1.3, 1.7)
        aqi = round(max(_iaqi(pm25, _PM25_BREAKS), _iaqi(pm10, _PM10_BREAKS)))
        level = next(name for top, name in _AQ_LEVELS if aqi <= top)
        self.emit(
            "AirQualityObserved",
            site,
            f"空气质量微站 {grid.code}-{self.label(grid.code + 'AQ')}",
            {
                "pm25": _prop(round(pm25, 1), "GQ", ts),
                "pm10": _prop(round(pm10, 1), "GQ", ts),
                "no2": _prop(round(rng.uniform(28, 62), 1), "GQ", ts),
                "o3": _prop(round(rng.uniform(40, 95), 1), "GQ", ts),
                "so2": _prop(round(rng.uniform(5, 12), 1), "GQ", ts),
                "co": _prop(round(rng.uniform(0.5, 1.0), 2), "GP", ts),
                "airQualityIndex": _prop(aqi, observed=ts),
                "airQualityLevel": _prop(level, observed=ts),
                "temperature": _prop(round(rng.uniform(14.0, 16.5), 1), "CEL", ts),
                "relativeHumidity": _prop(round(rng.uniform(0.6, 0.74), 2), observed=ts),
                "typeofLocation": _prop("outdoor"),
                "areaServed": _prop(grid.street.spec.zh),
                "dateObserved": _prop(ts),
            },
        )

    def noise(self, grid: _Grid) -> None:
        rng = self.rng
        end = _REF - timedelta(seconds=self.rng.randint(0, 240))
        ts = _iso(end)
        site = self.in_polygon(grid.poly)
        laeq = rng.uniform(52, 66) + (6 if site.unit is not None else 0)
        self.emit(
            "NoiseLevelObserved",
            site,
            f"噪声监测点 {grid.code}-{self.label(grid.code + 'NL')}",
            {
                "LAeq": _prop(round(laeq, 1), "2N", ts),
                "LAmax": _prop(round(laeq + rng.uniform(8, 20), 1), "2N", ts),
                "LAS": _prop(round(laeq + rng.uniform(-3, 5), 1), "2N", ts),
                "sonometerClass": _prop("1"),
                "dateObservedFrom": _prop(_iso(end - timedelta(minutes=5))),
                "dateObservedTo": _prop(ts),
            },
        )

    def flood(self) -> None:
        rng = self.rng
        ts = self._ts()
        r = rng.random()
        # the simulator's patterns decide from the device id which gauges stand on roads: agree with them
        if not is_road_gauge(f"HP-{_ABBR['FloodMonitoring']}-{self.serial['FloodMonitoring'] + 1:05d}"):
            river = "黄浦江" if r < 0.8 else "苏州河"
            site = self.by_river(river, (12.0, 60.0))
            # tide levels on the Wusong datum: warning 4.80 m at Huangpu Park, lower up Suzhou Creek
            alert, danger = (4.8, 5.5) if river == "黄浦江" else (4.2, 4.8)
            current, reference = rng.uniform(2.4, 3.9), 8.0
            name = f"{river}防汛墙水位监测 {self.label(river + 'FM'):02d}"
        else:
            site = self.on_road((0.0, 4.0), ("main",))
            # road waterlogging: water depth on the carriageway, 15 cm stops traffic
            alert, danger = 0.15, 0.25
            current, reference = 0.0, 2.5
            name = f"{site.road.zh}积水监测 {self.label('积水'):02d}"  # type: ignore[union-attr]
        current = round(current, 2)
        status = "Danger" if current >= danger else "Alert" if current >= alert else "Normal"
        self.emit(
            "FloodMonitoring",
            site,
            name,
            {
                "currentLevel": _prop(current, "MTR", ts),
                "measuredDistance": _prop(round(reference - current, 2), "MTR", ts),
                "referenceLevel": _prop(reference, "MTR"),
                "alertLevel": _prop(alert, "MTR"),
                "dangerLevel": _prop(danger, "MTR"),
                "floodLevelStatus": _prop(status, observed=ts),
                "stationID": _prop(f"HP-FM-{self.serial['FloodMonitoring'] + 1:05d}"),
                "observationDateTime": _prop(ts),
            },
        )

    def water_quality(self) -> None:
        rng = self.rng
        ts = self._ts()
        river = "黄浦江" if rng.random() < 0.6 else "苏州河"
        site = self.by_river(river, (10.0, 40.0))
        creek = river == "苏州河"
        self.emit(
            "WaterQualityObserved",
            site,
            f"{river}水质监测站 {self.label(river + 'WQ'):02d}",
            {
                "temperature": _prop(round(rng.uniform(16.5, 18.5), 1), "CEL", ts),
                "pH": _prop(round(rng.uniform(7.2, 7.8), 2), observed=ts),
                "O2": _prop(round(rng.uniform(4.0, 6.0) if creek else rng.uniform(6.0, 8.0), 2), "M1", ts),
                "conductivity": _prop(round(rng.uniform(450, 680)), "G42", ts),
                "turbidity": _prop(round(rng.uniform(12, 45), 1), observed=ts),
                "NH4": _prop(round(rng.uniform(0.4, 1.0) if creek else rng.uniform(0.15, 0.6), 2), "M1", ts),
                "P-TOT": _prop(round(rng.uniform(0.08, 0.22), 3), "M1", ts),
                "cod": _prop(round(rng.uniform(12, 22), 1), "M1", ts),
                "dateObserved": _prop(ts),
            },
        )

    def weather(self, street: _Street) -> None:
        rng = self.rng
        ts = self._ts()
        grid = next(g for g in self.geo.grids if g.street is street)
        site = self.in_polygon(grid.poly)
        temperature = rng.uniform(14.5, 16.0)
        humidity = rng.uniform(0.6, 0.7)
        self.emit(
            "WeatherObserved",
            site,
            f"{street.spec.zh}气象站",
            {
                "temperature": _prop(round(temperature, 1), "CEL", ts),
                "relativeHumidity": _prop(round(humidity, 2), observed=ts),
                "dewPoint": _prop(round(temperature - (1 - humidity) * 20, 1), "CEL", ts),
                "atmosphericPressure": _prop(round(rng.uniform(1019, 1023), 1), "A97", ts),
                "windSpeed": _prop(round(rng.uniform(1.5, 4.0), 1), "MTS", ts),
                "windDirection": _prop(rng.randint(20, 70), "DD", ts),
                "precipitation": _prop(0.0, "MMT", ts),
                "solarRadiation": _prop(round(rng.uniform(120, 220)), "D54", ts),
                "uVIndexMax": _prop(rng.choice((2, 3)), observed=ts),
                "dateObserved": _prop(ts),
            },
        )

    def building_tilt(self, building: dict[str, Any]) -> None:
        # tilt meters sit on old low-rise lane houses (里弄) and buildings next to deep excavations
        ts = self._ts()
        site = self._building_site(building)
        tilt_x, tilt_y = round(self.rng.gauss(0, 0.08), 3), round(self.rng.gauss(0, 0.08), 3)
        self.emit(
            "BuildingTilt",
            site,
            f"{building['name']['value']}倾斜监测",
            {
                "tiltX": _prop(tilt_x, "DD", ts),
                "tiltY": _prop(tilt_y, "DD", ts),
                "alertLevel": _prop(0.5, "DD"),  # a building leaning half a degree needs an engineer
                "refBuilding": _rel(building["id"]),
            },
            battery=True,
        )

    def smoke_detector(self, building: dict[str, Any]) -> None:
        ts = self._ts()
        site = self._building_site(building)
        self.emit(
            "SmokeDetector",
            site,
            f"{building['name']['value']}烟感 {self.label(building['id']):02d}",
            {
                "smoke": _prop(False, observed=ts),
                "temperature": _prop(round(self.rng.uniform(18, 26), 1), "CEL", ts),
                "refBuilding": _rel(building["id"]),
            },
            battery=True,
        )

    def _building_site(self, building: dict[str, Any]) -> _Site:
        point = shape(building["location"]["value"]).representative_point()
        site = self._site(point.x, point.y)
        if site is None:
            raise RuntimeError(f"building {building['id']} lies outside the district")
        return site


def _sensors(rng: random.Random, geo: _Geo, sensors: int, buildings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    s = _Sensors(rng, geo)
    counts = sensor_counts(sensors)
    for i in range(counts["WeatherObserved"]):
        s.weather(geo.streets[i % len(geo.streets)])
    for i in range(counts["AirQualityObserved"]):
        s.air_quality(geo.grids[i % len(geo.grids)])
    for i in range(counts["NoiseLevelObserved"]):
        s.noise(geo.grids[i % len(geo.grids)])
    weights = [w for _, w, _ in _CROWD]
    for _ in range(counts["CrowdFlowObserved"]):
        unit_id, _, people = rng.choices(_CROWD, weights)[0]
        s.crowd(unit_id, people)
    for _ in range(counts["TrafficFlowObserved"]):
        s.traffic()
    garages_near: list[tuple[str, _Site, str]] = []
    hubs = (XINTIANDI, PEOPLES_SQUARE, XINTIANDI, PEOPLES_SQUARE, YU_GARDEN, BUND, None, None, None, None)
    for i in range(counts["OffStreetParking"]):
        hub = hubs[i % len(hubs)]
        garage = s.off_street_parking(hub)
        if hub in (XINTIANDI, PEOPLES_SQUARE):
            garages_near.append(garage)
    for _ in range(counts["ParkingSpot"]):
        s.parking_spot(rng.choice(garages_near) if garages_near and rng.random() < 0.2 else None)
    for _ in range(counts["Streetlight"]):
        s.streetlight()
    for _ in range(counts["WasteContainer"]):
        s.waste_container()
    for _ in range(counts["FloodMonitoring"]):
        s.flood()
    for _ in range(counts["WaterQualityObserved"]):
        s.water_quality()
    low_rise = [b for b in buildings if b["floorsAboveGround"]["value"] <= 3] or buildings
    for _ in range(counts["BuildingTilt"]):
        s.building_tilt(rng.choice(low_rise))
    for _ in range(counts["SmokeDetector"]):
        s.smoke_detector(rng.choice(buildings))
    return s.devices + s.entities


# ---------------------------------------------------------------------------------------------
# Public API


def build_district(seed: int = 2026, sensors: int = 5200) -> list[dict[str, Any]]:
    """The demo district's NGSI-LD entities (normalized, core @context only), deterministic per seed.

    Returns one District, its 10 Streets, 50 Grids, 10 ManagementUnits, about 350 Buildings, then
    one Device per observed thing, then the observed things themselves. ``sensors`` counts the
    observed things (the 13 ``SENSOR_TYPES``, building tilt meters and smoke detectors among them):
    exactly ``max(sensors, 13)`` are made, every type at least once. Devices do not count toward
    ``sensors``: they come on top, one per observed thing, so the list holds about 2 × sensors +
    400 entities. The spatial hierarchy does not depend on
    the seed; the buildings, sensor positions and readings do.
    """
    rng = random.Random(seed)
    geo = _build_geography()
    buildings = _buildings(rng, geo)
    return _hierarchy(geo) + buildings + _sensors(rng, geo, sensors, buildings)


def district_summary(entities: list[dict[str, Any]]) -> dict[str, int]:
    """How many entities of each type, by type name."""
    return dict(sorted(Counter(e["type"] for e in entities).items()))
