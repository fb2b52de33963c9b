"""API shapes of entity resolution (实体识别): the decisions kept with their evidence and the settlement a
person makes of a review decision (camelCase on the wire)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from cityos.datahub.resolution import FieldEvidence, Score
from cityos.datahub.resolutions import Resolved, Settlement
from cityos.datahub.schemas import Shape


class SettlementCreate(Shape):
    """A person settles a review decision: ``matched`` to one of the candidates it scored, or ``new``."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["matched", "new"]
    entity: str | None = Field(None, max_length=256, description="matched: the candidate the record is")
    note: str | None = Field(None, max_length=2000, description="why, for whoever reads the decision later")


class FieldEvidencePublic(Shape):
    field: str
    level: str = Field(description="exact, normalised, other-branch, similar, else; null: a value missing")
    weight: float = Field(description="log2(m/u) of the level")
    offered: str | None = Field(description="the record's value")
    held: str | None = Field(description="the candidate's value")
    similarity: float | None = Field(None, description="the normalised values' similarity, 0..1, when measured")

    @classmethod
    def of(cls, f: FieldEvidence) -> FieldEvidencePublic:
        return cls(field=f.field, level=f.level, weight=f.weight, offered=f.offered, held=f.held,
                   similarity=f.similarity)  # fmt: skip


class ScorePublic(Shape):
    candidate: str = Field(description="the registry entity")
    total: float = Field(description="its match weight: the fields' weights added")
    fields: list[FieldEvidencePublic]

    @classmethod
    def of(cls, s: Score | None) -> ScorePublic | None:
        return None if s is None else cls(candidate=s.candidate, total=s.total,
                                          fields=[FieldEvidencePublic.of(f) for f in s.fields])  # fmt: skip


class SettlementPublic(Shape):
    outcome: Literal["matched", "new"]
    entity: str | None
    by: str
    at: str
    note: str | None

    @classmethod
    def of(cls, s: Settlement | None) -> SettlementPublic | None:
        return None if s is None else cls(outcome=s.outcome, entity=s.entity, by=s.by, at=s.at, note=s.note)


class ResolutionPublic(Shape):
    """One record's decision: matched (to ``entity``), review (a person settles it) or new, with its evidence."""

    id: str
    run: str
    seq: int
    line: int = Field(description="the record's line in its file, or its index (from 0) in the batch")
    code: str
    department: str
    provider: str
    model: str
    by: str
    at: str
    decision: Literal["matched", "review", "new"]
    entity: str | None = Field(description="matched: the registry entity the record is")
    total: float | None = Field(description="the best candidate's match weight")
    reason: str
    record: dict[str, Any] = Field(description="the record's values compared")
    best: ScorePublic | None
    runner_up: ScorePublic | None
    scored: list[tuple[str, float]] = Field(description="the candidates scored, best first: [entity, weight]")
    settlement: SettlementPublic | None
    resolved_to: str | None = Field(description="the entity the record is now, settled or decided")

    @classmethod
    def of(cls, r: Resolved) -> ResolutionPublic:
        return cls(id=r.id, run=r.run, seq=r.seq, line=r.line, code=r.code, department=r.department,
                   provider=r.provider, model=r.model, by=r.by, at=r.at, decision=r.decision, entity=r.entity,
                   total=r.total, reason=r.reason, record=r.record, best=ScorePublic.of(r.best),
                   runner_up=ScorePublic.of(r.runner_up), scored=list(r.scored),
                   settlement=SettlementPublic.of(r.settlement), resolved_to=r.resolved_to)  # fmt: skip
