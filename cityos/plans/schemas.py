"""What the plans API answers: each plan indicator with its value, target, trend, source and definition."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Answer(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True, frozen=True)


class DayValue(_Answer):
    day: str = Field(..., description="A day in Shanghai, YYYY-MM-DD")
    value: float | None = Field(..., description="The indicator's last stored value that day")


class PlanIndicatorPublic(_Answer):
    id: str
    name_zh: str
    name_en: str
    unit: str
    headline: bool = Field(..., description="Shown on the main screen too")
    definition: str = Field(..., description="What is counted, over what period")
    period_days: int | None = Field(..., description="The period the figure covers, in days; null: the state now")
    source: str = Field(..., description="Where the figure comes from: a package's function, or a formula")
    value: float | None = Field(..., description="The latest stored value; null: none yet")
    at: str | None = Field(..., description="When the latest value was computed")
    level: int = Field(..., description="The warning level: 0 none, 1 蓝 … 4 红 (below target: 1 and up)")
    target: float | None = Field(..., description="The plan's target (the first threshold); null: not set")
    target_kind: Literal["at-least", "at-most"] | None = Field(
        ..., description="at-least: the value should reach the target; at-most: stay under it"
    )
    trend: list[DayValue] = Field(..., description="The last value of each of the last days, oldest first")


class PlanBoardPublic(_Answer):
    days: int
    indicators: list[PlanIndicatorPublic]
