"""HTTP routes of governed reads: /datahub/datasets/{code}/records (数据按授权使用)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub.datasets import Reader, read_records
from cityos.errors import problem_responses

router = APIRouter(prefix="/datahub", tags=["datahub"])
DatasetReader = Annotated[RequestContext, allow("datasets:read")]


class DatasetRecords(BaseModel):
    """One page of an entry's records as the caller may see them: the items shown in full, those masked
    (by the kind of value), the grant that opened them (none: the entry's sharing type or the reader's own)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    code: str
    name: str
    grant: str | None = Field(description="the grant the read went through; null: no grant was needed")
    scenario: str | None
    shown: list[str] = Field(description="the items shown in full")
    masked: dict[str, str] = Field(description="the items shown masked: name -> the kind of value")
    total: int | None
    limit: int
    offset: int
    records: list[dict[str, Any]] = Field(description="each record: id, type and the items above")


@router.get(
    "/datasets/{code}/records",
    summary="Read an entry's records through the rules: shown, masked or refused, and audited",
    responses=problem_responses(403, 404),
)
def records(
    ctx: DatasetReader,
    code: str,
    q: Annotated[str | None, Query(description="an NGSI-LD q filter over the items")] = None,
    scenario: Annotated[str | None, Query(description="the application scenario (应用场景) read for")] = None,
    purpose: Annotated[str | None, Query(description="why, in a few words (kept in the audit log)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Offset = 0,
) -> DatasetRecords:
    reader = Reader(
        principal=ctx.principal.name,
        department=ctx.department,
        city=ctx.department is None and ctx.can("datasets:read-all"),
        scenario=scenario,
        purpose=purpose,
    )
    read = read_records(ctx.rt, ctx.tenant, code, reader, q=q, limit=limit, offset=offset)
    return DatasetRecords(
        code=read.entry.code,
        name=read.entry.name,
        grant=read.access.grant,
        scenario=scenario,
        shown=sorted(read.access.shown),
        masked=dict(read.access.masked),
        total=read.total,
        limit=limit,
        offset=offset,
        records=read.records,
    )
