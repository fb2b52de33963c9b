"""Quality runs as operations (数据质量检测, issue 18 item 3): a dataset's rules run over its records as the data
hub reads them, started by a person, after each feed run of the dataset, or on a schedule; the references of
``agrees-with`` rules resolved to the referenced datasets' records; the scores per dataset and per department;
a run's failing records with the values behind their reasons masked for the reader as a dataset read masks
them.

A dataset's records are read as :func:`cityos.datahub.datasets.fetch` reads them (the entities that back the
entry, or its table); an entry that feeds the persons base registry and is backed by neither is read from the
registry: the ``Person`` entities in the data hub, cut to the entry's items. So accuracy rules that compare
with such an entry compare with what the registry holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from cityos import context as hub
from cityos.datahub import quality_store as store
from cityos.datahub.audit import append
from cityos.datahub.catalogue import get_entry, view_entry
from cityos.datahub.datasets import Reader, access_of, audit_read, fetch
from cityos.datahub.errors import EntryNotFound, QualityReferenceMissing, QualityRunNotFound, RecordsNotServed
from cityos.datahub.masking import mask_fully, mask_value
from cityos.datahub.models import Access, CatalogueEntry
from cityos.datahub.quality_rules import DIMENSIONS, AgreesWith, RuleSet
from cityos.datahub.quality_runs import (
    REFERENCE_VALUE,
    Origin,
    QualityRun,
    get_quality_run,
    rule_sets,
    rules_for,
    run_quality,
    stored_failures,
)
from cityos.datahub.registry import Plan, plan_of
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
CITY_DEPARTMENT = "big-data"  # the big-data centre (区大数据中心) sees every department's quality, as operators do
Record = dict[str, Any]


def _page_size(rt: Runtime) -> int:
    return max(1, int(rt.settings.max_limit))


def dataset_records(rt: Runtime, tenant: str, entry: CatalogueEntry) -> list[Record]:
    """Every record of an entry as the data hub reads it (keyValues with ``id``): from the entities or the
    table that back it, else, for an entry that feeds the persons registry, from the registry's ``Person``
    entities cut to the entry's items. RecordsNotServed when it is none of these."""
    backing = entry.backing
    if not backing.entity_types and not backing.table:
        plan = plan_of(view_entry(rt, tenant, entry.code))
        if plan is not None:
            items = {s.item: s.attribute for s in (plan.key, *plan.slots.values())}
            own = [s.item for s in plan.slots.values() if s.source == entry.provider]
            held = _registry_records(rt, tenant, items, plan.registry.entity_type)
            # the entry's records are the persons it holds a value of its own for (not every person)
            return [r for r in held if any(r.get(i) is not None for i in own)] if own else held
    records: list[Record] = []
    size = _page_size(rt)
    while True:
        page, _ = fetch(rt, tenant, entry, None, size, len(records))
        records += page
        if len(page) < size:
            return records


def _registry_records(rt: Runtime, tenant: str, items: Mapping[str, str], entity_type: str) -> list[Record]:
    # keyset chunks with only the entry's attributes taken out by the database: offset pages over the whole
    # registry cost a quadratic scan (a feed's quality run reads the registry it was fed into)
    names, records = list(items), list[Record]()
    attributes = [items[i] for i in names]
    for ids, columns in hub.attribute_chunks(rt, tenant, entity_type, attributes, hub.core_term_map(), chunk=5000):
        for k, entity_id in enumerate(ids):
            values = {i: c[k] for i, c in zip(names, columns, strict=True)}
            records.append({"id": entity_id, "type": entity_type, **values})
    return records


def _items_read(rules: RuleSet, code: str) -> set[str]:
    """The items of dataset ``code`` that the rules comparing with it read: the items they match by and compare."""
    return {i for r in rules.rules if isinstance(r, AgreesWith) and r.reference == code for i in (r.by, r.other_item)}


def _reference_records(rt: Runtime, tenant: str, entry: CatalogueEntry, items: set[str]) -> list[Record]:
    """The records of a dataset a rule compares with, with at least ``items``: an entry backed by one entity type
    and no filter is read in keyset chunks of only those attributes (an offset page of whole entities, counted,
    costs a scan of every page before it: quadratic over a registry of 100,000 persons); any other as a read of
    the dataset reads it."""
    backing = entry.backing
    if len(backing.entity_types) != 1 or backing.q or backing.table:
        return dataset_records(rt, tenant, entry)
    return _registry_records(rt, tenant, {i: i for i in sorted(items - {"id", "type"})}, backing.entity_types[0])


def references_of(rt: Runtime, tenant: str, rules: RuleSet, *, strict: bool = True) -> tuple[dict[str, Any], RuleSet]:
    """The records of the datasets the rules compare with, by catalogue code, and the rules that can run. An
    unknown or unread reference raises QualityReferenceMissing when ``strict``; else its rules are left out of
    the run (logged), so that a feed or a scheduled run checks what it can."""
    found: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for code in sorted(rules.references()):
        try:
            found[code] = _reference_records(rt, tenant, get_entry(rt, tenant, code), _items_read(rules, code))
        except (EntryNotFound, RecordsNotServed) as exc:
            missing[code] = exc.detail if hasattr(exc, "detail") else str(exc)
    if not missing:
        return found, rules
    why = "; ".join(f"{code}: {reason}" for code, reason in missing.items())
    if strict:
        raise QualityReferenceMissing(
            f"the rules of {rules.dataset} compare with datasets whose records cannot be read ({why}); register "
            "them in the catalogue, backed by entities or a table, or fed into the persons registry"
        )
    left = [r for r in rules.rules if not (isinstance(r, AgreesWith) and r.reference in missing)]
    log.warning("quality run of %s without the rules comparing with %s", rules.dataset, why)
    if not left:
        raise QualityReferenceMissing(f"every rule of {rules.dataset} compares with a dataset not read ({why})")
    return found, rules.model_copy(update={"rules": left})


def start_run(
    rt: Runtime,
    tenant: str,
    code: str,
    *,
    by: str | None,
    trigger: str = "api",
    records: Sequence[Record] | None = None,
    feed_run: str | None = None,
    now: datetime | None = None,
    stored: Callable[[Connection, str], None] | None = None,
) -> QualityRun:
    """Run the rules of dataset ``code`` over its records (read from the data hub unless ``records`` are given,
    e.g. those of a feed run) as at ``now``, with the referenced datasets' records, and store the run with its
    origin. Raises QualityRulesNotFound, EntryNotFound, RecordsNotServed, QualityReferenceMissing (a run
    started by a person is refused when a reference cannot be read; others leave its rules out). ``stored``: as
    :func:`run_quality` takes it."""
    rules = rules_for(code)
    entry = get_entry(rt, tenant, code)
    rows = list(records) if records is not None else dataset_records(rt, tenant, entry)
    references, runnable = references_of(rt, tenant, rules, strict=trigger == "api")
    origin = Origin(entry.provider, trigger, by, feed_run)
    return run_quality(rt, tenant, code, rows, references=references, rules=runnable, now=now, origin=origin,
                       stored=stored)  # fmt: skip


def after_feed(
    rt: Runtime, tenant: str, code: str, feed_run: str, by: str, records: Sequence[Any],
    stored: Callable[[Connection, str], None] | None = None,
) -> str | None:  # fmt: skip
    """The quality run of a feed run's records when the entry has rules (its id; None when it has none or the
    run could not be made: the feed is kept whatever happens here, and the failure is logged). Each record is
    keyed by its registry entity id, as a read of the dataset names it (a keyed hash for a person, never the ID
    number). ``stored(conn, run_id)`` runs in the transaction that stores the run (what raises undoes it)."""
    if code not in rule_sets():
        return None
    try:
        from cityos.datahub.feeds import registry_entity_id  # the feeds module calls this one: imported when used

        plan, seen = plan_of(view_entry(rt, tenant, code)), set[str]()
        ident = (lambda key: registry_entity_id(rt, plan.registry, key)) if plan is not None else None
        rows = [_keyed(plan, ident, n, r, seen) for n, r in enumerate(records) if isinstance(r, Mapping)]
        return start_run(rt, tenant, code, by=by, trigger="feed", records=rows, feed_run=feed_run, stored=stored).id
    except Exception:
        log.exception("the quality run after feed run %s of %s failed (the feed is kept)", feed_run, code)
        return None


def _keyed(
    plan: Plan | None, ident: Callable[[str], str] | None, n: int, record: Mapping[str, Any], seen: set[str]
) -> Record:
    key = record.get(plan.key.item) if plan is not None else None
    rid = ident(key) if ident is not None and isinstance(key, str) and key.strip() else f"record {n}"
    if rid in seen:
        rid = f"{rid} (record {n})"  # a repeat in the batch: a record of its own, for uniqueness to name
    seen.add(rid)
    return {**record, "id": rid}


def run_due(rt: Runtime, every_seconds: int, now: datetime | None = None) -> list[QualityRun]:
    """The scheduled runs: every dataset with rules, in every tenant whose catalogue has it, whose latest run is
    older than ``every_seconds`` (or that has none) is checked as at ``now``; timeliness is relative to it. A
    dataset that cannot be run is logged and tried at the next round."""
    at = now or datetime.now(UTC)
    due_ms = int(at.timestamp() * 1000) - every_seconds * 1000
    done: list[QualityRun] = []
    with rt.db.connect() as conn:
        tenants = store.tenants_with_entries(conn)
    for tenant in tenants:
        with rt.db.connect() as conn:
            latest = {r["code"]: r["at_ms"] for r in store.latest_per_code(conn, tenant)}
        for code in sorted(rule_sets()):
            if latest.get(code, -1) > due_ms:
                continue
            try:
                done.append(start_run(rt, tenant, code, by=None, trigger="schedule", now=at))
            except EntryNotFound:
                continue  # the tenant's catalogue does not hold it
            except RecordsNotServed as exc:
                log.info("no scheduled quality run of %s (tenant %s): %s", code, tenant, exc)
            except Exception:
                log.exception("the scheduled quality run of %s (tenant %s) failed", code, tenant)
    return done


# --- who sees what ----------------------------------------------------------------------------------------


def sees_all(department: str | None) -> bool:
    """Operators and administrators (no department) and the big-data centre see every department's quality."""
    return department is None or department == CITY_DEPARTMENT


def check_visible(rt: Runtime, tenant: str, code: str, department: str | None) -> CatalogueEntry:
    """The entry, when ``department`` may see its quality (its provider, or one that sees all); EntryNotFound
    otherwise, as if absent."""
    entry = get_entry(rt, tenant, code)
    if not sees_all(department) and entry.provider != department:
        raise EntryNotFound(f"there is no catalogue entry {code!r} among the datasets of {department!r}")
    return entry


def visible_run(rt: Runtime, tenant: str, run_id: str, department: str | None) -> QualityRun:
    """A run the caller may see; QualityRunNotFound as if absent when it may not."""
    run = get_quality_run(rt, tenant, run_id)
    if not sees_all(department) and run.department != department:
        raise QualityRunNotFound(f"no quality run {run_id!r}: GET /datahub/quality/runs lists them")
    return run


# --- scores -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetScore:
    """A dataset's latest run: its score, dimensions and records."""

    dataset: str
    department: str | None
    run: str
    at: str
    records: int
    score: float | None
    dimensions: dict[str, float]


@dataclass(frozen=True)
class DepartmentScore:
    """A department's score: the mean of its datasets' latest scores weighted by their records, per dimension too."""

    department: str
    datasets: int
    records: int
    score: float | None
    dimensions: dict[str, float]


def scores(rt: Runtime, tenant: str, department: str | None = None) -> tuple[list[DatasetScore], list[DepartmentScore]]:
    """The latest run's score of every dataset with a run (of ``department`` only, when given) and each
    department's record-weighted score, with the six dimensions."""
    with rt.db.connect() as conn:
        rows = store.latest_per_code(conn, tenant)
    datasets = [
        DatasetScore(r["code"], r.get("department"), r["id"], r["at"], r["records"], r["score"], dict(r["dimensions"]))
        for r in rows
        if department is None or r.get("department") == department
    ]
    by_department: dict[str, list[DatasetScore]] = {}
    for d in datasets:
        by_department.setdefault(d.department or "-", []).append(d)
    return datasets, [_department(name, found) for name, found in sorted(by_department.items())]


def _department(name: str, datasets: list[DatasetScore]) -> DepartmentScore:
    def weighted(pairs: list[tuple[float, int]]) -> float | None:
        total = sum(w for _, w in pairs)
        if not pairs:
            return None
        return sum(s * w for s, w in pairs) / total if total else sum(s for s, _ in pairs) / len(pairs)

    score = weighted([(d.score, d.records) for d in datasets if d.score is not None])
    dims = {
        dim: weighted([(d.dimensions[dim], d.records) for d in datasets if dim in d.dimensions]) for dim in DIMENSIONS
    }
    return DepartmentScore(name, len(datasets), sum(d.records for d in datasets), score,
                           {k: v for k, v in dims.items() if v is not None})  # fmt: skip


# --- failures as a reader sees them -----------------------------------------------------------------------


@dataclass(frozen=True)
class FailureSeen:
    """A failing record as one reader sees it: the rule, the record's key, the reason and the rule's items'
    values in the record, the masked ones masked (in the reason too)."""

    rule: str
    record: str
    reason: str
    values: dict[str, Any]


def failures_seen(
    rt: Runtime, tenant: str, run: QualityRun, reader: Reader, *, rule: str | None, limit: int, offset: int,
    route: str = "GET /datahub/quality/runs/{id}/failures",
) -> tuple[list[FailureSeen], int]:  # fmt: skip
    """A page of a run's failing records (of one rule, if given) with their total, the values of items the
    reader sees masked masked as a read of the dataset masks them, and those it may not see hidden; a value
    of another dataset a rule compared with is shown as the reader's access to that dataset shows it. The
    page is a read of those records: appended to the audit chain first."""
    found, total = stored_failures(rt, tenant, run.id, rule=rule, limit=limit, offset=offset)
    try:
        entry = get_entry(rt, tenant, run.dataset)
    except EntryNotFound:
        entry = None
    rules = rule_sets().get(run.dataset)
    key_item = rules.key if rules else "id"
    if entry is not None and found:
        access = access_of(rt, tenant, entry, reader, datetime.now(UTC))
        records = [{"id": f.record, **({} if key_item == "id" else {key_item: f.record}), **f.values} for f in found]
        append(rt, tenant, [audit_read(entry, access, reader, records, route)])
    show = _shower(rt, tenant, entry, reader)
    shows = {code: _shower(rt, tenant, _entry_or_none(rt, tenant, code), reader)
             for code in (rules.references() if rules else ())}  # fmt: skip
    return [_seen(f, show, shows, rules, key_item) for f in found], total


def _entry_or_none(rt: Runtime, tenant: str, code: str) -> CatalogueEntry | None:
    try:
        return get_entry(rt, tenant, code)
    except EntryNotFound:
        return None


def _shower(rt: Runtime, tenant: str, entry: CatalogueEntry | None, reader: Reader) -> Any:
    if entry is None:
        return lambda item, value: mask_fully(value)
    own = reader.department is not None and reader.department == entry.provider
    access: Access = access_of(rt, tenant, entry, reader, datetime.now(UTC))

    def show(item: str, value: Any) -> Any:
        if item in ("id", "type") or own:
            return value
        if item in access.masked:
            return mask_value(access.masked[item], value)
        return value if access.allowed and item in access.shown else mask_fully(value)

    return show


def _seen(f: Any, show: Any, shows: Mapping[str, Any], rules: RuleSet | None, key_item: str) -> FailureSeen:
    rule = next((r for r in rules.rules if r.id == f.rule), None) if rules else None
    reason, values = f.reason, {}
    for item, value in sorted(f.values.items(), key=lambda kv: -len(str(kv[1]))):
        if item == REFERENCE_VALUE:  # the other dataset's value: as the reader's access to that dataset shows it
            other = shows.get(rule.reference) if isinstance(rule, AgreesWith) else None
            masked = other(rule.other_item, value) if other is not None and isinstance(rule, AgreesWith) else (
                mask_fully(value))  # fmt: skip
        else:
            masked = show(item, value)
        if value is not None and masked != value and str(value):
            reason = reason.replace(str(value), str(masked))
        values[item] = masked
    record = f.record if key_item == "id" else str(show(key_item, f.record))
    return FailureSeen(f.rule, record, reason, values)
