"""Use cases of the twin package: the map's layers, the sensors' states, the management units and their
digital twin, and what-if runs. Reads the data hub, vitals, cases and iot through their service functions."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cityos import cases as cases
from cityos import context as hub
from cityos import iot as iot
from cityos import vitals as vitals
from cityos.cases import OPEN, State
from cityos.context import EntityQuery, EntityRow, NgsiLdError, core_term_map, entities_of_types, query_entities
from cityos.core.timefmt import now_iso, to_ms
from cityos.core.timefmt import now_ms as current_ms
from cityos.runtime import Runtime
from cityos.twin import layers, whatif
from cityos.twin.errors import NoHistory, NotAWhatIfInput, UnitNotFound, UnknownSensorType
from cityos.twin.schemas import (
    BuildingPublic,
    PeakPublic,
    PlaceNames,
    PlaceRef,
    SensorStatePublic,
    SeriesPublic,
    UnitIndicator,
    UnitInfo,
    UnitPublic,
    UnitTwinPublic,
    WhatIfAsked,
    WhatIfInput,
    WhatIfPublic,
    ZhEnText,
)
from cityos.vitals import DAY_MS, LEVEL_NAMES, Catalogue, Indicator

MAP_SECONDS = 60.0  # how long the map's layers are served from memory: geometries rarely change
ONLINE_SECONDS = 5.0  # how long the devices' online states are reused (reading 5,000 devices takes 0.1-0.2 s)
UNIT_TYPE = "ManagementUnit"
MAX_WARNINGS = 20
CLOSED_CASES = 10
OPEN_CASES = 500


@dataclass
class _Kept:
    """What the twin keeps in memory for a while, per tenant: the map's layers, the devices' online states."""

    maps: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    online: dict[str, tuple[float, dict[str, bool | None]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _kept(rt: Runtime) -> _Kept:
    return rt.parts.get(_Kept, _Kept)


# --- the map ----------------------------------------------------------------------------------------


def district_map(rt: Runtime, tenant: str) -> dict[str, Any]:
    """The district, streets, grids, units and buildings as GeoJSON layers with the district's bbox,
    kept in memory for MAP_SECONDS per tenant (``forget_map`` drops it)."""
    kept = _kept(rt)
    now = time.monotonic()
    with kept.lock:
        held = kept.maps.get(tenant)
    if held is not None and held[0] > now:
        return held[1]
    tm = core_term_map()
    kinds = {tm.expand(t): t for t in layers.KINDS}
    rows = entities_of_types(rt, tenant, list(layers.KINDS), tm)
    data = layers.district_map(((r.id, next(kinds[t] for t in r.types if t in kinds), r.attrs) for r in rows), tm)
    with kept.lock:
        kept.maps[tenant] = (now + MAP_SECONDS, data)
    return data


def forget_map(rt: Runtime, tenant: str | None = None) -> None:
    """Drop the layers and online states kept in memory (of one tenant, or all): the next call reads anew."""
    kept = _kept(rt)
    with kept.lock:
        for cache in (kept.maps, kept.online):
            if tenant is None:
                cache.clear()
            else:
                cache.pop(tenant, None)


def _features(rt: Runtime, tenant: str, layer: str) -> list[dict[str, Any]]:
    return district_map(rt, tenant)["layers"][layer]["features"]


# --- sensors ----------------------------------------------------------------------------------------


def online_by_thing(rt: Runtime, tenant: str) -> dict[str, bool | None]:
    """Whether each provisioned device is online (None: never heard from), by the thing it feeds; read
    again after ONLINE_SECONDS (device health itself is written about once a second)."""
    kept = _kept(rt)
    now = time.monotonic()
    with kept.lock:
        held = kept.online.get(tenant)
    if held is not None and held[0] > now:
        return held[1]
    devices, _total = iot.list_devices(rt, tenant=tenant, limit=1_000_000)
    found = {d.entity_id: h.online for d, h in devices}
    with kept.lock:
        kept.online[tenant] = (now + ONLINE_SECONDS, found)
    return found


def sensors(rt: Runtime, tenant: str, type_name: str | None = None) -> dict[str, Any]:
    """Every sensor thing as a compact row (``fields``), its type an index into ``types``; of one type
    when ``type_name`` is given. ``online`` is None for a thing no provisioned device feeds."""
    kinds = layers.SENSOR_KINDS
    if type_name is not None and type_name not in layers.SENSOR_BY_TYPE:
        raise UnknownSensorType(
            f"{type_name!r} is not a sensor type of the twin: one of {', '.join(k.type for k in kinds)}"
        )
    wanted = [k.type for k in kinds if type_name in (None, k.type)]
    tm = core_term_map()
    at = now_iso()
    online = online_by_thing(rt, tenant)
    index = {tm.expand(k.type): n for n, k in enumerate(kinds)}
    rows = []
    for r in entities_of_types(rt, tenant, wanted, tm):
        n = next((index[t] for t in r.types if t in index), None)
        if n is not None and (row := layers.sensor_row(r.id, n, r.attrs, online.get(r.id), tm)) is not None:
            rows.append(row)
    return {"at": at, "types": [k.public() for k in kinds], "fields": list(layers.SENSOR_FIELDS), "sensors": rows}


# --- units ------------------------------------------------------------------------------------------


def units(rt: Runtime, tenant: str) -> list[UnitPublic]:
    """The minimum management units with the worst active warning level of each."""
    worst = vitals.places(rt, tenant).units
    out = []
    for f in _features(rt, tenant, "units"):
        p = f["properties"]
        level = worst.get(p["id"], 0)
        out.append(UnitPublic(id=p["id"], name=p["name"], category=p.get("category"), grid=p.get("grid"),
                              street=p.get("street"), level=level, levelName=_level_name(level)))  # fmt: skip
    return out


def _level_name(level: int) -> str:
    return LEVEL_NAMES[level][0] if level in LEVEL_NAMES else "none"


def _entity(rt: Runtime, tenant: str, entity_id: str) -> EntityRow | None:
    try:
        return hub.get_entity(rt, tenant, entity_id)
    except NgsiLdError:
        return None


def _unit_row(rt: Runtime, tenant: str, unit_id: str) -> EntityRow:
    row = _entity(rt, tenant, unit_id)
    if row is None or core_term_map().expand(UNIT_TYPE) not in row.types:
        raise UnitNotFound(f"there is no management unit {unit_id!r}: GET /twin/units lists them")
    return row


def _place(rt: Runtime, tenant: str, layer: str, place_id: Any) -> PlaceRef | None:
    """A grid or street with its names, from the map's layers (read from the hub if not there yet)."""
    if not isinstance(place_id, str):
        return None
    for f in _features(rt, tenant, layer):
        if f["id"] == place_id:
            return PlaceRef(id=place_id, name=f["properties"]["name"])
    row = _entity(rt, tenant, place_id)
    return PlaceRef(id=place_id, name=PlaceNames(**layers.names(row.attrs if row else {}, core_term_map())))


def _unit_info(rt: Runtime, tenant: str, unit_id: str, row: EntityRow) -> UnitInfo:
    tm = core_term_map()
    a = row.attrs
    return UnitInfo(
        id=unit_id,
        name=PlaceNames(**layers.names(a, tm)),
        category=layers.value(a, tm.expand("category")),
        address=layers.value(a, tm.expand("address")),
        walkableArea=layers.value(a, tm.expand("walkableArea")),
        location=layers.value(a, tm.expand("location")),
        grid=_place(rt, tenant, "grids", layers.value(a, tm.expand("refGrid"))),
        street=_place(rt, tenant, "streets", layers.value(a, tm.expand("refStreet"))),
    )


def unit_twin(
    rt: Runtime, tenant: str, unit_id: str, *, with_cases: bool = True, department: str | None = None
) -> UnitTwinPublic:
    """A unit's digital twin: what it is, its buildings, its sensors' states, its indicators now, its
    warnings and cases, and the what-if runs it offers. ``department``: only that department's cases."""
    row = _unit_row(rt, tenant, unit_id)
    tm = core_term_map()
    buildings = [
        BuildingPublic(id=f["id"], name=p["name"], category=p.get("category"), floors=p.get("floors"))
        for f in _features(rt, tenant, "buildings")
        if (p := f["properties"]).get("unit") == unit_id
    ]
    things = _unit_sensors(rt, tenant, unit_id)
    online = online_by_thing(rt, tenant) if things else {}
    states = [SensorStatePublic(**layers.sensor_state(r.id, t, r.attrs, online.get(r.id), tm)) for t, r in things]
    cat = vitals.catalogue(rt, tenant)
    return UnitTwinPublic(
        unit=_unit_info(rt, tenant, unit_id, row),
        buildings=buildings,
        sensors=states,
        sensorCounts=layers.counts_by_type([t for t, _ in things]),
        indicators=_indicators(rt, tenant, cat, unit_id),
        warnings=_warnings(rt, tenant, unit_id),
        cases=_cases(rt, tenant, unit_id, department) if with_cases else [],
        whatIf=[
            WhatIfInput(indicator=ind.id, name=_names(ind), affects=affects)
            for ind, affects in whatif.what_if_inputs(cat, unit_id)
        ],
    )


def _names(ind: Indicator) -> ZhEnText:
    return ZhEnText(zh=ind.name.zh, en=ind.name.en)


def _unit_sensors(rt: Runtime, tenant: str, unit_id: str) -> list[tuple[str, EntityRow]]:
    """(type name, entity) of the sensor things in the unit, in SENSOR_KINDS order."""
    tm = core_term_map()
    types = [k.type for k in layers.SENSOR_KINDS]
    query = EntityQuery(type=",".join(types), q=f'refUnit=="{unit_id}"', limit=1_000_000)
    rank = {tm.expand(t): n for n, t in enumerate(types)}
    found = []
    for r in query_entities(rt, tenant, query, tm).rows:
        n = min((rank[t] for t in r.types if t in rank), default=None)
        if n is not None:
            found.append((n, r))
    return [(types[n], r) for n, r in sorted(found, key=lambda x: x[0])]


def _indicators(rt: Runtime, tenant: str, cat: Catalogue, unit_id: str) -> list[UnitIndicator]:
    out = []
    for ind in whatif.unit_indicators(cat, unit_id):
        latest = vitals.history(rt, tenant, ind.id, unit_id, 0, 1)
        last = latest[-1] if latest else None
        level = last.level if last else 0
        out.append(UnitIndicator(
            id=ind.id,
            name=_names(ind),
            category=ind.category,
            unit=ind.unit,
            value=last.value if last else None,
            at=last.at if last else None,
            level=level,
            levelName=_level_name(level),
            hasForecast=ind.forecast is not None,
            thresholds=ind.thresholds,
        ))  # fmt: skip
    return out


def _warnings(rt: Runtime, tenant: str, unit_id: str) -> list[dict[str, Any]]:
    """The unit's warnings, active ones first (most severe first), then the latest cleared ones."""
    out: list[dict[str, Any]] = []
    for active in (True, False):
        if len(out) < MAX_WARNINGS:
            rows, _ = vitals.list_warnings(rt, tenant, active=active, indicator=None, scope=unit_id, min_level=None,
                                           limit=MAX_WARNINGS - len(out), offset=0)  # fmt: skip
            out += [w.model_dump() for w in rows]
    return out


def _cases(rt: Runtime, tenant: str, unit_id: str, department: str | None) -> list[dict[str, Any]]:
    """The unit's open cases (at most OPEN_CASES) and its last CLOSED_CASES closed ones, newest first."""
    out = []
    for states, most in ((list(OPEN), OPEN_CASES), ([State.CLOSED], CLOSED_CASES)):
        found, _total = cases.search(rt, tenant, most, 0, states=states, department=department, unit=unit_id)
        out += [c.model_dump(mode="json", by_alias=True) for c in found]
    return out


# --- what-if ----------------------------------------------------------------------------------------


def what_if(
    rt: Runtime, tenant: str, unit_id: str, indicator: str, change: float, minutes: int, now_ms: int | None = None
) -> WhatIfPublic:
    """What the unit's indicators would do if ``indicator`` ran ``change`` (a share: 0.5 is 50% more) off
    its forecast for the next ``minutes``: baseline and scenario per forecast step, with levels, the worst
    point and a sentence to read out."""
    _unit_row(rt, tenant, unit_id)
    now_ms = now_ms if now_ms is not None else current_ms()
    cat = vitals.catalogue(rt, tenant)
    inputs = {ind.id: ind for ind, _ in whatif.what_if_inputs(cat, unit_id)}
    ind = inputs.get(indicator)
    if ind is None:
        offered = ", ".join(inputs) or "none"
        raise NotAWhatIfInput(
            f"{indicator!r} cannot drive a what-if in {unit_id}: the inputs are the unit's base indicators with "
            f"a forecast ({offered}); GET /twin/units/{{id}} lists them under whatIf"
        )
    if not vitals.history(rt, tenant, indicator, unit_id, now_ms - vitals.HISTORY_DAYS * DAY_MS, 1):
        raise NoHistory(
            f"no history for {indicator} in {unit_id} yet: the forecast needs stored values of the indicator "
            f"from the last {vitals.HISTORY_DAYS} days, which come once its sensors report "
            f"(GET /vitals/indicators/{indicator}?scope={unit_id} shows them)"
        )
    fc = vitals.forecast_of(rt, tenant, cat, indicator, unit_id, now_ms)
    steps = [p.at for p in fc.points]
    steps_ms = [to_ms(s) for s in steps]
    steps_in = whatif.steps_within(minutes, fc.step_seconds * 1000, len(steps))
    others = {n: _latest(rt, tenant, cat, n, unit_id) for n in whatif.outside_inputs(cat, indicator, unit_id)}
    tracks = whatif.run(cat, indicator, [p.mean for p in fc.points], change, steps_in, others=others,
                        unit_id=unit_id)  # fmt: skip
    worst = whatif.peak(cat, tracks)
    summary = whatif.summary(cat, indicator, change, minutes, worst, steps_ms, _baseline_level(tracks, worst))
    return WhatIfPublic(
        unit=unit_id,
        input=WhatIfAsked(indicator=indicator, name=_names(ind), change=change, minutes=minutes),
        steps=steps,
        series=[_series(cat, t) for t in tracks],
        peak=_peak(worst, steps),
        summary=ZhEnText(**summary),
    )


def _latest(rt: Runtime, tenant: str, cat: Catalogue, indicator: str, unit_id: str) -> float | None:
    scope = unit_id if cat.by_id[indicator].scope.level == "unit" else "district"
    rows = vitals.history(rt, tenant, indicator, scope, 0, 1)
    return rows[-1].value if rows else None


def _rounded(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 4) for v in values]


def _baseline_level(tracks: Sequence[whatif.Track], worst: whatif.Peak | None) -> int:
    """The worst level the peak's indicator reaches in the baseline, for the summary."""
    if worst is None:
        return 0
    return max((max(t.baseline_levels, default=0) for t in tracks if t.indicator == worst.indicator), default=0)


def _series(cat: Catalogue, t: whatif.Track) -> SeriesPublic:
    ind = cat.by_id[t.indicator]
    return SeriesPublic(
        indicator=t.indicator,
        name=_names(ind),
        unit=ind.unit,
        baseline=_rounded(t.baseline),
        scenario=_rounded(t.scenario),
        baselineLevels=t.baseline_levels,
        scenarioLevels=t.scenario_levels,
        thresholds=ind.thresholds,
    )


def _peak(p: whatif.Peak | None, steps: list[str]) -> PeakPublic | None:
    if p is None:
        return None
    zh = LEVEL_NAMES[p.level][1] if p.level in LEVEL_NAMES else "无"
    return PeakPublic(indicator=p.indicator, at=steps[p.step], value=round(p.value, 4), level=p.level,
                      levelName=_level_name(p.level), levelZh=zh)  # fmt: skip
