"""HTTP routes of the audit view (审计查看): /datahub/audit, /datahub/audit/status.

A city token (an auditor or operator with ``audit:read-all``, no department of its own) sees every record of
the tenant; a department's token the reads it made and the reads of the entries it provides.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, Field

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub import audit_view
from cityos.datahub.audit import Kind
from cityos.datahub.audit_view import AuditFilters, AuditRecord, ChainStatus
from cityos.datahub.schemas import Shape
from cityos.errors import Forbidden, InvalidInput

router = APIRouter(prefix="/datahub", tags=["datahub"])
AuditReader = Annotated[RequestContext, allow("audit:read")]
MAX_AUDIT = 1000


def _at(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None


def _ms(t: datetime | None) -> int | None:
    return int(t.timestamp() * 1000) if t is not None else None


class AuditRecordPublic(Shape):
    """One record of the audit chain: who read (or looked up) what, when, how many records. Never the values
    read, nor the persons they concern."""

    seq: int = Field(description="the record's place in the chain")
    kind: Kind = Field(description='read: governed data read; lookup: "who used my data"')
    at: datetime
    principal: str
    department: str | None = Field(description="the department that read; null: the city (an operator)")
    grant: str | None = Field(description="the grant it read through; null: none was needed")
    code: str | None = Field(description="the catalogue entry read; null for a lookup")
    route: str
    scenario: str | None
    purpose: str | None
    count: int = Field(description="records read (a lookup: reads shown)")
    records: list[str] = Field(description="the ids of the records read (a lookup: the seqs of the reads shown)")

    @classmethod
    def of(cls, r: AuditRecord) -> AuditRecordPublic:
        at = datetime.fromtimestamp(r.at_ms / 1000, UTC)
        return cls(seq=r.seq, kind=r.kind, at=at, principal=r.principal, department=r.department, grant=r.grant,
                   code=r.code, route=r.route, scenario=r.scenario, purpose=r.purpose, count=r.count,
                   records=r.records)  # fmt: skip


class ChainStatusPublic(Shape):
    """The chain's head and newest seal, checked against the records they name (``cityos audit verify`` walks
    every record)."""

    head_seq: int
    sealed_seq: int | None
    sealed_at: datetime | None
    key_id: str | None
    unsealed: int = Field(description="records after the newest seal, protected by the chain alone")
    consistent: bool
    problem: str | None

    @classmethod
    def of(cls, s: ChainStatus) -> ChainStatusPublic:
        return cls(head_seq=s.head_seq, sealed_seq=s.sealed_seq, sealed_at=_at(s.sealed_at_ms), key_id=s.key_id,
                   unsealed=s.unsealed, consistent=s.consistent, problem=s.problem)  # fmt: skip


def _viewer(ctx: RequestContext) -> str | None:
    """The department whose records the caller sees (None: every record, for a city auditor)."""
    if ctx.department is not None:
        return ctx.department
    if not ctx.can("audit:read-all"):
        raise Forbidden("this token acts for no department and lacks audit:read-all: use a department's token "
                        "or an auditor's")  # fmt: skip
    return None


@router.get("/audit", summary="The audit records (审计查看), newest first: filters and paging (X-Total-Count)")
def list_audit(
    ctx: AuditReader,
    response: Response,
    code: Annotated[str | None, Query(max_length=64, description="the catalogue entry read")] = None,
    department: Annotated[str | None, Query(max_length=64, description="the reading department")] = None,
    scenario: Annotated[str | None, Query(max_length=256, description="the application scenario")] = None,
    route: Annotated[str | None, Query(max_length=256, description="the API, e.g. GET /datahub/usage")] = None,
    kind: Annotated[Kind | None, Query(description="read or lookup")] = None,
    since: Annotated[AwareDatetime | None, Query(description="from this instant on (inclusive)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="before this instant")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT)] = 50,
    offset: Offset = 0,
) -> list[AuditRecordPublic]:
    if since is not None and until is not None and until <= since:
        raise InvalidInput(f"until ({until.isoformat()}) is not after since ({since.isoformat()}): swap them",
                           field="until")  # fmt: skip
    filters = AuditFilters(code=code, department=department, scenario=scenario, route=route, kind=kind,
                           since_ms=_ms(since), until_ms=_ms(until))  # fmt: skip
    found, total = audit_view.list_audit(ctx.rt, ctx.tenant, filters, viewer=_viewer(ctx), limit=limit,
                                         offset=offset)  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    return [AuditRecordPublic.of(r) for r in found]


@router.get("/audit/status", summary="The audit chain's head and newest seal, checked without a full walk")
def audit_status(ctx: AuditReader) -> ChainStatusPublic:
    return ChainStatusPublic.of(audit_view.chain_status(ctx.rt))
