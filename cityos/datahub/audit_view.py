"""The audit view (审计查看): the chain's records of one tenant, newest first, filtered and paged, as each viewer
may see them, and the chain's status (its head and its last seal) checked without walking it.

Who sees what: the city (an auditor or operator, ``city``) every record of the tenant; a department the
reads it made and the reads of the entries it provides. A record shows who read what, when, how many records
and their ids; never the values read, and never the subjects' keyed hashes (they say nothing to a person and
are kept for "who used my data" alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.sql import ColumnElement

from cityos.datahub.audit import CHAIN, LOOKUP_ROUTE, Kind, kind_of, seal_message
from cityos.datahub.audit_keys import keys
from cityos.datahub.tables import audit, audit_head, audit_seals, catalogue_entries
from cityos.runtime import Runtime


@dataclass(frozen=True)
class AuditFilters:
    """What a listing is narrowed by; None: not narrowed. Times in ms, ``since`` inclusive, ``until`` not."""

    code: str | None = None
    department: str | None = None  # the reading department
    scenario: str | None = None
    route: str | None = None
    kind: Kind | None = None
    since_ms: int | None = None
    until_ms: int | None = None


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    kind: Kind
    at_ms: int
    principal: str
    department: str | None
    grant: str | None
    code: str | None  # None: a lookup, which reads no entry
    route: str
    scenario: str | None
    purpose: str | None
    count: int
    records: list[str]


@dataclass(frozen=True)
class ChainStatus:
    """The chain's head and its newest seal; ``consistent`` when the head names the newest record, the seal
    signs a record's hash and its signature verifies (the whole walk is ``cityos audit verify``)."""

    head_seq: int
    sealed_seq: int | None
    sealed_at_ms: int | None
    key_id: str | None
    unsealed: int  # records after the newest seal
    consistent: bool
    problem: str | None


def _where(tenant: str, f: AuditFilters, viewer: str | None) -> list[ColumnElement[bool]]:
    c = audit.c
    where: list[ColumnElement[bool]] = [c.tenant == tenant]
    if viewer is not None:
        provided = select(catalogue_entries.c.code).where(
            catalogue_entries.c.tenant == tenant, catalogue_entries.c.provider == viewer
        )
        where.append(or_(c.department == viewer, c.code.in_(provided)))
    pairs = ((c.code, f.code), (c.department, f.department), (c.scenario, f.scenario), (c.route, f.route))
    where += [col == value for col, value in pairs if value is not None]
    if f.kind is not None:
        where.append(c.route == LOOKUP_ROUTE if f.kind == "lookup" else c.route != LOOKUP_ROUTE)
    if f.since_ms is not None:
        where.append(c.at_ms >= f.since_ms)
    if f.until_ms is not None:
        where.append(c.at_ms < f.until_ms)
    return where


def _record(r: Any) -> AuditRecord:
    kind = kind_of(r.route)
    return AuditRecord(r.seq, kind, r.at_ms, r.principal, r.department, r.grant_id,
                       r.code if kind == "read" else None, r.route, r.scenario, r.purpose, r.count,
                       orjson.loads(r.records))  # fmt: skip


def list_audit(
    rt: Runtime, tenant: str, filters: AuditFilters, *, viewer: str | None, limit: int = 50, offset: int = 0
) -> tuple[list[AuditRecord], int]:
    """One page of the tenant's audit records, newest first, and how many match over every page; ``viewer``:
    the department the viewer acts for (its own reads and those of its entries), None: the city (all)."""
    where = _where(tenant, filters, viewer)
    c = audit.c
    columns = (c.seq, c.at_ms, c.principal, c.department, c.grant_id, c.code, c.route, c.scenario, c.purpose,
               c.count, c.records)  # fmt: skip
    with rt.db.connect() as conn:
        rows = conn.execute(select(*columns).where(*where).order_by(c.seq.desc()).limit(limit).offset(offset))
        found = [_record(r) for r in rows]
        total = conn.execute(select(func.count()).select_from(audit).where(*where)).scalar_one()
    return found, int(total)


def reads_count(rt: Runtime, tenant: str, *, since: datetime, until: datetime | None = None) -> int:
    """共享调用次数: the tenant's reads of governed data audited from ``since`` until ``until`` (None: now);
    lookups of "who used my data" are not reads and are not counted."""
    until_ms = int((until or datetime.now(UTC)).timestamp() * 1000)
    filters = AuditFilters(kind="read", since_ms=int(since.timestamp() * 1000), until_ms=until_ms)
    where = _where(tenant, filters, None)
    with rt.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit).where(*where)).scalar_one())


def chain_status(rt: Runtime) -> ChainStatus:
    """The head and the newest seal, checked against the records they name: a few rows, never a walk."""
    k = keys(rt)
    with rt.db.connect() as conn:
        head = conn.execute(select(audit_head).where(audit_head.c.chain == CHAIN)).first()
        last = conn.execute(select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)).first()
        seal = conn.execute(select(audit_seals).order_by(audit_seals.c.seq.desc()).limit(1)).first()
        sealed_hash = (
            conn.execute(select(audit.c.hash).where(audit.c.seq == seal.seq)).scalar() if seal is not None else None
        )
    head_seq = head.seq if head is not None else 0
    problem = None
    if (last.seq if last else 0) != head_seq or (last is not None and head is not None and last.hash != head.hash):
        problem = "the chain's head does not name its newest record: run cityos audit verify"
    elif seal is not None and sealed_hash != seal.hash:
        problem = f"the newest seal (seq {seal.seq}) signs a hash its record does not have: run cityos audit verify"
    elif seal is not None and not (
        k.knows(seal.key_id)
        and k.verifies(seal_message(seal.seq, seal.hash, seal.at_ms, seal.key_id), seal.signature, seal.key_id)
    ):
        problem = f"the newest seal (seq {seal.seq}) does not verify with the key {seal.key_id} that it names"
    return ChainStatus(
        head_seq=head_seq,
        sealed_seq=seal.seq if seal else None,
        sealed_at_ms=seal.at_ms if seal else None,
        key_id=seal.key_id if seal else None,
        unsealed=head_seq - (seal.seq if seal else 0),
        consistent=problem is None,
        problem=problem,
    )
