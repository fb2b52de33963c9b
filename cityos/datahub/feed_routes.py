"""HTTP routes of the feeds into the base registries (数据归集: persons, legal entities, places): /datahub/feeds.

A department pushes records of an entry for itself (its token's department); a department reads its own
runs, the city (operators, administrators) every run. A run a caller may not see answers 404, as if absent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub import feeds
from cityos.datahub.errors import FeedRunNotFound
from cityos.datahub.feed_conflicts import feed_and_settle
from cityos.datahub.feed_schemas import FeedBatch, FeedRunPublic
from cityos.errors import Forbidden, problem_responses

router = APIRouter(prefix="/datahub", tags=["datahub"])
Pusher = Annotated[RequestContext, allow("feeds:push")]
Reader = Annotated[RequestContext, allow("feeds:read")]
CODE = Path(max_length=64, description="the catalogue entry the records are records of")


@router.post(
    "/feeds/{code}/records",
    summary="Push a batch of records into the entry's base registry for the token's department: the run report",
    responses=problem_responses(403, 404, 413, 422),
)
def push_records(ctx: Pusher, code: Annotated[str, CODE], body: FeedBatch) -> FeedRunPublic:
    department = ctx.department
    if department is None:
        raise Forbidden("a feed is pushed by a department for itself: use a department's token")
    run = feed_and_settle(ctx.rt, ctx.tenant, code, department, body.records, by=ctx.principal.name)
    return FeedRunPublic.of(run)


@router.get("/feeds/runs", summary="Feed runs, newest first: a department's own, or every run (X-Total-Count)")
def list_runs(
    ctx: Reader,
    response: Response,
    code: Annotated[str | None, Query(max_length=64, description="the catalogue entry")] = None,
    department: Annotated[
        str | None, Query(max_length=128, description="operators: the department; a department token: its own")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> list[FeedRunPublic]:
    own = ctx.department
    if own is not None and department not in (None, own):
        raise Forbidden(f"this token acts for department {own!r}: it lists only its own feed runs")
    runs, total = feeds.feed_runs(ctx.rt, ctx.tenant, department=own or department, code=code, limit=limit,
                                  offset=offset)  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    return [FeedRunPublic.of(r, detail=False) for r in runs]


@router.get(
    "/feeds/runs/{run_id}",
    summary="A feed run's report with a page of its conflicts and rejections",
    responses=problem_responses(404),
)
def get_run(
    ctx: Reader,
    run_id: Annotated[str, Path(max_length=32)],
    limit: Annotated[int, Query(ge=1, le=feeds.MAX_LIST, description="conflicts and rejections")] = 100,
    offset: Offset = 0,
) -> FeedRunPublic:
    run = feeds.get_feed_run(ctx.rt, ctx.tenant, run_id, limit=limit, offset=offset)
    if ctx.department not in (None, run.department):
        raise FeedRunNotFound(f"there is no feed run {run_id!r}: GET /datahub/feeds/runs lists them")
    return FeedRunPublic.of(run)
