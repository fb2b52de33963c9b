"""The plans' main indicators (主要指标) as data: each a vital-signs indicator, and for a base figure the function
of a package's face that gives it (``figure``). Validated here, whole: a figure names a package cityos has and a
function its face exports; the indicator is a valid vitals definition once the figure's source is filled in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cityos import cases, datahub, iot, onestop, opendata
from cityos.core.yamltext import parse_yaml
from cityos.plans.errors import InvalidPlanIndicator
from cityos.vitals import Catalogue, Indicator, InvalidDefinition, load_catalogue

SHIPPED = Path(__file__).with_name("indicators.yaml")
ENTITY_TYPE = "PlanFigures"
ENTITY_ID = f"urn:ngsi-ld:{ENTITY_TYPE}:district"
CATEGORY = "plan"
# The faces a figure may call: the packages whose data the plans' indicators count.
FACES: dict[str, ModuleType] = {"onestop": onestop, "cases": cases, "iot": iot, "datahub": datahub,
                                "opendata": opendata}  # fmt: skip
# What a figure's value is, filled in: the latest figure, over a window twice the runner's period.
FIGURE_SOURCE = {"aggregation": "avg", "window": {"kind": "sliding", "duration": "10m"}}


class Figure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    call: str = Field(..., pattern=r"^[a-z]+\.[a-z_]+$", description="package.function of a package's face")
    value: str | None = Field(None, pattern=r"^[a-z_][A-Za-z0-9_.]*$", description="attribute or key, dotted")
    days: int | None = Field(None, ge=1, le=366, description="the period: called with since=now - days")

    @property
    def package(self) -> str:
        return self.call.split(".")[0]

    def function(self) -> Callable[..., Any]:
        package, name = self.call.split(".")
        face = FACES.get(package)
        if face is None:
            raise ValueError(f"{package!r} is no package a figure may read: one of {', '.join(FACES)}")
        found = getattr(face, name, None) if name in getattr(face, "__all__", ()) else None
        if not callable(found):
            raise ValueError(f"cityos.{package} exports no function {name!r}")
        return found


class PlanIndicator(BaseModel):
    """An entry of the file: the vitals definition, the figure that feeds it (None: derived), the headline flag."""

    model_config = ConfigDict(frozen=True)

    indicator: Indicator
    figure: Figure | None
    headline: bool


def vitals_doc(entry: dict[str, Any]) -> dict[str, Any]:
    """The vitals definition of an entry: its own fields, the category, and for a figure its filled-in source."""
    doc = {k: v for k, v in entry.items() if k not in ("figure", "headline")}
    doc.setdefault("category", CATEGORY)
    doc.setdefault("scope", {"level": "district"})
    if "figure" in entry:
        doc = {**FIGURE_SOURCE, "source": {"entityType": ENTITY_TYPE, "attr": entry.get("id")}, **doc}
    return doc


def _entry(raw: Any, n: int) -> PlanIndicator:
    if not isinstance(raw, dict):
        raise InvalidPlanIndicator(f"item {n} is not a mapping of fields")
    name = f"plan indicator {raw.get('id')!r}"
    try:
        figure = Figure.model_validate(raw["figure"]) if "figure" in raw else None
        if figure is not None:
            figure.function()
        indicator = Indicator.model_validate(vitals_doc(raw))
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e.get("loc", ()))
        raise InvalidPlanIndicator(f"{name}: {where}: {str(e.get('msg')).removeprefix('Value error, ')}") from None
    except ValueError as exc:
        raise InvalidPlanIndicator(f"{name}: figure: {exc}") from None
    if indicator.category != CATEGORY:
        raise InvalidPlanIndicator(f"{name}: category must be {CATEGORY!r}")
    return PlanIndicator(indicator=indicator, figure=figure, headline=bool(raw.get("headline", False)))


def load(docs: Any, *, where: str = "plan indicators") -> list[PlanIndicator]:
    """The plan indicators of a list of entries (or ``{"indicators": [...]}``), checked one by one and together."""
    if isinstance(docs, dict):
        docs = docs.get("indicators")
    if not isinstance(docs, list):
        raise InvalidPlanIndicator(f"{where}: expected a list of indicators (or a mapping with 'indicators')")
    entries = [_entry(raw, n) for n, raw in enumerate(docs)]
    try:
        _together(entries)
    except InvalidDefinition as exc:  # the vitals catalogue's own refusal (a formula naming what is not there …)
        raise InvalidPlanIndicator(f"{where}: {exc.detail}") from None
    return entries


def _together(entries: list[PlanIndicator]) -> Catalogue:
    return load_catalogue([e.indicator.model_dump(mode="json", exclude_none=True) for e in entries])


@cache
def shipped() -> tuple[PlanIndicator, ...]:
    """The plan indicators cityos ships (cityos/plans/indicators.yaml)."""
    return tuple(load(parse_yaml(SHIPPED.read_text(encoding="utf-8")), where=SHIPPED.name))
