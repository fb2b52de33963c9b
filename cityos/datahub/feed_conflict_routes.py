"""HTTP route of the source's conflict list (数据归集 · 冲突): GET /datahub/feeds/conflicts.

A department reads the conflicts on the items it is the one source of; the city (operators, administrators)
those of any source, the record keys and the values masked as its access to the offering entry shows them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub.datasets import Reader as Sight
from cityos.datahub.feed_conflict_schemas import ConflictListPublic
from cityos.datahub.feed_conflicts import open_conflicts
from cityos.errors import Forbidden, problem_responses

router = APIRouter(prefix="/datahub", tags=["datahub"])
Reader = Annotated[RequestContext, allow("feeds:read")]


@router.get(
    "/feeds/conflicts",
    summary="Open conflicts on a source's items: the latest value each department offered, beside the registry's",
    responses=problem_responses(403),
)
def list_conflicts(
    ctx: Reader,
    department: Annotated[
        str | None, Query(max_length=128, description="the source department: operators name one; a token its own")
    ] = None,
    item: Annotated[str | None, Query(max_length=128, description="the registry's attribute, e.g. mobile")] = None,
    offered_by: Annotated[
        str | None, Query(alias="offeredBy", max_length=128, description="the department that offered the values")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> ConflictListPublic:
    own = ctx.department
    if own is not None and department not in (None, own):
        raise Forbidden(f"this token acts for department {own!r}: it lists the conflicts on the items {own!r} is "
                        f"the source of, not {department!r}'s")  # fmt: skip
    sight = Sight(ctx.principal.name, own, own is None)  # the read is audited, the values masked for the reader
    found = open_conflicts(ctx.rt, ctx.tenant, own or department, item=item, department=offered_by, sight=sight,
                           limit=limit, offset=offset, route="GET /datahub/feeds/conflicts")  # fmt: skip
    return ConflictListPublic.of(found)
