"""HTTP routes of the vitals package: definitions, the overview, indicator history, warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, Field

from cityos.auth import RequestContext, allow
from cityos.runtime import Runtime
from cityos.vitals import diagnose, service
from cityos.vitals.definitions import Catalogue
from cityos.vitals.errors import IndicatorNotFound

router = APIRouter(prefix="/vitals", tags=["vitals"])
Reader = Annotated[RequestContext, allow("vitals:read")]
Writer = Annotated[RequestContext, allow("vitals:write")]
Acknowledger = Annotated[RequestContext, allow("warnings:acknowledge")]


class CommentIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=2000)


def _catalogue(rt: Runtime, tenant: str) -> Catalogue:
    # from the store, not the running engine's: a change is seen at once, before the engine reloads
    return service.catalogue(rt, tenant)


@router.get("/indicators", summary="The indicator definitions in force")
def list_indicators(ctx: Reader) -> list[dict[str, Any]]:
    cat = _catalogue(ctx.rt, ctx.tenant)
    return [cat.by_id[i].model_dump(mode="json", exclude_none=True) for i in cat.order]


@router.get("/indicators/{indicator_id}", summary="One indicator: definition, current values, history")
def get_indicator(
    ctx: Reader,
    indicator_id: str,
    scope: str | None = None,
    hours: Annotated[float, Query(gt=0, le=24 * 31)] = 24,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1440,
) -> dict[str, Any]:
    rt, tenant = ctx.rt, ctx.tenant
    cat = _catalogue(rt, tenant)
    ind = cat.by_id.get(indicator_id)
    if ind is None:
        raise IndicatorNotFound(f"there is no indicator {indicator_id!r}: GET /vitals/indicators lists them")
    since = int((datetime.now(UTC) - timedelta(hours=hours)).timestamp() * 1000)
    return {
        "definition": ind.model_dump(mode="json", exclude_none=True),
        "history": service.history(ctx.rt, tenant, indicator_id, scope, since, limit),
    }


@router.get("/indicators/{indicator_id}/forecast", summary="Forecast with prediction intervals, and any pre-warning")
def get_forecast(ctx: Reader, indicator_id: str, scope: str) -> dict[str, Any]:
    rt, tenant = ctx.rt, ctx.tenant
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    return service.forecast_of(ctx.rt, tenant, _catalogue(rt, tenant), indicator_id, scope, now_ms)


@router.get("/indicators/{indicator_id}/diagnosis", summary="Anomaly diagnosis: out of the ordinary, city or sensor?")
def get_diagnosis(ctx: Reader, indicator_id: str, scope: str) -> dict[str, Any]:
    rt, tenant = ctx.rt, ctx.tenant
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    return diagnose.diagnosis(ctx.rt, tenant, _catalogue(rt, tenant), indicator_id, scope, now_ms)


@router.put("/indicators/{indicator_id}", summary="Define an indicator or change it (a new version)")
def put_indicator(ctx: Writer, indicator_id: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    ind = service.put_definition(ctx.rt, ctx.tenant, indicator_id, body, ctx.principal.name)
    return ind.model_dump(mode="json", exclude_none=True)


@router.get("/overview", summary="The vital signs by category: value, level, trend and sparkline per group")
def overview(ctx: Reader) -> dict[str, Any]:
    rt, tenant = ctx.rt, ctx.tenant
    return service.overview(ctx.rt, tenant, _catalogue(rt, tenant))


@router.get("/places", summary="Worst active warning level per place, propagated unit → grid → street → district")
def places(ctx: Reader) -> dict[str, Any]:
    return service.places(ctx.rt, ctx.tenant)


@router.get("/warnings", summary="Warnings, most severe first")
def list_warnings(
    ctx: Reader,
    response: Response,
    active: bool | None = True,
    indicator: str | None = None,
    scope: str | None = None,
    minLevel: Annotated[int | None, Query(ge=1, le=4)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    rows, total = service.list_warnings(
        ctx.rt,
        ctx.tenant,
        active=active,
        indicator=indicator,
        scope=scope,
        min_level=minLevel,
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.get("/prewarnings", summary="Pre-warnings in force: levels the latest forecasts reach within their horizon")
def list_prewarnings(ctx: Reader, indicator: str | None = None) -> list[dict[str, Any]]:
    return service.list_prewarnings(ctx.rt, ctx.tenant, indicator)


@router.get("/warnings/{warning_id}", summary="One warning with its history")
def get_warning(ctx: Reader, warning_id: str) -> dict[str, Any]:
    return service.get_warning(ctx.rt, ctx.tenant, warning_id)


@router.post("/warnings/{warning_id}/acknowledge", summary="Acknowledge a warning (who and when are kept)")
def acknowledge(ctx: Acknowledger, warning_id: str) -> dict[str, Any]:
    return service.acknowledge(ctx.rt, ctx.tenant, warning_id, ctx.principal.name)


@router.post("/warnings/{warning_id}/comments", status_code=201, summary="Comment on a warning")
def add_comment(ctx: Acknowledger, warning_id: str, body: CommentIn) -> dict[str, Any]:
    return service.comment(ctx.rt, ctx.tenant, warning_id, ctx.principal.name, body.text)
