"""HTTP routes of the plans' main indicators (主要指标)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cityos.auth import RequestContext, allow
from cityos.plans import service
from cityos.plans.schemas import PlanBoardPublic

router = APIRouter(prefix="/plans", tags=["plans"])
Reader = Annotated[RequestContext, allow("vitals:read")]  # the plans' figures are vital signs of the city
Days = Annotated[int, Query(ge=1, le=90, description="the days of the trend")]


@router.get("/indicators", summary="The plans' main indicators: value, target, trend, source and definition")
def indicators(ctx: Reader, days: Days = 7) -> PlanBoardPublic:
    return service.board(ctx.rt, ctx.tenant, days=days)
