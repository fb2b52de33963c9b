"""What the vitals API takes and answers (the service functions return these too, so that the routes,
the twin and the CLI read one typed shape).

Fields are snake_case in Python and camelCase in JSON, as the dashboard reads them. Indicator
definitions are answered as :class:`~cityos.vitals.definitions.Indicator`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field
from pydantic.alias_generators import to_camel

from cityos.core.answers import Omittable
from cityos.core.iris import Text
from cityos.vitals.definitions import Indicator
from cityos.vitals.levels import LEVEL_NAMES

NO_LEVEL = ("none", "无", "-")  # the names of level 0


class CommentCreate(BaseModel):
    text: Text = Field(..., min_length=1, max_length=2000)


class _Answer(BaseModel):
    """An answer: built with snake_case names, dumped with the camelCase ones (``model_dump()`` too, so that
    a caller embedding it in its own answer sends the same members); frozen."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True, frozen=True)


class _Leveled(_Answer):
    """A warning level with its names, which follow from it."""

    level: int = Field(..., description="0 none, 1 蓝 blue (IV), 2 黄 yellow (III), 3 橙 orange (II), 4 红 red (I).")

    # mypy does not take a decorator over @property; this is pydantic's documented form of a computed field
    @computed_field  # type: ignore[prop-decorator]
    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, NO_LEVEL)[0]

    @computed_field  # type: ignore[prop-decorator]  # as above
    @property
    def level_zh(self) -> str:
        return LEVEL_NAMES.get(self.level, NO_LEVEL)[1]

    @computed_field  # type: ignore[prop-decorator]  # as above
    @property
    def grade(self) -> str:
        """The national grade: IV (blue) … I (red)."""
        return LEVEL_NAMES.get(self.level, NO_LEVEL)[2]


# --- indicators ---------------------------------------------------------------------------------------


class ValuePublic(_Answer):
    """One stored value of an indicator in one group."""

    scope: str
    at: str
    value: float | None
    level: int
    filling: Omittable[float] = Field(
        None,
        description="The window was still filling (数据积累中): how full, 0..1; absent when it was full. "
        "A filling value raises no warning, pre-warning or trend.",
    )


class IndicatorPublic(_Answer):
    """An indicator's definition in force and its stored values, oldest first."""

    definition: Indicator
    history: list[ValuePublic]


class ForecastPointPublic(_Answer):
    at: str
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class ExpectedLevel(_Leveled):
    """A level a forecast reaches: when it first does, and how likely the value is past its threshold then."""

    at: str
    probability: float


class ForecastPublic(_Answer):
    """The forecast of an indicator in one group, with 80% and 95% prediction intervals."""

    indicator: str
    scope: str
    method: str = Field(..., description="ets-seasonal, seasonal-mean, ets-trend or last-value.")
    step_seconds: int
    points: list[ForecastPointPublic]
    pre_warnings: list[ExpectedLevel]


class PreWarningPublic(ExpectedLevel):
    """A pre-warning in force: a level the latest forecast of a group reaches within its horizon."""

    indicator: str
    scope: str
    method: str
    issued_at: str


# --- diagnosis ----------------------------------------------------------------------------------------


BaselineStatus = Literal["ok", "too-old", "too-short"]


class BaselineReason(_Answer):
    """Why a baseline cannot judge a value (中文, English)."""

    zh: str
    en: str


class SensorDiagnosisPublic(_Answer):
    entity: str
    value: float
    baseline: float
    z: float | None
    pattern: str = Field(..., description="normal, stuck, drifting, outlier or unknown (no baseline to judge by).")
    baseline_status: BaselineStatus = Field(
        "ok", description="ok; too-old: the history ends days ago; too-short: too few points. Not ok: no z."
    )
    baseline_reason: Omittable[BaselineReason] = None


class _Diagnosis(_Answer):
    indicator: str
    scope: str
    anomalous: bool
    explanation: str
    sensors: list[SensorDiagnosisPublic] = Field(..., description="The ten sensors that depart most.")


class DiagnosisPublic(_Diagnosis):
    """The indicator's latest value against its seasonal baseline, and whether the city or a sensor departs."""

    verdict: str = Field(..., description="normal, event, sensor, unclear or unknown (no baseline to judge by).")
    value: float
    baseline: float
    z: float | None = Field(..., description="Robust z of the value; null with too little history.")
    baseline_status: BaselineStatus = Field(
        "ok", description="ok; too-old: the history ends days ago; too-short: too few points. Not ok: no verdict."
    )
    baseline_reason: Omittable[BaselineReason] = None


class NoDiagnosisPublic(_Diagnosis):
    """No stored values of the indicator in the group yet: nothing to score."""

    verdict: Literal["unknown"]
    anomalous: Literal[False]


# --- the overview and the places ----------------------------------------------------------------------


class GroupPublic(_Answer):
    """One group of an indicator: its latest value, its trend and its recent values."""

    scope: str
    value: float | None
    at: str
    level: int
    trend: Literal["up", "down", "steady", "filling"] = Field(
        ..., description="From the full windows' values; filling (数据积累中) while the latest window fills."
    )
    filling: Omittable[float] = Field(
        None, description="The latest value's window is still filling: how full, 0..1 (absent: full)."
    )
    sparkline: list[float | None] = Field(..., description="The recent values, oldest first; null while filling.")


class IndicatorSummaryPublic(_Answer):
    id: str
    name_zh: str
    name_en: str
    unit: str
    level: int = Field(..., description="The worst level of its groups.")
    groups: list[GroupPublic] = Field(..., description="Most severe first.")


class CategoryPublic(_Answer):
    id: str
    name_zh: str
    name_en: str
    indicators: list[IndicatorSummaryPublic]
    level: int = Field(..., description="The worst level of its indicators.")


class OverviewPublic(_Answer):
    """The vital signs by category (the categories with indicators)."""

    categories: list[CategoryPublic]


class PlacesPublic(_Answer):
    """Each place's worst active warning level, its own or one below it (places without one are left out)."""

    district: int
    units: dict[str, int]
    grids: dict[str, int]
    streets: dict[str, int]


# --- warnings -----------------------------------------------------------------------------------------


class WarningPublic(_Leveled):
    id: str
    indicator: str
    scope: str
    peak_level: int
    value: float | None = Field(..., description="The value that made the last change.")
    active: bool
    raised_at: str
    updated_at: str
    cleared_at: str | None
    acknowledged_by: str | None
    acknowledged_at: str | None


class WarningEventPublic(_Answer):
    """One entry of a warning's history."""

    at: str
    kind: str = Field(..., description="raised, escalated, de-escalated, cleared, acknowledged or comment.")
    old_level: int | None
    new_level: int | None
    value: float | None
    actor: Omittable[str] = None
    text: Omittable[str] = None


class WarningDetailPublic(WarningPublic):
    """A warning with its history: level changes, acknowledgements and comments, oldest first."""

    history: list[WarningEventPublic]


# --- the command line ---------------------------------------------------------------------------------


class BacktestRow(_Answer):
    """How one group's forecasts did over its stored history."""

    scope: str
    points: int
    step_seconds: int
    mase: float | None = Field(..., description="Against seasonal naive (below 1: better); null: too little history.")
