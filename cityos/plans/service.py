"""The plans' main indicators (主要指标) as the page shows them: each with its latest value and level from the
vital-signs engine, its target (the first threshold of its definition in force), its trend over the last days,
its source and its definition."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from cityos import vitals
from cityos.core.places import DISTRICT
from cityos.core.timefmt import now_ms as clock_ms
from cityos.plans.definitions import PlanIndicator, shipped
from cityos.plans.schemas import DayValue, PlanBoardPublic, PlanIndicatorPublic
from cityos.runtime import Runtime
from cityos.vitals import Indicator, ValuePublic

TZ = ZoneInfo("Asia/Shanghai")
HISTORY_LIMIT = 100_000  # values of one indicator over the days asked (at most one a minute is stored)


def board(rt: Runtime, tenant: str, *, days: int = 7, now_ms: int | None = None) -> PlanBoardPublic:
    """The plan indicators defined in the tenant's vital signs now (one an operator retired is left out), in the
    file's order, each with its values of the last ``days`` days."""
    cat = vitals.catalogue(rt, tenant)
    since = (now_ms if now_ms is not None else clock_ms()) - days * vitals.DAY_MS
    out = []
    for entry in shipped():
        ind = cat.by_id.get(entry.indicator.id)
        if ind is None:
            continue
        values = vitals.history(rt, tenant, ind.id, DISTRICT, since, HISTORY_LIMIT)
        out.append(_indicator(entry, ind, values))
    return PlanBoardPublic(days=days, indicators=out)


def _indicator(entry: PlanIndicator, ind: Indicator, values: list[ValuePublic]) -> PlanIndicatorPublic:
    latest = values[-1] if values else None
    target, kind = _target(ind)
    return PlanIndicatorPublic(
        id=ind.id,
        name_zh=ind.name.zh,
        name_en=ind.name.en,
        unit=ind.unit,
        headline=entry.headline,
        definition=ind.description or "",
        period_days=entry.figure.days if entry.figure else None,
        source=_source(entry, ind),
        value=latest.value if latest else None,
        at=latest.at if latest else None,
        level=latest.level if latest else 0,
        target=target,
        target_kind=kind,
        trend=_daily(values),
    )


def _target(ind: Indicator) -> tuple[float | None, Literal["at-least", "at-most"] | None]:
    """The first threshold is the target: a value on the wrong side of it is below target (蓝 and up)."""
    if ind.thresholds is None:
        return None, None
    return ind.thresholds.levels()[0][1], "at-least" if ind.thresholds.direction == "below" else "at-most"


def _source(entry: PlanIndicator, ind: Indicator) -> str:
    if entry.figure is None:
        return f"formula: {ind.formula}"
    f = entry.figure
    return f"cityos.{f.call}" + (f" → {f.value}" if f.value else "")


def _daily(values: list[ValuePublic]) -> list[DayValue]:
    """The last value of each day (in Shanghai), oldest first."""
    last: dict[str, float | None] = {}
    for v in values:  # oldest first: a later value of the day replaces an earlier one
        last[datetime.fromisoformat(v.at).astimezone(TZ).date().isoformat()] = v.value
    return [DayValue(day=d, value=x) for d, x in last.items()]
