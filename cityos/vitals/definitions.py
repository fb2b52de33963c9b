"""Indicator definitions: validated data (YAML or JSON), checked one by one and as a whole.

An indicator is either a base indicator, aggregated from an attribute of entities over a window and
grouped by a spatial scope, or a derived one, a formula over other indicators and named constants.
Thresholds give the four national warning levels 蓝 (IV), 黄 (III), 橙 (II), 红 (I) with a direction,
a hysteresis and a minimum duration. A bad definition is refused with a message that names the
indicator and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cityos.core.answers import Omittable
from cityos.core.durations import MAX_DAYS
from cityos.core.durations import parse_duration as core_duration
from cityos.core.yamltext import parse_yaml
from cityos.vitals.errors import InvalidDefinition, InvalidFormula
from cityos.vitals.formula import Formula, parse

# category id -> (中文, English); the plans' vital-sign categories
CATEGORIES: dict[str, tuple[str, str]] = {
    "crowds": ("人员活动", "Crowds"),
    "traffic": ("交通", "Traffic"),
    "environment": ("生态环境", "Environment"),
    "water": ("水务", "Water"),
    "structural": ("安全监测", "Structural safety"),
    "fire": ("消防", "Fire"),
    "facilities": ("设施设备", "Facilities"),
    "energy": ("能源", "Energy"),
    "parking": ("停车", "Parking"),
    "weather": ("气象", "Weather"),
    "plan": ("规划主要指标", "Plan indicators"),  # the digital transformation plans' own figures (cityos.plans)
}
LEVELS = ("blue", "yellow", "orange", "red")  # 蓝 IV, 黄 III, 橙 II, 红 I: rising severity
AGGREGATIONS = ("avg", "sum", "min", "max", "count", "p95", "rate", "distinct")
SCOPE_LEVELS = ("unit", "grid", "street", "district", "polygon")
ID_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"  # also a name in formulas


def parse_duration(text: Any) -> timedelta:
    """``90s``, ``5m``, ``1h30m``, ``7d``, ISO 8601 ``PT5M``, or a number of seconds; raises ValueError."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if not 0 <= text <= MAX_DAYS * 86_400:  # NaN and infinities too
            raise ValueError(f"{text!r} seconds is not a duration from 0 to {MAX_DAYS:,} days")
        return timedelta(seconds=float(text))
    return core_duration(text)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Names(_Strict):
    zh: str = Field(..., min_length=1, max_length=100)
    en: str = Field(..., min_length=1, max_length=200)


class Source(_Strict):
    entityType: str = Field(..., min_length=1, max_length=256)
    attr: str = Field(..., min_length=1, max_length=256, description="The attribute aggregated.")
    q: Omittable[str] = Field(None, max_length=1000, description="NGSI-LD q filter on the source entities.")


class Scope(_Strict):
    level: Literal["unit", "grid", "street", "district", "polygon"]
    ids: Omittable[tuple[str, ...]] = Field(None, description="Only these units, grids or streets.")
    polygon: Omittable[dict[str, Any]] = Field(None, description="GeoJSON Polygon, for level polygon.")

    @model_validator(mode="after")
    def _shape(self) -> Scope:
        if self.level == "polygon":
            if not self.polygon or self.polygon.get("type") != "Polygon" or not self.polygon.get("coordinates"):
                raise ValueError("level polygon needs polygon: a GeoJSON Polygon")
        elif self.polygon is not None:
            raise ValueError("polygon applies to level polygon only")
        if self.ids is not None and (self.level in ("district", "polygon") or not self.ids):
            raise ValueError("ids lists units, grids or streets: a non-empty list, for those levels only")
        return self


class Window(_Strict):
    kind: Literal["tumbling", "sliding"] = "sliding"
    duration: timedelta

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> timedelta:
        d = parse_duration(v)
        if not timedelta(seconds=1) <= d <= timedelta(days=31):
            raise ValueError("must be between 1s and 31d")
        return d


class Thresholds(_Strict):
    direction: Literal["above", "below"] = "above"
    blue: Omittable[float] = None
    yellow: Omittable[float] = None
    orange: Omittable[float] = None
    red: Omittable[float] = None
    hysteresis: float = Field(
        0.0, ge=0, description="How far back past a threshold a value must go to lower the level."
    )
    minDuration: timedelta = Field(timedelta(0), description="How long a new level must hold before it counts.")

    @field_validator("minDuration", mode="before")
    @classmethod
    def _min_duration(cls, v: Any) -> timedelta:
        d = parse_duration(v)
        if d > timedelta(days=1):
            raise ValueError("must be at most 1d")
        return d

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        given = [(name, getattr(self, name)) for name in LEVELS if getattr(self, name) is not None]
        if not given:
            raise ValueError("give at least one of blue, yellow, orange, red")
        for (lo_name, lo), (hi_name, hi) in pairwise(given):
            if self.direction == "above" and not lo < hi:
                raise ValueError(f"{hi_name} ({hi}) must be above {lo_name} ({lo}) when direction is above")
            if self.direction == "below" and not lo > hi:
                raise ValueError(f"{hi_name} ({hi}) must be below {lo_name} ({lo}) when direction is below")
        return self

    def levels(self) -> list[tuple[int, float]]:
        """(level 1..4, threshold) for the levels given, rising severity."""
        return [(n, v) for n, name in enumerate(LEVELS, 1) if (v := getattr(self, name)) is not None]


class Forecast(_Strict):
    horizon: timedelta
    seasonality: tuple[Literal["daily", "weekly"], ...] = ("daily",)
    refresh: timedelta = timedelta(minutes=5)

    @field_validator("horizon", "refresh", mode="before")
    @classmethod
    def _durations(cls, v: Any) -> timedelta:
        d = parse_duration(v)
        if not timedelta(minutes=1) <= d <= timedelta(days=7):
            raise ValueError("must be between 1m and 7d")
        return d


class PhysicalRange(_Strict):
    """The values a quantity can take at all (a count or a density is never below 0, a share is within
    0..1): forecasts and their intervals are kept inside it."""

    min: Omittable[float] = None
    max: Omittable[float] = None

    @model_validator(mode="after")
    def _ordered(self) -> PhysicalRange:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


# What a unit says about the values' range, when an indicator declares none: (test on the unit, min, max),
# the first that matches. Counts, densities, concentrations, depths, speeds and powers are never negative.
_UNIT_RANGES: tuple[tuple[str, float | None, float | None], ...] = (
    ("share", 0.0, 1.0),
    ("0–1", 0.0, 1.0),
    ("0-1", 0.0, 1.0),
    ("%", 0.0, 100.0),
    ("pH", 0.0, 14.0),
    ("persons", 0.0, None),
    ("/m²", 0.0, None),
    ("/m³", 0.0, None),
    ("mm", 0.0, None),
    ("km/h", 0.0, None),
    ("m/s", 0.0, None),
    ("W", 0.0, None),
    ("NTU", 0.0, None),
    ("dB", 0.0, None),
)
_COUNT_UNITS = re.compile(r"^[a-z ]+s$")  # a plural noun: bins, detectors, readings, reports, alarms
_NON_NEGATIVE_AGGREGATIONS = ("count", "distinct")


class Indicator(_Strict):
    id: str = Field(..., pattern=ID_PATTERN, description="Lower-case letters, digits and _; a name in formulas.")
    version: int = Field(1, ge=1)
    name: Names
    category: str
    unit: str = Field(..., min_length=1, max_length=32, description="How values are shown, e.g. persons/m², µg/m³.")
    description: Omittable[str] = Field(None, max_length=2000)
    source: Omittable[Source] = None
    aggregation: Omittable[Literal["avg", "sum", "min", "max", "count", "p95", "rate", "distinct"]] = None
    window: Omittable[Window] = None
    scope: Scope
    formula: Omittable[str] = Field(None, description="Derived: arithmetic over other indicators and constants.")
    constants: dict[str, float] = Field(default_factory=dict)
    thresholds: Omittable[Thresholds] = None
    forecast: Omittable[Forecast] = None
    physicalRange: Omittable[PhysicalRange] = Field(
        None, description="The values it can take (min, max); inferred from the unit when not given."
    )

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v not in CATEGORIES:
            raise ValueError(f"{v!r} is not a category: one of {', '.join(CATEGORIES)}")
        return v

    @field_validator("constants")
    @classmethod
    def _constant_names(cls, v: dict[str, float]) -> dict[str, float]:
        for name in v:
            if not re.match(ID_PATTERN, name):
                raise ValueError(f"constant name {name!r} must be lower-case letters, digits and _")
        return v

    @model_validator(mode="after")
    def _kind(self) -> Indicator:
        base = self.source is not None
        if base == (self.formula is not None):
            raise ValueError("give either source (with aggregation and window) or formula, not both or neither")
        if base and (self.aggregation is None or self.window is None):
            raise ValueError("a base indicator needs aggregation and window besides its source")
        if not base and (self.aggregation is not None or self.window is not None):
            raise ValueError("a derived indicator takes its window from its inputs: no aggregation or window")
        if base and self.constants:
            raise ValueError("constants belong to derived indicators")
        return self

    @property
    def derived(self) -> bool:
        return self.formula is not None

    def value_range(self) -> tuple[float | None, float | None]:
        """(min, max) of the values it can take (None: unbounded that way): the declared physicalRange,
        else what the unit or the aggregation says (counts, densities, shares …), else unbounded."""
        if self.physicalRange is not None:
            return self.physicalRange.min, self.physicalRange.max
        for word, lo, hi in _UNIT_RANGES:
            if word in self.unit:
                return lo, hi
        if self.aggregation in _NON_NEGATIVE_AGGREGATIONS or _COUNT_UNITS.match(self.unit):
            return 0.0, None
        return None, None

    def parsed_formula(self) -> Formula | None:
        return parse(self.formula) if self.formula is not None else None


class Catalogue:
    """A consistent set of indicator definitions, in an order where inputs come before what uses them."""

    def __init__(self, indicators: Iterable[Indicator]) -> None:
        self.by_id: dict[str, Indicator] = {}
        for ind in indicators:
            if ind.id in self.by_id:
                raise InvalidDefinition(f"indicator {ind.id!r} is defined twice")
            self.by_id[ind.id] = ind
        self.formulas: dict[str, Formula] = {}
        for ind in self.by_id.values():
            if ind.formula is not None:
                self.formulas[ind.id] = self._check_formula(ind)
        self.order = self._ordered()

    def _check_formula(self, ind: Indicator) -> Formula:
        where = f"indicator {ind.id!r}: formula"
        try:
            formula = parse(ind.formula or "")
        except InvalidFormula as exc:
            raise InvalidDefinition(f"{where}: {exc}") from None
        for name in sorted(formula.names):
            if name in ind.constants:
                continue
            used = self.by_id.get(name)
            if used is None:
                raise InvalidDefinition(f"{where}: {name!r} is neither an indicator nor one of its constants")
            if used.scope.level not in (ind.scope.level, "district"):
                raise InvalidDefinition(
                    f"{where}: {name!r} is grouped by {used.scope.level}, this indicator by {ind.scope.level}: "
                    "inputs must be grouped alike (or be district-wide)"
                )
        return formula

    def _ordered(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}  # 1: visiting, 2: done

        def visit(i: str, path: list[str]) -> None:
            if state.get(i) == 2:
                return
            if state.get(i) == 1:
                cycle = " → ".join([*path[path.index(i) :], i])
                raise InvalidDefinition(f"indicator {i!r}: its formula depends on itself ({cycle})")
            state[i] = 1
            f = self.formulas.get(i)
            for name in sorted(f.names if f else ()):
                if name in self.by_id and name not in self.by_id[i].constants:
                    visit(name, [*path, i])
            state[i] = 2
            order.append(i)

        for i in self.by_id:
            visit(i, [])
        return order

    def inputs_of(self, indicator_id: str) -> list[str]:
        """The indicators a derived indicator reads."""
        f = self.formulas.get(indicator_id)
        ind = self.by_id[indicator_id]
        return sorted(n for n in (f.names if f else ()) if n not in ind.constants)

    def __len__(self) -> int:
        return len(self.by_id)


def validate(doc: Any, *, where: str = "definition") -> Indicator:
    """One indicator from a mapping; raises InvalidDefinition naming the indicator and the field."""
    if not isinstance(doc, dict):
        raise InvalidDefinition(f"{where} is not a mapping of fields")
    name = f"indicator {doc['id']!r}" if isinstance(doc.get("id"), str) else where
    try:
        return Indicator.model_validate(doc)
    except ValidationError as exc:
        raise InvalidDefinition(f"{name}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        field = ".".join(str(p) for p in e.get("loc", ()))
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{field}: {msg}" if field else msg)
    return "; ".join(parts)


def load_catalogue(docs: Any, *, where: str = "definitions") -> Catalogue:
    """A catalogue from a list of mappings (or ``{"indicators": [...]}``)."""
    if isinstance(docs, dict) and "indicators" in docs:
        docs = docs["indicators"]
    if not isinstance(docs, list):
        raise InvalidDefinition(f"{where}: expected a list of indicators (or a mapping with 'indicators')")
    return Catalogue(validate(d, where=f"{where} item {n}") for n, d in enumerate(docs))


def load_yaml(path: Path) -> Catalogue:
    """A catalogue from a YAML file."""
    try:
        docs = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidDefinition(f"{path.name} is not valid YAML: {exc}") from None
    return load_catalogue(docs, where=path.name)
