"""Quality runs kept (数据质量检测): a dataset's rules run over its records and the report stored with its
scores, results per rule and failing records, to be listed on the quality page and compared over time.

The evaluation is :func:`cityos.datahub.quality.evaluate`; this module adds the rule sets the deployment
loads and the storage.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from cityos.core.timefmt import format_ts, to_ms
from cityos.datahub import quality_store as store
from cityos.datahub.errors import QualityRulesNotFound, QualityRunNotFound
from cityos.datahub.quality import Failure, QualityReport, Records, evaluate
from cityos.datahub.quality_rules import RULES_DIR, RuleSet, load_rules
from cityos.runtime import Runtime


@dataclass(frozen=True)
class RuleResult:
    rule: str
    dimension: str
    checked: int
    failed: int


@dataclass(frozen=True)
class QualityRun:
    """A stored run: its scores and the results of each rule in the rule file's order (the failures are paged
    by :func:`run_failures`)."""

    id: str
    dataset: str
    at: str
    records: int
    score: float | None
    dimensions: dict[str, float]
    results: list[RuleResult]


@lru_cache(maxsize=8)
def rule_sets(directory: Path = RULES_DIR) -> dict[str, RuleSet]:
    """The rule sets in ``directory``, by dataset, read once (a bad file is refused at the first use)."""
    return load_rules(directory)


def rules_for(dataset_code: str, directory: Path = RULES_DIR) -> RuleSet:
    found = rule_sets(directory)
    if dataset_code not in found:
        raise QualityRulesNotFound(
            f"dataset {dataset_code} has no quality rules; rule files are in {directory} (one has them for "
            f"{', '.join(sorted(found)) or 'no dataset'})"
        )
    return found[dataset_code]


def run_quality(
    rt: Runtime,
    tenant: str,
    dataset_code: str,
    records: Records,
    *,
    references: Mapping[str, Records] | None = None,
    rules: RuleSet | None = None,
    now: datetime | None = None,
) -> QualityRun:
    """Run a dataset's quality rules (those loaded for it, unless ``rules`` are given) over ``records`` as at
    ``now`` and store the run: its scores, each rule's counts, and every failing record with its reason."""
    ruleset = rules or rules_for(dataset_code)
    at = format_ts(now or datetime.now(UTC))
    report = evaluate(records, ruleset, as_of=datetime.fromisoformat(at), references=references)
    run_id = uuid.uuid4().hex[:16]
    with rt.db.write() as conn:
        store.insert_run(conn, _run_row(tenant, run_id, dataset_code, at, report), *_rows(tenant, run_id, report))
    results = [RuleResult(o.rule, o.dimension, o.checked, o.failed) for o in report.outcomes]
    return QualityRun(run_id, dataset_code, at, report.records, report.score, report.dimensions, results)


def _run_row(tenant: str, run_id: str, code: str, at: str, report: QualityReport) -> dict[str, Any]:
    return {"tenant": tenant, "id": run_id, "code": code, "at": at, "at_ms": to_ms(at), "records": report.records,
            "score": report.score, "dimensions": report.dimensions}  # fmt: skip


def _rows(tenant: str, run_id: str, report: QualityReport) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    results = [{"tenant": tenant, "run_id": run_id, "rule": o.rule, "seq": seq, "dimension": o.dimension,
                "checked": o.checked, "failed": o.failed} for seq, o in enumerate(report.outcomes)]  # fmt: skip
    failures = [
        {"tenant": tenant, "run_id": run_id, "seq": seq, "rule": rule, "record": f.key[:256], "reason": f.reason}
        for seq, (rule, f) in enumerate(((o.rule, f) for o in report.outcomes for f in o.failures), start=1)
    ]
    return results, failures


def get_quality_run(rt: Runtime, tenant: str, run_id: str) -> QualityRun:
    """A stored run with its results; QualityRunNotFound if the tenant has none by that id."""
    with rt.db.connect() as conn:
        row = store.get_run(conn, tenant, run_id)
        if row is None:
            raise QualityRunNotFound(f"no quality run {run_id!r}")
        results = store.results(conn, tenant, run_id)
    return _run(row, results)


def _run(row: dict[str, Any], results: list[dict[str, Any]]) -> QualityRun:
    by_rule = [RuleResult(r["rule"], r["dimension"], r["checked"], r["failed"]) for r in results]
    return QualityRun(row["id"], row["code"], row["at"], row["records"], row["score"], dict(row["dimensions"]),
                      by_rule)  # fmt: skip


def quality_runs(rt: Runtime, tenant: str, dataset_code: str, limit: int = 20) -> list[QualityRun]:
    """A dataset's latest runs, newest first (their results left out: read one with :func:`get_quality_run`)."""
    with rt.db.connect() as conn:
        return [_run(row, []) for row in store.latest_runs(conn, tenant, dataset_code, limit)]


def run_failures(
    rt: Runtime, tenant: str, run_id: str, *, rule: str | None = None, limit: int = 100, offset: int = 0
) -> list[tuple[str, Failure]]:
    """A run's failing records as (rule, failure), in the order found; of one rule if ``rule`` is given."""
    with rt.db.connect() as conn:
        rows = store.failures(conn, tenant, run_id, rule, limit, offset)
    return [(r["rule"], Failure(r["record"], r["reason"])) for r in rows]
