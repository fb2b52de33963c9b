"""HTTP routes of the district return (数据属地返还): /datahub/returns.

Return grants are made, run and ended in the city tenant (``CITYOS_CITY_TENANT``) by an administrator or a
token of the big-data centre (``CITYOS_RETURN_DEPARTMENT``). A caller in the city tenant reads every grant; one
in a district's tenant (its token limited to it, or ``NGSILD-Tenant``) reads only the grants to that tenant,
and the others answer 404, as if absent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub import returns
from cityos.datahub.return_schemas import ReturnCreate, ReturnEnd, ReturnPublic, ReturnRunPublic
from cityos.datahub.returns import ReturnGrant
from cityos.errors import Forbidden, problem_responses

router = APIRouter(prefix="/datahub", tags=["datahub"])
Writer = Annotated[RequestContext, allow("returns:write")]
Reader = Annotated[RequestContext, allow("returns:read")]
GRANT = Path(max_length=32, description="the return grant")


def _city(ctx: RequestContext) -> None:
    """A write is the city's: in its tenant, by an administrator or the big-data centre."""
    city = returns.city_tenant(ctx.rt)
    if ctx.tenant != city:
        raise Forbidden(f"return grants are made and run in the city tenant {city!r}, not {ctx.tenant!r}")
    dept = ctx.rt.settings.return_department
    if ctx.department not in (None, dept):
        raise Forbidden(f"return grants are made by the big-data centre ({dept!r}) or an administrator")


def _visible(ctx: RequestContext, grant: ReturnGrant) -> ReturnGrant:
    if ctx.tenant not in (returns.city_tenant(ctx.rt), grant.district_tenant):
        raise returns.grant_not_found(grant.id)
    return grant


@router.post(
    "/returns",
    status_code=201,
    summary="Make a standing return grant: city entries returned to a district's tenant",
    responses=problem_responses(400, 403, 404, 409, 413),
)
def make_return(ctx: Writer, body: ReturnCreate) -> ReturnPublic:
    _city(ctx)
    grant = returns.make_return(ctx.rt, body.tenant, body.district, body.codes, by=ctx.principal.name,
                                area=body.area, area_entity=body.area_entity)  # fmt: skip
    return ReturnPublic.of(grant)


@router.get("/returns", summary="Return grants, newest first: every one in the city tenant, a district's own there")
def list_returns(
    ctx: Reader,
    response: Response,
    state: Annotated[str | None, Query(pattern="^(standing|ended)$")] = None,
    limit: Annotated[int, Query(ge=1, le=returns.MAX_LIST)] = 20,
    offset: Offset = 0,
) -> list[ReturnPublic]:
    district = None if ctx.tenant == returns.city_tenant(ctx.rt) else ctx.tenant
    grants, total = returns.list_returns(ctx.rt, district_tenant=district, state=state, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return [ReturnPublic.of(g) for g in grants]


@router.get("/returns/{grant_id}", summary="A return grant", responses=problem_responses(404))
def get_return(ctx: Reader, grant_id: Annotated[str, GRANT]) -> ReturnPublic:
    return ReturnPublic.of(_visible(ctx, returns.get_return(ctx.rt, grant_id)))


@router.post(
    "/returns/{grant_id}/end",
    summary="End a return grant: the records it returned leave the district's tenant",
    responses=problem_responses(400, 403, 404, 409, 413),
)
def end_return(ctx: Writer, grant_id: Annotated[str, GRANT], body: ReturnEnd) -> ReturnPublic:
    _city(ctx)
    return ReturnPublic.of(returns.end_return(ctx.rt, grant_id, by=ctx.principal.name, reason=body.reason))


@router.post(
    "/returns/{grant_id}/runs",
    status_code=201,
    summary="Run a return grant now (incrementally from its watermark, or full): the run's report",
    responses=problem_responses(403, 404, 409),
)
def run_return(
    ctx: Writer,
    grant_id: Annotated[str, GRANT],
    full: Annotated[bool, Query(description="read every record, and remove those gone from the city")] = False,
) -> ReturnRunPublic:
    returns.get_return(ctx.rt, grant_id)  # 404 for a grant that does not exist, whoever asks
    _city(ctx)
    return ReturnRunPublic.of(returns.run_return(ctx.rt, grant_id, by=ctx.principal.name, full=full))


@router.get(
    "/returns/{grant_id}/runs",
    summary="A return grant's runs, newest first, with their counts (X-Total-Count)",
    responses=problem_responses(404),
)
def list_runs(
    ctx: Reader,
    response: Response,
    grant_id: Annotated[str, GRANT],
    limit: Annotated[int, Query(ge=1, le=returns.MAX_LIST)] = 20,
    offset: Offset = 0,
) -> list[ReturnRunPublic]:
    _visible(ctx, returns.get_return(ctx.rt, grant_id))
    runs, total = returns.return_runs(ctx.rt, grant_id, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return [ReturnRunPublic.of(r) for r in runs]
