"""HTTP routes of entity resolution (实体识别): /datahub/resolutions.

A department sees the decisions on the records it fed and on those of the entries it provides; the city
(operators and administrators) sees every one. A review decision is settled by the data officer of the
entry's provider (a token of that department) or by the city. A decision a caller may not see answers 404,
as if absent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub import resolutions
from cityos.datahub.catalogue import get_entry
from cityos.datahub.errors import ResolutionNotFound
from cityos.datahub.resolution_schemas import ResolutionPublic, SettlementCreate
from cityos.datahub.resolutions import Resolved
from cityos.errors import Forbidden, problem_responses

router = APIRouter(prefix="/datahub", tags=["datahub"])
Reader = Annotated[RequestContext, allow("resolutions:read")]
Settler = Annotated[RequestContext, allow("resolutions:settle")]
ID = Path(max_length=32, description="the decision's id")


def _visible(ctx: RequestContext, r: Resolved) -> Resolved:
    if ctx.department not in (None, r.department, r.provider):
        raise ResolutionNotFound(f"there is no resolution decision {r.id!r}: list a run's decisions to find it")
    return r


@router.get("/resolutions", summary="Entity resolution decisions and their evidence, newest first (X-Total-Count)")
def list_resolutions(
    ctx: Reader,
    response: Response,
    run: Annotated[str | None, Query(max_length=32, description="the resolution run")] = None,
    decision: Literal["matched", "review", "new"] | None = None,
    settled: Annotated[
        bool | None, Query(description="review decisions a person settled (true) or not (false)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> list[ResolutionPublic]:
    found, total = resolutions.list_resolutions(ctx.rt, ctx.tenant, run=run, decision=decision, settled=settled,
                                                party=ctx.department, limit=limit, offset=offset)  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    seen = resolutions.as_seen_by(
        ctx.rt, ctx.tenant, found, ctx.principal.name, ctx.department, "GET /datahub/resolutions"
    )
    return [ResolutionPublic.of(r) for r in seen]


@router.get("/resolutions/{decision_id}", summary="One entity resolution decision with its evidence",
            responses=problem_responses(404))  # fmt: skip
def get_resolution(ctx: Reader, decision_id: Annotated[str, ID]) -> ResolutionPublic:
    found = _visible(ctx, resolutions.get_resolution(ctx.rt, ctx.tenant, decision_id))
    (seen,) = resolutions.as_seen_by(ctx.rt, ctx.tenant, [found], ctx.principal.name, ctx.department,
                                     "GET /datahub/resolutions/{id}")  # fmt: skip
    return ResolutionPublic.of(seen)


@router.post(
    "/resolutions/{decision_id}/settle",
    summary="Settle a review decision: matched to one of its candidates, or new (the entry's provider or the city)",
    responses=problem_responses(400, 403, 404, 409),
)
def settle(ctx: Settler, decision_id: Annotated[str, ID], body: SettlementCreate) -> ResolutionPublic:
    current = _visible(ctx, resolutions.get_resolution(ctx.rt, ctx.tenant, decision_id))
    own = ctx.department
    if own is not None:
        provider = get_entry(ctx.rt, ctx.tenant, current.code).provider
        if own != provider:
            raise Forbidden(f"a review decision on records of {current.code} is settled by its provider, {provider!r}, "
                            f"or by the city; this token acts for {own!r}")  # fmt: skip
    done = resolutions.settle_resolution(ctx.rt, ctx.tenant, decision_id, body.outcome, by=ctx.principal.name,
                                         entity=body.entity, note=body.note)  # fmt: skip
    (seen,) = resolutions.as_seen_by(ctx.rt, ctx.tenant, [done], ctx.principal.name, ctx.department,
                                     "POST /datahub/resolutions/{id}/settle")  # fmt: skip
    return ResolutionPublic.of(seen)
