"""HTTP routes of the twin package: the map, the sensors, the management units, what-if runs."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from cityos.auth import RequestContext, allow
from cityos.twin import service

router = APIRouter(prefix="/twin", tags=["twin"])
Reader = Annotated[RequestContext, allow("vitals:read")]
JSON = "application/json"


class WhatIfIn(BaseModel):
    indicator: str = Field(..., min_length=1, max_length=64, description="A base indicator of the unit (whatIf).")
    change: float = Field(..., ge=-0.9, le=5, description="Relative change of the input: 0.5 is 50% more.")
    minutes: int = Field(60, ge=5, le=240, description="For how long from now the change holds.")


@router.get("/map", summary="The district's streets, grids, units and buildings as GeoJSON layers")
def district_map(ctx: Reader) -> Response:
    return Response(orjson.dumps(service.district_map(ctx.rt, ctx.tenant)), media_type=JSON)


@router.get("/sensors", summary="Every sensor's position, current value and online state, as compact rows")
def sensors(ctx: Reader, type: str | None = None) -> Response:
    return Response(orjson.dumps(service.sensors(ctx.rt, ctx.tenant, type)), media_type=JSON)


@router.get("/units", summary="The minimum management units with their worst active warning level")
def units(ctx: Reader) -> list[dict[str, Any]]:
    return service.units(ctx.rt, ctx.tenant)


@router.get("/units/{unit_id}", summary="A unit's digital twin: buildings, sensors, indicators, warnings, cases")
def unit_twin(ctx: Reader, unit_id: str) -> dict[str, Any]:
    return service.unit_twin(ctx.rt, ctx.tenant, unit_id, with_cases=ctx.can("cases:read"), department=ctx.department)


@router.post("/units/{unit_id}/whatif", summary="What-if run (模拟推演): an input changed, its effect forecast")
def what_if(ctx: Reader, unit_id: str, body: WhatIfIn) -> dict[str, Any]:
    return service.what_if(ctx.rt, ctx.tenant, unit_id, body.indicator, body.change, body.minutes)
