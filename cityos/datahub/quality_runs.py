"""Quality runs kept (数据质量检测): a dataset's rules run over its records and the report stored with its
scores, results per rule and failing records, to be listed on the quality page and compared over time.

The evaluation is :func:`cityos.datahub.quality_columns.evaluate`; this module adds the rule sets the deployment
loads and the storage.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from cityos.core.timefmt import format_ts, to_ms
from cityos.datahub import quality_store as store
from cityos.datahub.errors import QualityRulesNotFound, QualityRunNotFound
from cityos.datahub.quality import Failure, QualityReport, Records
from cityos.datahub.quality_columns import evaluate
from cityos.datahub.quality_rules import RULES_DIR, AgreesWith, IdCardAgrees, RuleSet, Unique, load_rules
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
    department: str | None = None  # the dataset's provider when the run was made
    trigger: str | None = None  # api | feed | schedule (None: a direct call)
    by: str | None = None
    feed_run: str | None = None  # the feed run whose records were checked


@dataclass(frozen=True)
class Origin:
    """Where a run comes from: the dataset's department, what started it, who, and the feed run it checks."""

    department: str | None = None
    trigger: str | None = None
    by: str | None = None
    feed_run: str | None = None


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
    origin: Origin | None = None,
    stored: Callable[[Connection, str], None] | None = None,
) -> QualityRun:
    """Run a dataset's quality rules (those loaded for it, unless ``rules`` are given) over ``records`` as at
    ``now`` and store the run: its scores, each rule's counts, and every failing record with its reason and
    the values of the rule's items in it (masked for each reader when read). ``stored(conn, run_id)`` runs in
    the run's transaction after it is written (what raises there undoes the run)."""
    ruleset = rules or rules_for(dataset_code)
    at = format_ts(now or datetime.now(UTC))
    rows = list(records)
    report = evaluate(rows, ruleset, as_of=datetime.fromisoformat(at), references=references)
    run_id = uuid.uuid4().hex[:16]
    o = origin or Origin()
    values = _Values(rows, ruleset, references or {})
    with rt.db.write() as conn:
        store.insert_run(conn, _run_row(tenant, run_id, dataset_code, at, report, o),
                         *_rows(tenant, run_id, report, values))  # fmt: skip
        if stored is not None:
            stored(conn, run_id)
    results = [RuleResult(o.rule, o.dimension, o.checked, o.failed) for o in report.outcomes]
    return QualityRun(run_id, dataset_code, at, report.records, report.score, report.dimensions, results,
                      o.department, o.trigger, o.by, o.feed_run)  # fmt: skip


def rule_items(rule: Any) -> tuple[str, ...]:
    """The items of a record a rule reads (the values a failure's reason may quote)."""
    if isinstance(rule, Unique):
        return tuple(rule.items)
    if isinstance(rule, IdCardAgrees):
        return tuple(i for i in (rule.item, rule.birth, rule.gender) if i)
    if isinstance(rule, AgreesWith):
        return (rule.item, rule.by)
    return (rule.item,)


REFERENCE_VALUE = "~reference"  # the key of the referenced dataset's value in a failure's item values


class _Values:
    """The values of a rule's items in a failing record, found by the record's key (indexes made on demand)."""

    def __init__(self, rows: list[Mapping[str, Any]], rules: RuleSet, references: Mapping[str, Records]) -> None:
        self.rows, self.rules, self.references = rows, rules, references
        self._by_key: dict[str, Mapping[str, Any]] | None = None
        self._others: dict[str, dict[Any, Any]] = {}

    def of(self, rule_id: str, key: str) -> dict[str, Any]:
        if self._by_key is None:
            self._by_key = {str(r.get(self.rules.key)): r for r in self.rows}
        rule = next(r for r in self.rules.rules if r.id == rule_id)
        record = self._by_key.get(key, {})
        found = {item: record.get(item) for item in rule_items(rule) if record.get(item) is not None}
        if isinstance(rule, AgreesWith):
            if rule_id not in self._others:
                rows = self.references.get(rule.reference, ())
                self._others[rule_id] = {r.get(rule.by): r.get(rule.other_item) for r in rows}
            found[REFERENCE_VALUE] = self._others[rule_id].get(record.get(rule.by))
        return {k: v if isinstance(v, int | float | bool) or v is None else str(v) for k, v in found.items()}


def _run_row(tenant: str, run_id: str, code: str, at: str, report: QualityReport, o: Origin) -> dict[str, Any]:
    return {"tenant": tenant, "id": run_id, "code": code, "at": at, "at_ms": to_ms(at), "records": report.records,
            "score": report.score, "dimensions": report.dimensions, "department": o.department,
            "trigger": o.trigger, "by": o.by, "feed_run": o.feed_run}  # fmt: skip


def _rows(
    tenant: str, run_id: str, report: QualityReport, values: _Values
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    results = [{"tenant": tenant, "run_id": run_id, "rule": o.rule, "seq": seq, "dimension": o.dimension,
                "checked": o.checked, "failed": o.failed} for seq, o in enumerate(report.outcomes)]  # fmt: skip
    failures = [
        {"tenant": tenant, "run_id": run_id, "seq": seq, "rule": rule, "record": f.key[:256], "reason": f.reason,
         "item_values": values.of(rule, f.key)}
        for seq, (rule, f) in enumerate(((o.rule, f) for o in report.outcomes for f in o.failures), start=1)
    ]  # fmt: skip
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
                      by_rule, row.get("department"), row.get("trigger"), row.get("by"),
                      row.get("feed_run"))  # fmt: skip


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


@dataclass(frozen=True)
class StoredFailure:
    """A failing record as stored: the rule, the record's key, the reason and the rule's items' values."""

    rule: str
    record: str
    reason: str
    values: dict[str, Any]


def stored_failures(
    rt: Runtime, tenant: str, run_id: str, *, rule: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[StoredFailure], int]:
    """A page of a run's failing records with the values behind their reasons, and their total."""
    with rt.db.connect() as conn:
        rows = store.failures(conn, tenant, run_id, rule, limit, offset)
        total = store.count_failures(conn, tenant, run_id, rule)
    return [StoredFailure(r["rule"], r["record"], r["reason"], dict(r.get("item_values") or {})) for r in rows], total


def list_runs(
    rt: Runtime, tenant: str, *, code: str | None = None, department: str | None = None,
    feed_run: str | None = None, limit: int = 20, offset: int = 0,
) -> tuple[list[QualityRun], int]:  # fmt: skip
    """A page of runs, newest first (of one dataset, one department's datasets, one feed run), and the total."""
    with rt.db.connect() as conn:
        rows, total = store.runs(conn, tenant, [code] if code else None, department, limit, offset, feed_run)
    return [_run(r, []) for r in rows], total
