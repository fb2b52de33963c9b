"""Feed runs into the base registries (数据归集 · 自然人库 · 法人库 · 空间地理库, issue 18 items 1 and 2): a
department pushes a batch of records of a catalogue entry, keyed by the record key of the registry the entry
feeds (:mod:`cityos.datahub.registry`); each record is merged into its entity in the data hub: a ``Person``
whose id is a keyed hash of the ID number (never the number itself), an ``Organization`` whose id holds the
unified social credit code (public), a ``Building`` whose id holds the building code. Each item takes
its value from its one source only: another department's disagreeing value is recorded as a conflict and not
applied. A malformed record is rejected with its line and reason and the rest of the feed goes on.

A run is idempotent by record key: rerun, or rerun after an interruption (every chunk commits on its own),
it leaves the same state and reports the records unchanged. The run, its conflicts and its rejections are
stored when it ends; the quality run of its records is made after, in the background (:mod:`feed_quality`),
the records kept with the run until it is made, so that another process takes it up if this one stops.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cityos import context as hub
from cityos.core.timefmt import now_iso
from cityos.datahub import feed_quality
from cityos.datahub import feed_store as store
from cityos.datahub.audit_keys import keys as audit_keys
from cityos.datahub.catalogue import item_sources, view_entry
from cityos.datahub.errors import FeedRunNotFound, InvalidFeed, NotASource
from cityos.datahub.quality_runs import rule_sets
from cityos.datahub.registry import (
    BY_NAME,
    PERSONS,
    REGISTRIES,
    RESOLVED_KEY,
    Merge,
    Plan,
    Registry,
    held_values,
    identifying_values,
    merge,
    normal_key,
    offered,
    plan_of,
    record_problem,
    shaped,
)
from cityos.datahub.resolution import Candidate, get_model, index_candidates
from cityos.datahub.resolutions import Resolved, resolve
from cityos.runtime import Runtime

CHUNK = 5000  # records per transaction: an interrupted run keeps the chunks it committed
MAX_LIST = 1000


@dataclass(frozen=True)
class Conflict:
    """A value offered for an item whose source is another department, disagreeing with what it holds."""

    record: str  # the record key (ID number, credit code, building code)
    entity_id: str
    item: str
    source: str  # the department the stored value comes from
    offered: Any


@dataclass(frozen=True)
class Rejection:
    """A malformed record: its line in the file (or index in the batch), its key if it had one, and why."""

    line: int
    record: str | None
    reason: str


@dataclass(frozen=True)
class FeedRun:
    """A run's report: counts per outcome (each record counted once: rejected, conflicting, new, changed or
    unchanged) and, when read with them, its conflicts and rejections."""

    id: str
    code: str
    department: str
    by: str
    at: str
    records: int
    new: int
    changed: int
    unchanged: int
    conflicting: int
    rejected: int
    conflicts: tuple[Conflict, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    quality: str | None = None  # its quality run: pending | done | failed (None: the entry has no rules)
    quality_run: str | None = None  # that run, once done
    # when another process took the quality run up, the feed's having stopped before making it (None: made by it)
    quality_taken_up: str | None = None


def person_id(rt: Runtime, id_card: str) -> str:
    """The ``Person`` entity id of an ID number: a keyed hash of it (the audit's subject key), never the number."""
    return registry_entity_id(rt, PERSONS, id_card)


def registry_entity_id(rt: Runtime, registry: Registry | str, key: str) -> str:
    """The id of the entity of ``registry`` (or its name: persons, legal-entities, places) with record key
    ``key``: a keyed hash of a personal key, the key itself for a public one."""
    reg = BY_NAME[registry] if isinstance(registry, str) else registry
    return _entity_id(reg, normal_key(key), audit_keys(rt).subject_hash if reg.hashed else None)


def _entity_id(registry: Registry, key: str, hashed: Callable[[str], str] | None) -> str:
    return registry.id_prefix + (hashed(key)[:32] if hashed is not None else key)


def feed_plan(rt: Runtime, tenant: str, code: str) -> Plan:
    """How the entry's items feed its registry; InvalidFeed when the entry has no registry's record key item
    and no items that identify an entity of a registry whose records may be resolved."""
    view = view_entry(rt, tenant, code)

    def key_source(registry: Registry) -> str | None:
        found = [s.department for s in item_sources(rt, tenant) if s.key == registry.key_item]
        return found[0] if found else None

    plan = plan_of(view, key_source)
    if plan is None:
        keys = ", ".join(f"{r.key_item} ({r.key_name}: the {r.name} registry)" for r in REGISTRIES)
        raise InvalidFeed(f"{code} has no item keyed as a base registry's record key, one of {keys}: it feeds no "
                          "registry", code=code)  # fmt: skip
    return plan


def run_feed(
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
    """Merge a department's ``records`` of entry ``code`` into the registry it feeds and store the run.

    ``lines`` are the records' lines in their file (else a rejection names the record's index in the batch);
    ``progress`` is told how many records are done after every chunk. Raises EntryNotFound, InvalidFeed.
    Chunks commit in order, one at a time; the next is checked while the one before is written."""
    plan = feed_plan(rt, tenant, code)
    sources = {plan.key.source, *(s.source for s in plan.slots.values())}
    if department not in sources:
        raise NotASource(
            f"{department!r} is the source of no item of entry {code} (一数一源): a feed carries the values of the "
            f"items a department is the source of; the sources of this entry's items: {', '.join(sorted(sources))}",
            code=code,
        )
    feed = _Feed(rt, tenant, plan, department)
    total = len(records)
    if plan.resolving:  # no key in the records: those resolution matches for certain go on, keyed
        records, lines, feed.rejections = _resolved(rt, tenant, plan, department, records, lines, by)
    with ThreadPoolExecutor(1, thread_name_prefix="feed") as pool:
        before: tuple[Future[list[hub.Outcome]] | None, list[_Pending], int] | None = None
        for start in range(0, len(records), CHUNK):
            ops, pending = feed.prepare(records[start : start + CHUNK], start, lines)
            written = pool.submit(hub.apply, rt, tenant, ops, creates=True, writer=feed.writer) if ops else None
            if before is not None:
                feed.collect(*before, progress)
            before = (written, pending, min(start + CHUNK, len(records)))
        if before is not None:
            feed.collect(*before, progress)
    # issue 18 item 3: the entry's rules run over the run's records in the background, once the run is stored
    checked = code in rule_sets()
    run = _store(rt, tenant, code, department, by, total, feed.counts, feed.conflicts, feed.rejections,
                 feed_quality.job(rt, records) if checked else None)  # fmt: skip
    if checked:
        feed_quality.queue(rt, tenant, code, run.id, by, records)
    return run


def wait_for_quality(rt: Runtime, tenant: str, run_id: str, timeout: float | None = None) -> FeedRun:
    """The run once its quality run, made in the background by this process, is done or failed (TimeoutError
    after ``timeout`` seconds); at once when it is not being made here. Raises FeedRunNotFound."""
    feed_quality.wait(rt, run_id, timeout)
    return get_feed_run(rt, tenant, run_id, limit=0)


def _resolved(
    rt: Runtime, tenant: str, plan: Plan, department: str, records: Sequence[Any], lines: Sequence[int] | None,
    by: str,
) -> tuple[list[dict[str, Any]], list[int], list[Rejection]]:  # fmt: skip
    """Resolve a keyless feed's records to the registry's entities (实体识别, the decisions kept with their
    evidence): the records matched for certain, each with the key of its entity, and their lines; the others
    rejected with the decision that says why and how to go on (settle a review decision, or feed the key)."""
    registry, model = plan.registry, str(plan.registry.resolution)
    asked, where, rejected = [], [], []
    for i, record in enumerate(records):
        line = lines[i] if lines is not None else i
        if not isinstance(record, Mapping):
            rejected.append(Rejection(line, None, f"a record is an object of item names and values, not "
                                                  f"{type(record).__name__}"))  # fmt: skip
            continue
        asked.append(identifying_values(plan, record))
        where.append((line, record))
    if not asked:
        return [], [], rejected
    run = resolve(rt, tenant, plan.code, department, asked, _candidates(rt, tenant, registry), by=by, model=model,
                  lines=[line for line, _ in where])  # fmt: skip
    of_line = dict(where)
    rejected += [Rejection(u.line, None, f"cannot be resolved to the {registry.name} registry: {u.reason}")
                 for u in run.rejections]  # fmt: skip
    matched, matched_lines = [], []
    for d in run.decisions:
        if d.decision == "matched" and d.entity is not None:
            matched.append({**of_line[d.line], RESOLVED_KEY: d.entity.removeprefix(registry.id_prefix)})
            matched_lines.append(d.line)
        else:
            rejected.append(Rejection(d.line, None, _unresolved(registry, d)))
    return matched, matched_lines, rejected


def _unresolved(registry: Registry, d: Resolved) -> str:
    if d.decision == "review":
        return (f"not matched for certain to a {registry.entity_type} (resolution {d.id}: {d.reason}): a person "
                f"settles it at POST /datahub/resolutions/{d.id}/settle, or the record gives "
                f"{registry.key_name}; then feed it again")  # fmt: skip
    return (f"matches no {registry.entity_type} of the registry (resolution {d.id}: {d.reason}): the registry "
            f"takes a new one only from the source of {registry.key_name}")  # fmt: skip


def _candidates(rt: Runtime, tenant: str, registry: Registry) -> dict[str, list[Candidate]]:
    """The registry's entities as resolution compares them, by blocking key."""
    tm, fields = hub.term_map(rt), dict(registry.resolved_by)
    found = []
    try:
        for chunk in hub.entities_changed(rt, tenant, registry.entity_type, tm):
            for row in chunk:
                held = held_values(hub.key_values(row.id, row.types, row.attrs, tm), fields.values())
                found.append(Candidate(row.id, {f: held[a] for f, a in fields.items() if held[a] is not None}))
    except hub.NgsiLdError:  # a tenant with no entities yet: nothing to match
        return {}
    return index_candidates(get_model(str(registry.resolution)), found)


_Pending = tuple[int, str, str, dict[str, Any]]  # line, record key, entity id, what its mutation found


class _Feed:
    """One run's state: the plan, the keyed hash, the counts, conflicts and rejections found so far."""

    def __init__(self, rt: Runtime, tenant: str, plan: Plan, department: str) -> None:
        self.plan, self.department, self.tm = plan, department, hub.term_map(rt)
        self.hashed = audit_keys(rt).subject_hash if plan.registry.hashed else None
        tops = {s.attribute.partition(".")[0] for s in (plan.key, *plan.slots.values())}
        self.iris = {a: self.tm.expand(a) for a in tops}
        self.types = [self.tm.expand(plan.registry.entity_type)]
        self.writer = hub.Writer(plan.key.source)  # the registry's entities are kept by the source of their key
        self.counts = dict.fromkeys(("new", "changed", "unchanged", "conflicting"), 0)
        self.conflicts: list[Conflict] = []
        self.rejections: list[Rejection] = []

    def prepare(
        self, chunk: Sequence[Any], start: int, lines: Sequence[int] | None
    ) -> tuple[list[tuple[str, hub.Mutation]], list[_Pending]]:
        """Check a chunk's records (rejecting the malformed) and make the mutations of the others."""
        plan, ops, pending = self.plan, [], []
        for i, record in enumerate(chunk, start):
            line = lines[i] if lines is not None else i
            problem = record_problem(plan, record)
            if problem is not None:
                key = record.get(plan.key.item) if isinstance(record, Mapping) else None
                # a rejected key is kept as far as its column holds (a malformed one may be any length)
                self.rejections.append(Rejection(line, key[:64] if isinstance(key, str) else None, problem))
                continue
            key = normal_key(record[plan.key.item])
            eid = _entity_id(plan.registry, key, self.hashed)
            found: dict[str, Any] = {}
            ops.append((eid, _mutation(plan, self.department, key, eid, offered(plan, record), self.iris,
                                       self.types, found)))  # fmt: skip
            pending.append((line, key, eid, found))
        order = sorted(range(len(ops)), key=lambda n: ops[n][0])  # by id: the writes touch the index in order
        return [ops[n] for n in order], [pending[n] for n in order]

    def collect(
        self, written: Future[list[hub.Outcome]] | None, pending: list[_Pending], done: int,
        progress: Callable[[int], None] | None,
    ) -> None:  # fmt: skip
        """Count a written chunk's records by what their mutations found."""
        outcomes = written.result() if written is not None else []
        for (line, key, eid, found), outcome in zip(pending, outcomes, strict=True):
            if outcome.error is not None:
                self.rejections.append(Rejection(line, key, outcome.error.detail))
                continue
            m: Merge = found["merge"]
            self.conflicts += [Conflict(key, eid, item, source, value) for item, source, value in m.conflicts]
            self.counts["conflicting" if m.conflicts else found["state"]] += 1
        if progress is not None:
            progress(done)


def _mutation(
    plan: Plan, department: str, key: str, eid: str, values: dict[str, Any], iris: dict[str, str],
    types: list[str], result: dict[str, Any],
) -> hub.Mutation:  # fmt: skip
    wanted = [plan.key.attribute, *(s.attribute for s in plan.slots.values())]

    def run(cur: hub.EntityRow | None, now: str) -> hub.Change:
        tops = {} if cur is None else {a: _held(cur.attrs.get(iri)) for a, iri in iris.items()}
        held = held_values(tops, wanted)
        m = merge(plan, department, values, held)
        changes = {a: v for a, v in m.apply.items() if held.get(a) != v}
        if held.get(plan.key.attribute) is None:  # the identity: set by whoever feeds first (an entity made
            changes[plan.key.attribute] = key  # elsewhere, e.g. the district's buildings, takes it then)
        result["merge"], result["state"] = m, "new" if cur is None else "changed" if changes else "unchanged"
        if cur is not None and not changes:
            return hub.Change(cur)
        # the values were checked with the record (record_problem): they are set as they are, no body parsed,
        # and the mutation's own history rows are the values it changed
        props = shaped(changes, tops)
        return hub.m_set_values(eid, types, {iris[a]: v for a, v in props.items()})(cur, now)

    return run


def _held(instances: list[dict[str, Any]] | None) -> Any:
    for instance in instances or ():
        if instance.get("datasetId") is None:
            return instance.get("value")
    return None


def _store(
    rt: Runtime, tenant: str, code: str, department: str, by: str, records: int, counts: dict[str, int],
    conflicts: list[Conflict], rejections: list[Rejection], quality_job: dict[str, Any] | None,
) -> FeedRun:  # fmt: skip
    """Store the run with its conflicts and rejections, and, when its quality run is to be made, the claim on it
    with its records (:mod:`feed_quality`): one transaction, so that a pending run always has its records."""
    quality = feed_quality.PENDING if quality_job is not None else None
    run = FeedRun(id=uuid.uuid4().hex[:16], code=code, department=department, by=by, at=now_iso(), records=records,
                  rejected=len(rejections), conflicts=tuple(conflicts), rejections=tuple(rejections),
                  new=counts["new"], changed=counts["changed"], unchanged=counts["unchanged"],
                  conflicting=counts["conflicting"], quality=quality)  # fmt: skip
    row = {"tenant": tenant, "id": run.id, "code": code, "department": department, "by": by, "at": run.at,
           "at_ms": int(time.time() * 1000), "records": records, "rejected": run.rejected, "quality": quality,
           **counts}  # fmt: skip
    conflict_rows = [{"tenant": tenant, "run_id": run.id, "seq": n, "record": c.record, "entity_id": c.entity_id,
                      "item": c.item, "source": c.source, "offered": json.dumps(c.offered, ensure_ascii=False)}
                     for n, c in enumerate(conflicts)]  # fmt: skip
    rejection_rows = [{"tenant": tenant, "run_id": run.id, "seq": n, "line": r.line, "record": r.record,
                       "reason": r.reason} for n, r in enumerate(rejections)]  # fmt: skip
    job = None if quality_job is None else {**quality_job, "tenant": tenant, "run_id": run.id, "at_ms": row["at_ms"]}
    rt.db.run_write(lambda conn: store.insert_run(conn, row, conflict_rows, rejection_rows, job))
    return run


def _run(row: dict[str, Any], conflicts: Sequence[Conflict] = (), rejections: Sequence[Rejection] = ()) -> FeedRun:
    fields = ("id", "code", "department", "by", "at", "records", "new", "changed", "unchanged", "conflicting",
              "rejected")  # fmt: skip
    return FeedRun(**{f: row[f] for f in fields}, conflicts=tuple(conflicts), rejections=tuple(rejections),
                   quality=row.get("quality"), quality_run=row.get("quality_run"),
                   quality_taken_up=row.get("quality_taken_up"))  # fmt: skip


def get_feed_run(rt: Runtime, tenant: str, run_id: str, *, limit: int = MAX_LIST, offset: int = 0) -> FeedRun:
    """A run with a page of its conflicts and of its rejections (in the order found); FeedRunNotFound."""
    with rt.db.connect() as conn:
        row = store.get_run(conn, tenant, run_id)
        if row is None:
            raise FeedRunNotFound(f"there is no feed run {run_id!r}: GET /datahub/feeds/runs lists them")
        found = [Conflict(c["record"], c["entity_id"], c["item"], c["source"], json.loads(c["offered"]))
                 for c in store.conflicts(conn, tenant, run_id, limit, offset)]  # fmt: skip
        rejected = [Rejection(r["line"], r["record"], r["reason"])
                    for r in store.rejections(conn, tenant, run_id, limit, offset)]  # fmt: skip
    return _run(row, found, rejected)


def feed_runs(
    rt: Runtime, tenant: str, *, department: str | None = None, code: str | None = None, limit: int = 20,
    offset: int = 0,
) -> tuple[list[FeedRun], int]:  # fmt: skip
    """A page of runs, newest first (of one department's feeds, of one entry, if named), and their total."""
    with rt.db.connect() as conn:
        rows = store.runs(conn, tenant, department, code, limit, offset)
        total = store.count_runs(conn, tenant, department, code)
    return [_run(r) for r in rows], total
