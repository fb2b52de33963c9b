"""Entity resolution runs (实体识别, issue 18 item 1): a department's records that carry no registry key are
resolved against candidates the caller supplies (a callable from a blocking key to candidates, or a mapping
of blocking keys to them, e.g. :func:`cityos.datahub.resolution.index_candidates` of the registry's
entities), and every decision is kept with its evidence under a run id. A ``review`` decision is settled by a
person (matched to one of the candidates it scored, or declared new), once, with who and when.

The decision made is never changed: the settlement sits beside it, so that the model's precision can be
measured against what people decided.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from cityos.core.timefmt import now_iso
from cityos.datahub import resolution_store as store
from cityos.datahub.audit import append
from cityos.datahub.catalogue import backing_index, get_entry
from cityos.datahub.datasets import Reader, access_of, audit_read
from cityos.datahub.errors import InvalidResolution, InvalidSettlement, ResolutionNotFound, SettlementRefused
from cityos.datahub.masking import mask_fully, mask_value
from cityos.datahub.models import Access, CatalogueEntry
from cityos.datahub.registry import REGISTRIES
from cityos.datahub.resolution import (
    Candidate,
    Decision,
    FieldEvidence,
    Model,
    Outcome,
    Score,
    blocking_keys,
    get_model,
)
from cityos.datahub.resolution import decide as decide_one
from cityos.runtime import Runtime

CandidateSource = Callable[[str], Iterable[Candidate]] | Mapping[str, Sequence[Candidate]]
Settled = Literal["matched", "new"]
MAX_SCORED = 10  # candidates kept per decision, best first: those a person may settle on
MAX_VALUE = 2000  # characters of one compared value
MAX_LIST = 1000


@dataclass(frozen=True)
class Settlement:
    """A person's settlement of a review decision: matched to ``entity``, or new."""

    outcome: Settled
    entity: str | None
    by: str
    at: str
    note: str | None


@dataclass(frozen=True)
class Resolved:
    """One record's decision as kept: where it came from, the decision and its evidence, the settlement."""

    id: str
    run: str
    seq: int
    line: int
    code: str
    department: str
    provider: str
    model: str
    by: str
    at: str
    decision: Outcome
    entity: str | None
    total: float | None
    reason: str
    record: dict[str, Any]
    best: Score | None
    runner_up: Score | None
    scored: tuple[tuple[str, float], ...]
    settlement: Settlement | None = None

    @property
    def resolved_to(self) -> str | None:
        """The entity the record is now: the settlement's, else the decision's (None: a new entity, or not
        yet settled)."""
        return self.settlement.entity if self.settlement is not None else self.entity


@dataclass(frozen=True)
class Unresolved:
    """A record that could not be compared: its line (or index in the batch) and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ResolutionRun:
    """A run's report: counts per decision, the decisions and the records it could not compare."""

    id: str
    code: str
    department: str
    model: str
    by: str
    at: str
    records: int
    matched: int
    review: int
    new: int
    rejected: int
    decisions: tuple[Resolved, ...]
    rejections: tuple[Unresolved, ...]


def _problem(model: Model, record: Any) -> str | None:
    if not isinstance(record, Mapping):
        return f"a record is an object of field names and values, not {type(record).__name__}"
    fields = [f.field for f in model.fields]
    for name in fields:
        value = record.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
            return f"{name}: a value is text or a number, not {type(value).__name__}"
        if isinstance(value, str) and len(value) > MAX_VALUE:
            return f"{name}: {len(value)} characters; at most {MAX_VALUE}"
    if not blocking_keys(model, record):
        return f"none of {', '.join(model.blocking)} has a value: the record cannot be compared with the registry"
    return None


def _lookup(candidates: CandidateSource) -> Callable[[str], Iterable[Candidate]]:
    if isinstance(candidates, Mapping):
        index = candidates
        return lambda key: index.get(key, ())
    cache: dict[str, list[Candidate]] = {}  # a run asks the caller once per key

    def ask(key: str) -> list[Candidate]:
        if key not in cache:
            cache[key] = list(candidates(key))
        return cache[key]

    return ask


def resolve(
    rt: Runtime,
    tenant: str,
    code: str,
    department: str,
    records: Sequence[Any],
    candidates: CandidateSource,
    *,
    by: str,
    model: str = "legal-entity",
    lines: Sequence[int] | None = None,
) -> ResolutionRun:
    """Resolve ``records`` (field name -> value, as the model names the fields) of entry ``code`` from
    ``department`` against ``candidates`` and keep every decision under a new run id.

    A record that cannot be compared (not an object, no value to block on) is rejected with its line
    (``lines``, else its index) and the rest go on. Raises EntryNotFound, InvalidResolution."""
    if not records:
        raise InvalidResolution("there are no records to resolve: a run takes at least one")
    m, provider = get_model(model), get_entry(rt, tenant, code).provider
    ask = _lookup(candidates)
    run_id, at, at_ms = uuid.uuid4().hex[:16], now_iso(), int(time.time() * 1000)
    head = {"run": run_id, "code": code, "department": department, "provider": provider, "model": model, "by": by,
            "at": at}  # fmt: skip
    decided: list[Resolved] = []
    rejected: list[Unresolved] = []
    for i, record in enumerate(records):
        line = lines[i] if lines is not None else i
        problem = _problem(m, record)
        if problem is not None:
            rejected.append(Unresolved(line, problem))
            continue
        found = [c for key in blocking_keys(m, record) for c in ask(key)]
        values = {f.field: record[f.field] for f in m.fields if record.get(f.field) is not None}
        decided.append(_resolved(uuid.uuid4().hex[:20], len(decided), line, head, decide_one(m, record, found), values))
    rows = [_row(tenant, r, at_ms) for r in decided]
    rt.db.run_write(lambda conn: store.insert_decisions(conn, rows))
    counts = {o: sum(1 for r in decided if r.decision == o) for o in ("matched", "review", "new")}
    return ResolutionRun(run_id, code, department, model, by, at, len(records), rejected=len(rejected),
                         decisions=tuple(decided), rejections=tuple(rejected), **counts)  # fmt: skip


def _resolved(rid: str, seq: int, line: int, head: dict[str, Any], d: Decision, record: dict[str, Any]) -> Resolved:
    return Resolved(id=rid, seq=seq, line=line, decision=d.outcome, entity=d.entity,
                    total=d.best.total if d.best else None, reason=d.reason, record=record, best=d.best,
                    runner_up=d.runner_up, scored=d.scored[:MAX_SCORED], **head)  # fmt: skip


def _row(tenant: str, r: Resolved, at_ms: int) -> dict[str, Any]:
    evidence = {"reason": r.reason, "record": r.record, "best": asdict(r.best) if r.best else None,
                "runnerUp": asdict(r.runner_up) if r.runner_up else None,
                "scored": [list(s) for s in r.scored]}  # fmt: skip
    return {"tenant": tenant, "id": r.id, "run_id": r.run, "seq": r.seq, "line": r.line, "code": r.code,
            "department": r.department, "provider": r.provider, "model": r.model, "by": r.by, "at": r.at,
            "at_ms": at_ms, "decision": r.decision, "entity": r.entity, "total": r.total,
            "evidence": json.dumps(evidence, ensure_ascii=False)}  # fmt: skip


def _score(doc: dict[str, Any] | None) -> Score | None:
    if doc is None:
        return None
    return Score(doc["candidate"], doc["total"], tuple(FieldEvidence(**f) for f in doc["fields"]))


def _of(row: dict[str, Any]) -> Resolved:
    ev = json.loads(row["evidence"])
    settlement = None
    if row["settled"] is not None:
        settlement = Settlement(row["settled"], row["settled_entity"], row["settled_by"], row["settled_at"],
                                row["settled_note"])  # fmt: skip
    return Resolved(id=row["id"], run=row["run_id"], seq=row["seq"], line=row["line"], code=row["code"],
                    department=row["department"], provider=row["provider"], model=row["model"], by=row["by"],
                    at=row["at"], decision=row["decision"], entity=row["entity"], total=row["total"],
                    reason=ev["reason"], record=ev["record"], best=_score(ev["best"]),
                    runner_up=_score(ev["runnerUp"]), scored=tuple((c, t) for c, t in ev["scored"]),
                    settlement=settlement)  # fmt: skip


def get_resolution(rt: Runtime, tenant: str, decision_id: str) -> Resolved:
    """One decision with its evidence and settlement; ResolutionNotFound."""
    with rt.db.connect() as conn:
        row = store.get(conn, tenant, decision_id)
    if row is None:
        raise ResolutionNotFound(f"there is no resolution decision {decision_id!r}: GET /datahub/resolutions?run=... "
                                 "lists a run's")  # fmt: skip
    return _of(row)


def list_resolutions(
    rt: Runtime, tenant: str, *, run: str | None = None, decision: Outcome | None = None,
    settled: bool | None = None, party: str | None = None, limit: int = 20, offset: int = 0,
) -> tuple[list[Resolved], int]:  # fmt: skip
    """A page of decisions, newest run first and in each run in order (of one run, one decision, settled or
    not, whose records or entry belong to ``party``, if named), and their total."""
    with rt.db.connect() as conn:
        rows = store.page(conn, tenant, run, decision, settled, party, limit, offset)
        total = store.count(conn, tenant, run, decision, settled, party)
    return [_of(r) for r in rows], total


def settle_resolution(
    rt: Runtime, tenant: str, decision_id: str, outcome: Settled, *, by: str, entity: str | None = None,
    note: str | None = None,
) -> Resolved:  # fmt: skip
    """Settle a review decision: ``matched`` to ``entity`` (one of the candidates it scored) or ``new``.
    Raises ResolutionNotFound, SettlementRefused (not a review decision, or settled already) and
    InvalidSettlement (no entity for a match, an entity for new, an entity not scored)."""
    current = get_resolution(rt, tenant, decision_id)
    _check(current, outcome, entity)
    values = {"settled": outcome, "settled_entity": entity, "settled_by": by, "settled_at": now_iso(),
              "settled_note": note}  # fmt: skip
    if not rt.db.run_write(lambda conn: store.settle(conn, tenant, decision_id, values)):
        _check(get_resolution(rt, tenant, decision_id), outcome, entity)  # settled meanwhile: say by whom
    return get_resolution(rt, tenant, decision_id)


def _check(r: Resolved, outcome: Settled, entity: str | None) -> None:
    if r.decision != "review":
        raise SettlementRefused(f"decision {r.id} is {r.decision!r}: only a review decision is settled by a person")
    if r.settlement is not None:
        s = r.settlement
        raise SettlementRefused(f"decision {r.id} was settled {s.outcome}{' to ' + s.entity if s.entity else ''} by "
                                f"{s.by} at {s.at}: a settlement is made once")  # fmt: skip
    scored = [c for c, _ in r.scored]
    if outcome == "matched" and entity not in scored:
        named = ", ".join(scored) or "none"
        raise InvalidSettlement(f"a match names one of the candidates the decision scored (entity): {named}")
    if outcome == "new" and entity is not None:
        raise InvalidSettlement("a record declared new names no entity: leave entity out")


def as_seen_by(
    rt: Runtime, tenant: str, found: Sequence[Resolved], principal: str, department: str | None, route: str
) -> list[Resolved]:
    """Decisions as a reader sees them: each candidate's held values (the registry's) shown as the reader's
    access to the entry backing the registry's entities shows the attribute's item, and the read of those
    candidates appended to the audit chain (a lookup tool otherwise: a name in, a credit code out)."""
    if not found:
        return []
    reader, now = Reader(principal, department, department is None), datetime.now(UTC)
    index, out = backing_index(rt, tenant), []
    read: dict[str, tuple[CatalogueEntry, Access, list[dict[str, Any]]]] = {}
    for r in found:
        registry = next((g for g in REGISTRIES if g.resolution == r.model), None)
        entries = index.get(registry.entity_type, ()) if registry is not None else ()
        if registry is None or not entries:  # no entry governs the registry's entities: answered as stored
            out.append(r)
            continue
        entry = entries[0]
        access = access_of(rt, tenant, entry, reader, now)
        seer = _Seer(access, dict(registry.resolved_by))
        out.append(replace(r, best=seer.score(r.best), runner_up=seer.score(r.runner_up)))
        for s in (r.best, r.runner_up):
            if s is not None:
                read.setdefault(entry.code, (entry, access, []))[2].append({"id": s.candidate})
    if read:
        append(rt, tenant, [audit_read(e, a, reader, recs, route) for e, a, recs in read.values()])
    return out


@dataclass(frozen=True)
class _Seer:
    """A candidate's held values as one reader's access to the registry's backing entry shows them."""

    access: Access
    attribute: dict[str, str]  # the model's field -> the registry attribute (the backing entry's item)

    def value(self, field_name: str, value: str) -> str:
        item, access = self.attribute.get(field_name, field_name), self.access
        if item in access.masked:
            return str(mask_value(access.masked[item], value))
        return value if access.allowed and item in access.shown else str(mask_fully(value))

    def score(self, score: Score | None) -> Score | None:
        if score is None:
            return None
        fields = tuple(replace(f, held=None if f.held is None else self.value(f.field, f.held)) for f in score.fields)
        return replace(score, fields=fields)
