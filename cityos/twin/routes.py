"""HTTP routes of the twin package: the map, the sensors, the management units, what-if runs."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Response

from cityos.auth import RequestContext, allow
from cityos.errors import problem_responses
from cityos.twin import service
from cityos.twin.schemas import MapPublic, SensorsPublic, UnitPublic, UnitTwinPublic, WhatIfCreate, WhatIfPublic

router = APIRouter(prefix="/twin", tags=["twin"])
Reader = Annotated[RequestContext, allow("vitals:read")]
JSON = "application/json"

# The map and the sensors are large (5,200 sensors) and kept in memory as plain data: they go out as they
# are, through orjson, and their models only describe them in the API description.


@router.get(
    "/map",
    summary="The district's streets, grids, units and buildings as GeoJSON layers",
    responses={200: {"model": MapPublic}},
)
def district_map(ctx: Reader) -> Response:
    return Response(orjson.dumps(service.district_map(ctx.rt, ctx.tenant)), media_type=JSON)


@router.get(
    "/sensors",
    summary="Every sensor's position, current value and online state, as compact rows",
    responses={200: {"model": SensorsPublic}},
)
def sensors(ctx: Reader, type: str | None = None) -> Response:
    return Response(orjson.dumps(service.sensors(ctx.rt, ctx.tenant, type)), media_type=JSON)


@router.get("/units", summary="The minimum management units with their worst active warning level")
def units(ctx: Reader) -> list[UnitPublic]:
    return service.units(ctx.rt, ctx.tenant)


@router.get("/units/{unit_id}", summary="A unit's digital twin: buildings, sensors, indicators, warnings, cases")
def unit_twin(ctx: Reader, unit_id: str) -> UnitTwinPublic:
    return service.unit_twin(ctx.rt, ctx.tenant, unit_id, with_cases=ctx.can("cases:read"), department=ctx.department)


@router.post(
    "/units/{unit_id}/whatif",
    summary="What-if run (模拟推演): an input changed, its effect forecast",
    # 409: the input has no history in the unit yet; 422: it is not a what-if input of the unit
    responses=problem_responses(409, 422),
)
def what_if(ctx: Reader, unit_id: str, body: WhatIfCreate) -> WhatIfPublic:
    return service.what_if(ctx.rt, ctx.tenant, unit_id, body.indicator, body.change, body.minutes)
