"""API shapes of automatic decisions: the outcome, the reasons and the rule trace a clerk reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.onestop.deciding import Recorded
from cityos.onestop.decisions import Outcome, Step

OUTCOME_LABELS = {"approve": "自动准予", "refuse": "自动不予许可", "undecided": "转人工审核"}


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class DecisionStepPublic(Shape):
    rule: str
    then: Literal["approve", "refuse"]
    holds: bool
    inputs: dict[str, Any] = Field(description="the facts the rule read, by path, as read")
    reason: str
    reason_en: str

    @classmethod
    def of(cls, s: Step) -> DecisionStepPublic:
        return cls(rule=s.rule, then=s.then, holds=s.holds, inputs=s.inputs, reason=s.reason, reason_en=s.reason_en)


class DecisionPublic(Shape):
    """The latest time the item's rules were asked about the application: the outcome (undecided: a clerk
    decides), the rules that made it and every rule's trace."""

    seq: int
    at: datetime
    stage: Literal["submission", "receipt", "request", "evidence"]
    item_version: int
    outcome: Outcome
    outcome_zh: str
    reasons: list[str] = Field(description="the rule ids that made the outcome (undecided: the approve rules not met)")
    trace: list[DecisionStepPublic]

    @classmethod
    def of(cls, r: Recorded) -> DecisionPublic:
        return cls(seq=r.seq, at=r.at, stage=r.stage, item_version=r.item_version, outcome=r.outcome,
                   outcome_zh=OUTCOME_LABELS[r.outcome], reasons=list(r.reasons),
                   trace=[DecisionStepPublic.of(s) for s in r.trace])  # fmt: skip
