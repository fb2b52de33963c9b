"""API shapes of the twin package: what a what-if run takes, and what the map, the sensors, the units, a
unit's twin and a what-if run answer.

Values read from the city's entities (a unit's address, a building's category) come as the entities hold
them, so their members are typed loosely; the warnings and cases of a unit are those of the vitals and
cases packages, as their own routes give them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cityos.core.answers import Number, Omittable
from cityos.vitals import Thresholds

# --- what a what-if run takes -------------------------------------------------------------------------


class WhatIfCreate(BaseModel):
    indicator: str = Field(..., min_length=1, max_length=64, description="A base indicator of the unit (whatIf).")
    change: float = Field(..., ge=-0.9, le=5, description="Relative change of the input: 0.5 is 50% more.")
    minutes: int = Field(60, ge=5, le=240, description="For how long from now the change holds.")


# --- names ------------------------------------------------------------------------------------------


class ZhEnText(BaseModel):
    """A text in Chinese and in English."""

    zh: str
    en: str


class PlaceNames(BaseModel):
    """A place's names as its entity gives them (either may be missing)."""

    zh: str | None
    en: str | None


# --- the map and the sensors (served as they are computed; these models describe them) ----------------


class _Described(BaseModel):
    # these shapes are not used to send the answers, only to describe them: a test checks the answers
    # against them, and an unexpected member fails it
    model_config = ConfigDict(extra="forbid")


class MapFeatureProperties(_Described):
    id: str
    kind: Literal["district", "street", "grid", "unit", "building"]
    name: PlaceNames
    code: Omittable[Any] = Field(None, description="The place's code, when it has one.")
    street: Omittable[str] = Field(None, description="The street it lies in (grids, units, buildings).")
    grid: Omittable[str] = Field(None, description="The grid it lies in (units, buildings).")
    unit: Omittable[str] = Field(None, description="The management unit it lies in (buildings).")
    category: Any = Field(None, description="Units and buildings: what kind of place it is.")
    walkableArea: Any = Field(None, description="Units: the area people walk on, m².")
    floors: Any = Field(None, description="Buildings: floors above ground.")
    height: float | None = Field(None, description="Buildings: an estimated height to draw, m.")


class MapFeature(_Described):
    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any] = Field(..., description="A GeoJSON geometry.")
    properties: MapFeatureProperties


class MapFeatureCollection(_Described):
    type: Literal["FeatureCollection"]
    features: list[MapFeature]


class MapLayers(_Described):
    district: MapFeatureCollection
    streets: MapFeatureCollection
    grids: MapFeatureCollection
    units: MapFeatureCollection
    buildings: MapFeatureCollection


class MapPublic(_Described):
    """The district's hierarchy as GeoJSON layers."""

    bbox: list[float] | None = Field(..., description="[minLon, minLat, maxLon, maxLat]; null with nothing to draw.")
    layers: MapLayers


class SensorKindPublic(_Described):
    type: str = Field(..., description="The entity type of the observed thing.")
    attr: str = Field(..., description="The attribute the map shows for it.")
    unit: str = Field(..., description="How its values are shown (empty: a state word or a boolean).")
    name: ZhEnText


class SensorsPublic(_Described):
    """Every sensor thing as a compact row: its members are named once, in ``fields``."""

    at: str = Field(..., description="When the rows were read.")
    types: list[SensorKindPublic] = Field(..., description="The sensor types; a row's type is an index into it.")
    fields: list[str] = Field(..., description="What each row holds: id, type, lon, lat, value, online, unit, grid.")
    sensors: list[list[Any]] = Field(
        ..., description="One row per sensor; online is null for a thing no provisioned device feeds."
    )


# --- units and a unit's twin --------------------------------------------------------------------------


class UnitPublic(BaseModel):
    """A minimum management unit and its worst active warning level (0: none)."""

    id: str
    name: PlaceNames
    category: Any
    grid: str | None
    street: str | None
    level: int
    levelName: str


class PlaceRef(BaseModel):
    id: str
    name: PlaceNames


class UnitInfo(BaseModel):
    """What a unit is, as its entity says."""

    id: str
    name: PlaceNames
    category: Any
    address: Any = Field(..., description="A PostalAddress (streetAddress …), as the entity holds it.")
    walkableArea: Any = Field(..., description="The area people walk on, m².")
    location: Any = Field(..., description="A GeoJSON geometry.")
    grid: PlaceRef | None
    street: PlaceRef | None


class BuildingPublic(BaseModel):
    id: str
    name: PlaceNames
    category: Any
    floors: Any


class SensorStatePublic(BaseModel):
    """One sensor of a unit: its main value, when it was observed, whether its device is online."""

    id: str
    type: str
    name: str | None
    attr: str
    value: Any
    unit: str
    observedAt: str | None
    online: bool | None = Field(..., description="null for a thing no provisioned device feeds.")


class UnitIndicator(BaseModel):
    """An indicator of the unit and its latest value."""

    id: str
    name: ZhEnText
    category: str
    unit: str
    value: Number | None
    at: str | None
    level: int
    levelName: str
    hasForecast: bool
    thresholds: Thresholds | None


class WhatIfInput(BaseModel):
    """A base indicator that can drive a what-if run, and the derived indicators it affects."""

    indicator: str
    name: ZhEnText
    affects: list[str]


class UnitTwinPublic(BaseModel):
    """A unit's digital twin."""

    unit: UnitInfo
    buildings: list[BuildingPublic]
    sensors: list[SensorStatePublic]
    sensorCounts: dict[str, int] = Field(..., description="How many sensors of each type.")
    indicators: list[UnitIndicator]
    warnings: list[dict[str, Any]] = Field(
        ..., description="Its warnings, active ones first, as GET /vitals/warnings gives them."
    )
    cases: list[dict[str, Any]] = Field(
        ..., description="Its open cases and latest closed ones, as GET /cases gives them (none without cases:read)."
    )
    whatIf: list[WhatIfInput]


# --- a what-if run ----------------------------------------------------------------------------------


class WhatIfAsked(BaseModel):
    indicator: str
    name: ZhEnText
    change: float
    minutes: int


class SeriesPublic(BaseModel):
    """One indicator over the forecast steps, without (baseline) and with (scenario) the change."""

    indicator: str
    name: ZhEnText
    unit: str
    baseline: list[Number | None]
    scenario: list[Number | None]
    baselineLevels: list[int]
    scenarioLevels: list[int]
    thresholds: Thresholds | None


class PeakPublic(BaseModel):
    """The worst point of the scenario."""

    indicator: str
    at: str
    value: Number
    level: int
    levelName: str
    levelZh: str


class WhatIfPublic(BaseModel):
    """What the unit's indicators would do with the change."""

    unit: str
    input: WhatIfAsked
    steps: list[str] = Field(..., description="The forecast steps' times.")
    series: list[SeriesPublic]
    peak: PeakPublic | None = Field(..., description="null when no step has a value.")
    summary: ZhEnText
