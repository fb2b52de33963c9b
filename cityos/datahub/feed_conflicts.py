"""The source's conflict list (数据归集 · 冲突): where other departments' feeds disagree with the values an item's
one source gives the persons registry (一数一源), so that its data officer can check its own value or the
other department's.

A conflict is listed as the latest value a department offered for one record and item (from the conflicts
its feed runs recorded), beside the value the registry holds now. It is no longer listed once the registry
holds the offered value (the source took it) or once a newer run of the offering department agreed with the
registry (a run of :func:`feed_and_settle` records where it agreed on a pair it had found in conflict).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cityos import context as hub
from cityos.datahub import feed_conflict_store as store
from cityos.datahub import feed_store
from cityos.datahub.audit import append
from cityos.datahub.catalogue import view_entry
from cityos.datahub.datasets import Reader, access_of, audit_read
from cityos.datahub.errors import EntryNotFound
from cityos.datahub.feeds import FeedRun, run_feed
from cityos.datahub.masking import mask_value
from cityos.datahub.models import Access, CatalogueEntry
from cityos.datahub.registry import Plan, offered, plan_of, record_problem
from cityos.runtime import Runtime

FETCH = 500  # entities read at a time for the values the registry holds


@dataclass(frozen=True)
class OpenConflict:
    """The latest value ``department`` offered for ``item`` of one record, which the registry does not hold."""

    record: str  # the record key (the ID number)
    entity_id: str
    item: str  # the registry's attribute (person.<item>): the source's name for it
    offered_as: str  # the item's name in the offering entry
    code: str  # the offering entry
    department: str  # who offered it
    source: str  # the item's one source
    offered: Any
    held: Any  # what the registry holds now (None: nothing)
    run_id: str
    at: str  # when the run that offered it was stored


@dataclass(frozen=True)
class ConflictList:
    """A page of open conflicts, their total, and the open conflicts of the source counted per item and per
    offering department (whatever the page's filters)."""

    conflicts: list[OpenConflict]
    total: int
    by_item: dict[str, int]
    by_department: dict[str, int]


class _Plans:
    """Each entry's registry plan and catalogue entry, read once per answer (a list names few entries)."""

    def __init__(self, rt: Runtime, tenant: str) -> None:
        self.rt, self.tenant = rt, tenant
        self.found: dict[str, tuple[Plan | None, CatalogueEntry | None]] = {}

    def get(self, code: str) -> tuple[Plan | None, CatalogueEntry | None]:
        if code not in self.found:
            try:
                view = view_entry(self.rt, self.tenant, code)
                self.found[code] = (plan_of(view), view.entry)
            except EntryNotFound:  # an entry retired since its runs: its items keep their names
                self.found[code] = (None, None)
        return self.found[code]

    def attribute(self, code: str, item: str) -> str:
        plan = self.get(code)[0]
        slot = plan.slots.get(item) if plan is not None else None
        return slot.attribute if slot is not None else item


def open_conflicts(
    rt: Runtime,
    tenant: str,
    source: str | None,
    *,
    item: str | None = None,
    department: str | None = None,
    sight: Reader | None = None,
    limit: int = 100,
    offset: int = 0,
    route: str | None = None,
) -> ConflictList:
    """The open conflicts on the items ``source`` is the one source of (None: of every source), newest first,
    of one registry ``item`` and one offering ``department`` if named. ``sight``: the reader when it is not
    the source, who sees the record key and the values masked as its access to the offering entry says (the
    source its own values whole); with ``route``, the page's read is appended to the audit chain first."""
    with rt.db.connect() as conn:
        rows = store.conflicts_of(conn, tenant, source)
        agreed = store.agreements_of(conn, tenant, source)
    plans = _Plans(rt, tenant)
    settled = {(a["department"], a["record"], a["attribute"]): a["at_ms"] for a in agreed}
    latest: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for row in rows:
        key = (row["department"], row["entity_id"], plans.attribute(row["code"], row["item"]))
        if key not in latest or (row["at_ms"], row["seq"]) > (latest[key]["at_ms"], latest[key]["seq"]):
            latest[key] = row
    still = {k: r for k, r in latest.items() if settled.get((k[0], r["record"], k[2]), -1) < r["at_ms"]}
    held = _held(rt, tenant, {(eid, attribute) for _, eid, attribute in still})
    found = []
    for (dept, eid, attribute), r in still.items():
        value, now = json.loads(r["offered"]), held.get((eid, attribute))
        if value == now:
            continue
        found.append(OpenConflict(r["record"], eid, attribute, r["item"], r["code"], dept, r["source"], value, now,
                                  r["run_id"], r["at"]))  # fmt: skip
    by_item = Counter(c.item for c in found)
    by_department = Counter(c.department for c in found)
    chosen = [c for c in found if item in (None, c.item) and department in (None, c.department)]
    chosen.sort(key=lambda c: (c.at, c.record, c.item), reverse=True)
    page = chosen[offset : offset + limit]
    if sight is not None:
        if route is not None:
            audit_conflicts(rt, tenant, page, sight, route)
        page = _as_seen(rt, tenant, page, plans, sight)
    return ConflictList(page, len(chosen), dict(by_item.most_common()), dict(by_department.most_common()))


def audit_conflicts(rt: Runtime, tenant: str, page: Sequence[OpenConflict], reader: Reader, route: str) -> None:
    """Append the read of a page of conflicts (as stored) to the audit chain: one read per offering entry, of
    the records it names (their keys: the persons and enterprises they concern, kept as keyed hashes), under
    the reader's access to that entry."""
    plans, now = _Plans(rt, tenant), datetime.now(UTC)
    by_code: dict[str, list[OpenConflict]] = {}
    for c in page:
        by_code.setdefault(c.code, []).append(c)
    reads = []
    for code, conflicts in by_code.items():
        plan, entry = plans.get(code)
        if entry is None:
            continue
        key_item = plan.key.item if plan is not None else ""
        records = [{"id": c.entity_id, key_item: c.record} for c in conflicts]
        reads.append(audit_read(entry, access_of(rt, tenant, entry, reader, now), reader, records, route))
    if reads:
        append(rt, tenant, reads)


def _held(rt: Runtime, tenant: str, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The registry's value of each (entity, attribute) asked for."""
    tm = hub.term_map(rt)
    ids = sorted({eid for eid, _ in wanted})
    out: dict[tuple[str, str], Any] = {}
    for start in range(0, len(ids), FETCH):
        chunk = ids[start : start + FETCH]
        found = hub.query_entities(rt, tenant, hub.EntityQuery(ids=chunk, limit=len(chunk)), tm)
        for row in found.rows:
            for iri, instances in row.attrs.items():
                attribute = tm.compact(iri)
                if (row.id, attribute) in wanted:
                    out[(row.id, attribute)] = next(
                        (i.get("value") for i in instances if i.get("datasetId") is None), None
                    )
    return out


def _as_seen(rt: Runtime, tenant: str, page: list[OpenConflict], plans: _Plans, sight: Reader) -> list[OpenConflict]:
    """The page as a reader that is not the source sees it: each value masked or hidden by its access to the
    offering entry (the record key as the entry's key item, the values as the offered item)."""
    now = datetime.now(UTC)
    access: dict[str, Access | None] = {}
    out = []
    for c in page:
        plan, entry = plans.get(c.code)
        if c.code not in access:
            access[c.code] = access_of(rt, tenant, entry, sight, now) if entry is not None else None
        seen = _seer(access[c.code], entry)
        key_item = plan.key.item if plan is not None else ""
        # the source sees its own value, and the key of a record whose value it gave; the rest as its access to
        # the offering entry shows them
        own = sight.department is not None and sight.department == c.source
        record = c.record if own and c.held is not None else seen(key_item, c.record)
        out.append(replace(c, record=record, offered=seen(c.offered_as, c.offered),
                           held=c.held if own else seen(c.offered_as, c.held)))  # fmt: skip
    return out


def _seer(access: Access | None, entry: CatalogueEntry | None) -> Callable[[str, Any], Any]:
    kinds = {i.name: i.kind for i in entry.items} if entry is not None else {}

    def seen(item: str, value: Any) -> Any:
        if value is None or access is None or not access.allowed or item not in (*access.shown, *access.masked):
            return None if value is None else mask_value("text", value)  # not shown: fully masked
        return mask_value(kinds.get(item, "text"), value) if item in access.masked else value

    return seen


def feed_and_settle(
    rt: Runtime,
    tenant: str,
    code: str,
    department: str,
    records: Sequence[Any],
    *,
    by: str,
    lines: Sequence[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> FeedRun:
    """:func:`cityos.datahub.feeds.run_feed`, then record where the run agreed with the registry on a pair
    (record, item of another source) an earlier run of the department found in conflict: that conflict is
    settled and no longer listed. Raises as run_feed does."""
    run = run_feed(rt, tenant, code, department, records, by=by, lines=lines, progress=progress)
    settle(rt, tenant, run, records)
    return run


def settle(rt: Runtime, tenant: str, run: FeedRun, records: Sequence[Any]) -> int:
    """Record the agreements of ``run`` (made of ``records``) on its department's earlier conflicts: how many."""
    plans = _Plans(rt, tenant)
    with rt.db.connect() as conn:
        earlier = {(r["record"], plans.attribute(r["code"], r["item"]))
                   for r in store.conflicts_by(conn, tenant, run.department)}  # fmt: skip
        row = feed_store.get_run(conn, tenant, run.id)
    plan = plans.get(run.code)[0]
    if not earlier or plan is None or row is None:
        return 0
    now_conflicting = {(c.record, c.item) for c in run.conflicts}
    rows: list[dict[str, Any]] = []
    for record in records:
        if record_problem(plan, record) is not None:
            continue
        key = record[plan.key.item].strip().upper()
        for name in offered(plan, record):
            slot = plan.slots[name]
            if slot.source == run.department or (key, slot.attribute) not in earlier:
                continue
            if (key, name) not in now_conflicting:
                rows.append({"tenant": tenant, "run_id": run.id, "seq": len(rows), "department": run.department,
                             "record": key, "attribute": slot.attribute, "source": slot.source,
                             "at_ms": row["at_ms"]})  # fmt: skip
    if rows:
        rt.db.run_write(lambda conn: store.insert_agreements(conn, rows))
    return len(rows)
