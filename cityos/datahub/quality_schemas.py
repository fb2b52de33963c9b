"""API shapes of data quality (数据质量检测): rule sets, runs with their results, failing records, scores
(camelCase on the wire)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from cityos.datahub.quality_ops import DatasetScore, DepartmentScore, FailureSeen
from cityos.datahub.quality_rules import RuleSet
from cityos.datahub.quality_runs import QualityRun
from cityos.datahub.schemas import Shape


class RuleSetPublic(Shape):
    """A dataset's quality rules as its rule file declares them (see cityos/datahub/quality_rules.py)."""

    dataset: str
    key: str = Field(description="the item that names a record in the failures")
    weights: dict[str, float] = Field(description="dimension -> weight in the dataset's score (1 unless given)")
    rules: list[dict[str, Any]] = Field(description="each with id, dimension, check and the check's fields")
    references: list[str] = Field(description="the catalogue codes whose records agrees-with rules compare with")

    @classmethod
    def of(cls, rules: RuleSet) -> RuleSetPublic:
        dumped = [r.model_dump(by_alias=True, exclude_none=True, mode="json") for r in rules.rules]
        return cls(dataset=rules.dataset, key=rules.key, weights={str(k): v for k, v in rules.weights.items()},
                   rules=dumped, references=sorted(rules.references()))  # fmt: skip


class RunStart(Shape):
    """Start a run of a dataset's rules over its records as the data hub holds them now."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(..., min_length=1, max_length=64, description="the catalogue code of the dataset")


class RuleResultPublic(Shape):
    rule: str
    dimension: str
    checked: int
    failed: int
    score: float | None = Field(description="1 - failed / checked; null when nothing was checked")
    description: str = ""


class QualityRunPublic(Shape):
    """A run: its scores (0 to 1; null when nothing was checked) and, read alone, each rule's result."""

    id: str
    dataset: str
    department: str | None
    at: str = Field(description="the moment the run measured from (timeliness is relative to it)")
    records: int
    score: float | None
    dimensions: dict[str, float]
    trigger: str | None = Field(description="api: started by a person; feed: after a feed run; schedule")
    by: str | None
    feed_run: str | None = Field(description="the feed run whose records were checked")
    results: list[RuleResultPublic] | None = None

    @classmethod
    def of(cls, run: QualityRun, rules: RuleSet | None = None, detail: bool = True) -> QualityRunPublic:
        said = {r.id: r.description for r in rules.rules} if rules else {}
        results = [RuleResultPublic(rule=r.rule, dimension=r.dimension, checked=r.checked, failed=r.failed,
                                    score=1 - r.failed / r.checked if r.checked else None,
                                    description=said.get(r.rule, "")) for r in run.results]  # fmt: skip
        return cls(id=run.id, dataset=run.dataset, department=run.department, at=run.at, records=run.records,
                   score=run.score, dimensions=run.dimensions, trigger=run.trigger, by=run.by,
                   feed_run=run.feed_run, results=results if detail else None)  # fmt: skip


class FailurePublic(Shape):
    rule: str
    record: str = Field(description="the failing record's key")
    reason: str = Field(description="why, with the values of items masked for this reader masked")
    values: dict[str, Any] = Field(description="the rule's items' values in the record, masked for this reader")

    @classmethod
    def of(cls, f: FailureSeen) -> FailurePublic:
        return cls(rule=f.rule, record=f.record, reason=f.reason, values=f.values)


class DatasetScorePublic(Shape):
    dataset: str
    department: str | None
    run: str = Field(description="the latest run")
    at: str
    records: int
    score: float | None
    dimensions: dict[str, float]

    @classmethod
    def of(cls, d: DatasetScore) -> DatasetScorePublic:
        return cls(dataset=d.dataset, department=d.department, run=d.run, at=d.at, records=d.records, score=d.score,
                   dimensions=d.dimensions)  # fmt: skip


class DepartmentScorePublic(Shape):
    department: str
    datasets: int
    records: int
    score: float | None = Field(description="its datasets' latest scores, weighted by their records")
    dimensions: dict[str, float]

    @classmethod
    def of(cls, d: DepartmentScore) -> DepartmentScorePublic:
        return cls(department=d.department, datasets=d.datasets, records=d.records, score=d.score,
                   dimensions=d.dimensions)  # fmt: skip


class ScoresPublic(Shape):
    datasets: list[DatasetScorePublic]
    departments: list[DepartmentScorePublic]
