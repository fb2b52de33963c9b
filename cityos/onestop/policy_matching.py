"""Policy matching runs (政策找人 · 免申即享): a policy's condition evaluated over the whole registry at once,
and the notices and benefits that follow.

A run is recorded first (:func:`start_run`: the department's grants decided, 403 naming the grant to ask for
when it may not read) and done in the background by the process holding the onestop role
(:mod:`cityos.onestop.policy_runner`, :func:`take_next`, :func:`execute`), its progress (records read,
matched, notified) written as it goes. It reads the catalogue entries its policy's columns come from AS the
policy's department, under its grant for the scenario :data:`SCENARIO`, through the data hub's governed bulk
read (:func:`cityos.datahub.read_columns`: keyset chunks, the grant decided once, every chunk appended to the
audit chain with the persons it concerns and the purpose ``政策找人 <policy>``), builds the columns (numpy),
evaluates the condition over them in one pass, and writes one notice per eligible subject that this policy
version has not notified yet, in chunks: a rerun, or a run interrupted (or left by a process that died, and
taken again by the next) and run again, notifies no one twice (the notices' unique key is the policy, its
version and the subject).

A person (or enterprise) reads its notices in the portal inbox; a grant-mode notice (免申即享) is confirmed
(意愿确认) or declined; a confirmation grants the benefit with a record of who confirmed, when, the policy
version and the matching inputs. Plain functions over the runtime, free of HTTP.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError

from cityos import datahub
from cityos.onestop import policy_store as store
from cityos.onestop.policies import ColumnSpec, Policy, PolicySet, build_columns_of, policy, row_values, shipped
from cityos.onestop.policy_errors import NoticeMoveRefused, NoticeNotFound, PolicyRunNotFound, PolicyRunRefused
from cityos.onestop.policy_rules import evaluate
from cityos.runtime import Runtime

SCENARIO = "政策找人"  # the application scenario a policy's department reads the registries under
ROUTE = "POST /onestop/policies/{code}/runs"  # the API the audit records name
CHUNK = 500  # notices written per transaction: an interrupted run keeps the chunks written
COLUMN_CHUNK = 5_000  # registry entities read (and audited) per chunk
MAX_ATTEMPTS = 3  # times a run is taken by a process before one that stops each time fails it
SUBJECT_KIND = {"person": "person", "enterprise": "enterprise"}


@dataclass(frozen=True)
class Run:
    id: str
    policy_code: str
    policy_version: int
    department: str
    by: str
    state: str  # running | done | failed
    subjects: int
    read: int  # records read so far (every entry's): the progress of a running run
    matched: int
    notified: int
    audit_seqs: list[int]
    error: str | None
    started_at_ms: int
    finished_at_ms: int | None
    attempts: int = 0  # times a process took it (more than one: a process stopped while it ran)
    tenant: str = ""


@dataclass(frozen=True)
class Notice:
    id: str
    policy: Policy
    subject_kind: str
    subject_id: str
    run_id: str
    state: str  # notified | granted | declined
    inputs: dict[str, Any]  # column -> value as read (raw items as held: mask before showing to others)
    created_at_ms: int
    decided_at_ms: int | None
    decided_by: str | None


@dataclass(frozen=True)
class Granted:
    notice_id: str
    policy_code: str
    policy_version: int
    subject_id: str
    department: str
    benefit: str
    inputs: dict[str, Any]
    run_id: str
    confirmed_by: str
    granted_at_ms: int


@dataclass(frozen=True)
class PolicyCounts:
    notified: int  # every notice written
    pending: int  # grant mode: awaiting the person's confirmation
    granted: int
    declined: int


Stop = Callable[[int], None]  # called with the notices written so far, between chunks; raise to stop


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _run(row: Mapping[str, Any]) -> Run:
    return Run(row["id"], row["policy_code"], row["policy_version"], row["department"], row["by"], row["state"],
               row["subjects"], row["read"], row["matched"], row["notified"], list(row["audit_seqs"] or []),
               row["error"], row["started_at_ms"], row["finished_at_ms"], row["attempts"], row["tenant"])  # fmt: skip


def _refused(p: Policy, code: str, detail: str) -> PolicyRunRefused:
    return PolicyRunRefused(
        f"{p.department!r} may not read {code} for {p.name_zh} ({p.code}): it needs a grant of {code} for the "
        f"scenario {SCENARIO!r} showing the items the policy reads in full. ({detail})",
        code=code, department=p.department, scenario=SCENARIO,
    )  # fmt: skip


def _reads(rt: Runtime, tenant: str, p: Policy, specs: Sequence[ColumnSpec], by: str,
           chunk: int | None = None) -> list[datahub.ColumnsRead]:  # fmt: skip
    """The bulk reads of the entries the policy's columns come from, decided (the grant looked up once per
    entry, nothing read yet); PolicyRunRefused (403) naming the grant to ask for when the department holds
    none, or one that leaves out or masks an item the policy reads."""
    reader = datahub.Reader(by, p.department, False, SCENARIO, f"{SCENARIO} {p.name_zh}")
    out = []
    for code in dict.fromkeys(s.entry for s in specs):
        wanted = list(dict.fromkeys(s.item for s in specs if s.entry == code))
        try:
            read = datahub.read_columns(rt, tenant, code, reader, wanted, chunk=chunk or COLUMN_CHUNK,
                                        route=ROUTE)  # fmt: skip
        except datahub.NoGrant as refused:
            raise _refused(p, code, refused.detail) from None
        masked = [i for i in wanted if i in read.access.masked]
        if masked:
            raise _refused(p, code, f"grant {read.access.grant} masks {', '.join(masked)}")
        out.append(read)
    return out


Progress = Callable[[int, list[int]], None]  # records read so far, the audit seqs so far: after each chunk


def read_values(
    rt: Runtime, tenant: str, p: Policy, specs: Sequence[ColumnSpec], by: str, *, chunk: int | None = None,
    progress: Progress | None = None,
) -> tuple[list[str], dict[str, list[Any]], list[int]]:  # fmt: skip
    """Every subject of the policy's registry with the items its columns come from: (entity ids in order,
    item -> its values in the same order (None: missing), the audit seqs of the reads). Each entry is read
    in keyset chunks through the data hub's governed bulk read (:func:`cityos.datahub.read_columns`) as the
    policy's department under its grant for :data:`SCENARIO`, every chunk audited with the persons it
    concerns; PolicyRunRefused (403) as :func:`_reads` says."""
    at: dict[str, int] = {}
    ids: list[str] = []
    values: dict[str, list[Any]] = {}
    seqs: list[int] = []
    read = 0
    for bulk in _reads(rt, tenant, p, specs, by, chunk):
        for name in bulk.items:
            values.setdefault(name, [None] * len(ids))
        for part in bulk.chunks():
            for entity_id in part.ids:
                if entity_id not in at:
                    at[entity_id] = len(ids)
                    ids.append(entity_id)
                    for column in values.values():
                        column.append(None)
            for name, column in part.columns.items():
                into = values[name]
                for entity_id, value in zip(part.ids, column, strict=True):
                    into[at[entity_id]] = value
            if part.audit_seq is not None:
                seqs.append(part.audit_seq)
            read += len(part.ids)
            if progress is not None:
                progress(read, seqs)
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return [ids[i] for i in order], {n: [c[i] for i in order] for n, c in values.items()}, seqs


def _notices(p: Policy, run_id: str, ids: Sequence[str], inputs: Sequence[dict[str, Any]], tenant: str,
             at: int) -> list[dict[str, Any]]:  # fmt: skip
    return [{"tenant": tenant, "id": uuid.uuid4().hex, "policy_code": p.code, "policy_version": p.version,
             "subject_kind": SUBJECT_KIND[p.target], "subject_id": s, "run_id": run_id, "mode": p.mode,
             "state": "notified", "inputs": i, "created_at_ms": at, "decided_at_ms": None, "decided_by": None}
            for s, i in zip(ids, inputs, strict=True)]  # fmt: skip


def _write_chunk(rt: Runtime, tenant: str, p: Policy, run_id: str, ids: list[str], inputs: list[dict[str, Any]]
                 ) -> int:  # fmt: skip
    """Notices for those of ``ids`` the policy version has not notified: how many written. A concurrent run
    that wrote one first trips the unique key: the chunk is retried, skipping it."""
    for _ in range(3):
        try:
            with rt.db.write() as conn:
                done = store.notified_among(conn, tenant, p.code, p.version, ids)
                fresh = [(s, i) for s, i in zip(ids, inputs, strict=True) if s not in done]
                store.insert_notices(conn, _notices(p, run_id, [s for s, _ in fresh], [i for _, i in fresh], tenant,
                                                    _now_ms()))  # fmt: skip
                return len(fresh)
        except IntegrityError:
            continue
    raise PolicyRunRefused(f"another run of {p.code} is writing the same notices: run it again when it is done")


class Paused(Exception):
    """The process running a run is stopping: the run is left running for the next process to take."""


def start_run(rt: Runtime, tenant: str, code: str, *, by: str, policies: PolicySet | None = None) -> Run:
    """Record a run of policy ``code`` to be done in the background (state running, taken by the process that
    holds the onestop role: :class:`cityos.onestop.policy_runner.PolicyRunner`). The department's grants are
    decided first: PolicyRunRefused (403) naming the grant to ask for, and no run, when it may not read."""
    found = policies or shipped()
    p = policy(code, found)
    _reads(rt, tenant, p, found.specs(p), by)
    run_id = uuid.uuid4().hex
    with rt.db.write() as conn:
        store.insert_run(conn, {"tenant": tenant, "id": run_id, "policy_code": p.code, "policy_version": p.version,
                                "department": p.department, "by": by, "state": "running", "subjects": 0,
                                "read": 0, "matched": 0, "notified": 0, "audit_seqs": [], "error": None,
                                "holder": None, "attempts": 0, "started_at_ms": _now_ms(),
                                "finished_at_ms": None})  # fmt: skip
    return get_run(rt, tenant, run_id)


def execute(
    rt: Runtime, tenant: str, run_id: str, *, policies: PolicySet | None = None, on: date | None = None,
    stop: Stop | None = None, pause: Callable[[], bool] | None = None, chunk: int | None = None,
) -> Run:  # fmt: skip
    """Do run ``run_id``: read, evaluate, notify (see the module), its progress (records read, matched,
    notified) written after each chunk. ``on``: the date ages are computed at (today); ``stop``: called
    between chunks of notices (a test interrupts a run with it); ``pause``: asked between chunks, True when
    the process is stopping (the run is left running, Paused raised). A run that fails is recorded failed,
    with what went wrong, and the error raised; the notices written so far are kept."""
    found = policies or shipped()
    run = get_run(rt, tenant, run_id)
    p = policy(run.policy_code, found)
    specs = found.specs(p)
    with rt.db.connect() as conn:
        already = store.notified_by(conn, tenant, run_id)  # a run taken again: what it wrote before
    counts: dict[str, Any] = {"subjects": 0, "read": 0, "matched": 0, "notified": already, "audit_seqs": []}

    def check() -> None:
        if pause is not None and pause():
            raise Paused(run_id)

    def progress(read: int, seqs: list[int]) -> None:
        counts.update(read=read, audit_seqs=list(seqs))
        with rt.db.write() as conn:
            store.update_run(conn, tenant, run_id, {"read": read, "audit_seqs": counts["audit_seqs"]})
        check()

    try:
        ids, values, seqs = read_values(rt, tenant, p, specs, run.by, chunk=chunk, progress=progress)
        counts.update(subjects=len(ids), audit_seqs=seqs)
        columns = build_columns_of(specs, values, on or datetime.now(UTC).date())
        hits = np.flatnonzero(evaluate(p.rule, columns, len(ids)))
        counts["matched"] = len(hits)
        with rt.db.write() as conn:
            store.update_run(conn, tenant, run_id, {k: counts[k] for k in ("subjects", "matched", "audit_seqs")})
        for start in range(0, len(hits), CHUNK):
            part = hits[start : start + CHUNK]
            counts["notified"] += _write_chunk(rt, tenant, p, run_id, [ids[i] for i in part],
                                               [row_values(specs, columns, int(i)) for i in part])  # fmt: skip
            with rt.db.write() as conn:
                store.update_run(conn, tenant, run_id, {"notified": counts["notified"]})
            if stop is not None:
                stop(counts["notified"])
            check()
    except Paused:
        with rt.db.write() as conn:  # left for the next process, as if it had never been taken by this one
            store.update_run(conn, tenant, run_id, {**counts, "holder": None, "attempts": max(0, run.attempts - 1)})
        raise
    except Exception as exc:
        with rt.db.write() as conn:
            store.update_run(conn, tenant, run_id, {**counts, "state": "failed", "finished_at_ms": _now_ms(),
                                                    "error": getattr(exc, "detail", None) or repr(exc)})  # fmt: skip
        raise
    with rt.db.write() as conn:
        store.update_run(conn, tenant, run_id, {**counts, "state": "done", "finished_at_ms": _now_ms()})
    return get_run(rt, tenant, run_id)


def run_policy(
    rt: Runtime, tenant: str, code: str, *, by: str, policies: PolicySet | None = None, on: date | None = None,
    stop: Stop | None = None, chunk: int | None = None,
) -> Run:  # fmt: skip
    """Run policy ``code`` over its registry here and now (the CLI, the bench, tests): :func:`start_run`, then
    :func:`execute` in this thread. The run's record says how many subjects were evaluated, matched, and newly
    notified."""
    run = start_run(rt, tenant, code, by=by, policies=policies)
    return execute(rt, tenant, run.id, policies=policies, on=on, stop=stop, chunk=chunk)


def take_next(rt: Runtime, holder: str) -> tuple[str, str] | None:
    """Take the oldest run still running that no live process works on, for the process ``holder`` (the
    onestop role's runner): (tenant, run id), or None when there is none. A run taken MAX_ATTEMPTS times
    already (its process stopped each time: it may be what stops them) is failed instead, naming why."""
    with rt.db.connect() as conn:
        found = store.running(conn, holder)
    for row in found:
        tenant, run_id = row["tenant"], row["id"]
        with rt.db.write() as conn:
            if row["attempts"] >= MAX_ATTEMPTS:
                store.update_run(conn, tenant, run_id, {
                    "state": "failed", "finished_at_ms": _now_ms(), "holder": None,
                    "error": f"the process running it stopped {row['attempts']} times before it was done: run the "
                             "policy again (the notices written are kept; no one is notified twice)"})  # fmt: skip
                continue
            if store.take(conn, tenant, run_id, row["holder"], holder, row["attempts"] + 1):
                return tenant, run_id
    return None


def get_run(rt: Runtime, tenant: str, run_id: str) -> Run:
    with rt.db.connect() as conn:
        row = store.get_run(conn, tenant, run_id)
    if row is None:
        raise PolicyRunNotFound(f"no policy matching run {run_id!r}")
    return _run(row)


def policy_runs(rt: Runtime, tenant: str, code: str, limit: int = 20) -> list[Run]:
    """The runs of policy ``code``, newest first."""
    policy(code)
    with rt.db.connect() as conn:
        return [_run(r) for r in store.runs(conn, tenant, code, limit)]


# --- notices ----------------------------------------------------------------------------------------------------


def _notice(row: Mapping[str, Any], policies: PolicySet) -> Notice:
    return Notice(row["id"], policy(row["policy_code"], policies), row["subject_kind"], row["subject_id"],
                  row["run_id"], row["state"], dict(row["inputs"] or {}), row["created_at_ms"],
                  row["decided_at_ms"], row["decided_by"])  # fmt: skip


def my_notices(rt: Runtime, tenant: str, subject_id: str, *, limit: int = 50,
               policies: PolicySet | None = None) -> list[Notice]:  # fmt: skip
    """The notices of the person or enterprise ``subject_id`` (its registry entity's id), newest first."""
    found = policies or shipped()
    with rt.db.connect() as conn:
        rows = store.notices_of(conn, tenant, subject_id, limit)
    return [_notice(r, found) for r in rows if r["policy_code"] in found.policies]


def policy_notices(rt: Runtime, tenant: str, code: str, *, limit: int = 50, offset: int = 0,
                   policies: PolicySet | None = None) -> list[Notice]:  # fmt: skip
    """The notices of policy ``code`` (who matched, and why), newest first."""
    found = policies or shipped()
    policy(code, found)
    with rt.db.connect() as conn:
        return [_notice(r, found) for r in store.notices_of_policy(conn, tenant, code, limit, offset)]


def _own(rt: Runtime, tenant: str, notice_id: str, subject_id: str, policies: PolicySet) -> Notice:
    with rt.db.connect() as conn:
        row = store.notice(conn, tenant, notice_id)
    if row is None or row["subject_id"] != subject_id:
        raise NoticeNotFound(f"you have no notice {notice_id!r}: see GET /onestop/me/notices")
    return _notice(row, policies)


def confirm(rt: Runtime, tenant: str, notice_id: str, subject_id: str, *, by: str,
            policies: PolicySet | None = None) -> Granted:  # fmt: skip
    """The person confirms a grant-mode notice (意愿确认): the benefit is granted, recorded with who confirmed,
    when, the policy version and the matching inputs, in the transaction that moves the notice.
    NoticeMoveRefused (409) for a notify-mode notice or one decided already."""
    found = policies or shipped()
    n = _own(rt, tenant, notice_id, subject_id, found)
    if n.policy.mode != "grant":
        raise NoticeMoveRefused(f"{n.policy.name_zh} is a notice to read (政策找人): there is nothing to confirm; "
                                "follow its guidance to apply")  # fmt: skip
    at = _now_ms()
    with rt.db.write() as conn:
        if not store.decide(conn, tenant, notice_id, "granted", at, by):
            raise NoticeMoveRefused(f"notice {notice_id} is {n.state} already: it is decided once")
        row = {"tenant": tenant, "notice_id": notice_id, "policy_code": n.policy.code,
               "policy_version": n.policy.version, "subject_id": subject_id, "department": n.policy.department,
               "benefit": n.policy.benefit, "inputs": n.inputs, "run_id": n.run_id, "confirmed_by": by,
               "granted_at_ms": at}  # fmt: skip
        store.insert_grant(conn, row)
    return granted(rt, tenant, notice_id)


def decline(rt: Runtime, tenant: str, notice_id: str, subject_id: str, *, by: str,
            policies: PolicySet | None = None) -> Notice:  # fmt: skip
    """The person declines a grant-mode notice: nothing is granted, and it is not offered again for this
    policy version. NoticeMoveRefused (409) for a notify-mode notice or one decided already."""
    found = policies or shipped()
    n = _own(rt, tenant, notice_id, subject_id, found)
    if n.policy.mode != "grant":
        raise NoticeMoveRefused(f"{n.policy.name_zh} is a notice to read (政策找人): there is nothing to decline")
    with rt.db.write() as conn:
        if not store.decide(conn, tenant, notice_id, "declined", _now_ms(), by):
            raise NoticeMoveRefused(f"notice {notice_id} is {n.state} already: it is decided once")
    return _own(rt, tenant, notice_id, subject_id, found)


def granted(rt: Runtime, tenant: str, notice_id: str) -> Granted:
    """The record of the benefit granted on a notice; NoticeNotFound when none was."""
    with rt.db.connect() as conn:
        row = store.grant(conn, tenant, notice_id)
    if row is None:
        raise NoticeNotFound(f"no benefit was granted on notice {notice_id!r}")
    return Granted(row["notice_id"], row["policy_code"], row["policy_version"], row["subject_id"], row["department"],
                   row["benefit"], dict(row["inputs"] or {}), row["run_id"], row["confirmed_by"],
                   row["granted_at_ms"])  # fmt: skip


def counts(rt: Runtime, tenant: str) -> dict[str, PolicyCounts]:
    """Per policy code: notices written, awaiting confirmation, granted, declined."""
    with rt.db.connect() as conn:
        by = store.counts(conn, tenant)
    modes = {p.code: p.mode for p in shipped().policies.values()}
    out = {}
    for code, states in by.items():
        pending = states.get("notified", 0) if modes.get(code) == "grant" else 0  # a notify notice awaits nothing
        out[code] = PolicyCounts(sum(states.values()), pending, states.get("granted", 0), states.get("declined", 0))
    return out


def shown_inputs(rt: Runtime, tenant: str, p: Policy, inputs: Mapping[str, Any],
                 policies: PolicySet | None = None) -> dict[str, Any]:  # fmt: skip
    """The matching inputs as others may see them: an item as read is masked as the data hub masks its kind
    (an address cut after the street, a name to its surname); a derived figure (an age) is shown as it is."""
    found = policies or shipped()
    out = {}
    for name, value in inputs.items():
        spec = found.columns[p.target].get(name)
        if spec is None or spec.derive or value is None:
            out[name] = value
            continue
        kinds = {i.name: i.kind for i in datahub.get_entry(rt, tenant, spec.entry).items}
        out[name] = datahub.mask_value(kinds.get(spec.item, "text"), value)
    return out
