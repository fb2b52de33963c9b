"""HTTP routes of the vitals package: definitions, the overview, indicator history, warnings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.core.timefmt import now_ms
from cityos.errors import problem_responses
from cityos.vitals import diagnose, service
from cityos.vitals.definitions import Catalogue, Indicator
from cityos.vitals.schemas import (
    CommentCreate,
    DiagnosisPublic,
    ForecastPublic,
    IndicatorPublic,
    NoDiagnosisPublic,
    OverviewPublic,
    PlacesPublic,
    PreWarningPublic,
    WarningDetailPublic,
    WarningPublic,
)

router = APIRouter(prefix="/vitals", tags=["vitals"])
Reader = Annotated[RequestContext, allow("vitals:read")]
Writer = Annotated[RequestContext, allow("vitals:write")]
Acknowledger = Annotated[RequestContext, allow("warnings:acknowledge")]


def _catalogue(ctx: RequestContext) -> Catalogue:
    # from the store, not the running engine's: a change is seen at once, before the engine reloads
    return service.catalogue(ctx.rt, ctx.tenant)


@router.get("/indicators", summary="The indicator definitions in force")
def list_indicators(ctx: Reader) -> list[Indicator]:
    cat = _catalogue(ctx)
    return [cat.by_id[i] for i in cat.order]


@router.get("/indicators/{indicator_id}", summary="One indicator: definition, current values, history")
def get_indicator(
    ctx: Reader,
    indicator_id: str,
    scope: str | None = None,
    hours: Annotated[float, Query(gt=0, le=24 * 31)] = 24,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1440,
) -> IndicatorPublic:
    ind = service.definition(_catalogue(ctx), indicator_id)
    since = now_ms() - int(hours * 3_600_000)
    return IndicatorPublic(definition=ind, history=service.history(ctx.rt, ctx.tenant, ind.id, scope, since, limit))


@router.get(
    "/indicators/{indicator_id}/forecast",
    summary="Forecast with prediction intervals, and any pre-warning",
    responses=problem_responses(409),  # the indicator has no forecast settings
)
def get_forecast(ctx: Reader, indicator_id: str, scope: str) -> ForecastPublic:
    return service.forecast_of(ctx.rt, ctx.tenant, _catalogue(ctx), indicator_id, scope, now_ms())


@router.get("/indicators/{indicator_id}/diagnosis", summary="Anomaly diagnosis: out of the ordinary, city or sensor?")
def get_diagnosis(ctx: Reader, indicator_id: str, scope: str) -> DiagnosisPublic | NoDiagnosisPublic:
    return diagnose.diagnosis(ctx.rt, ctx.tenant, _catalogue(ctx), indicator_id, scope, now_ms())


@router.put(
    "/indicators/{indicator_id}",
    summary="Define an indicator or change it (a new version)",
    responses=problem_responses(422),  # a definition that does not hold together, naming the field
)
def put_indicator(ctx: Writer, indicator_id: str, body: Annotated[dict[str, Any], Body()]) -> Indicator:
    return service.put_definition(ctx.rt, ctx.tenant, indicator_id, body, ctx.principal.name)


@router.get("/overview", summary="The vital signs by category: value, level, trend and sparkline per group")
def overview(ctx: Reader) -> OverviewPublic:
    return service.overview(ctx.rt, ctx.tenant, _catalogue(ctx))


@router.get("/places", summary="Worst active warning level per place, propagated unit → grid → street → district")
def places(ctx: Reader) -> PlacesPublic:
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
    offset: Offset = 0,
) -> list[WarningPublic]:
    rows, total = service.list_warnings(ctx.rt, ctx.tenant, active=active, indicator=indicator, scope=scope,
                                        min_level=minLevel, limit=limit, offset=offset)  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    return rows


@router.get("/prewarnings", summary="Pre-warnings in force: levels the latest forecasts reach within their horizon")
def list_prewarnings(ctx: Reader, indicator: str | None = None) -> list[PreWarningPublic]:
    return service.list_prewarnings(ctx.rt, ctx.tenant, indicator)


@router.get("/warnings/{warning_id}", summary="One warning with its history")
def get_warning(ctx: Reader, warning_id: str) -> WarningDetailPublic:
    return service.get_warning(ctx.rt, ctx.tenant, warning_id)


@router.post("/warnings/{warning_id}/acknowledge", summary="Acknowledge a warning (who and when are kept)")
def acknowledge(ctx: Acknowledger, warning_id: str) -> WarningDetailPublic:
    return service.acknowledge(ctx.rt, ctx.tenant, warning_id, ctx.principal.name)


@router.post("/warnings/{warning_id}/comments", status_code=201, summary="Comment on a warning")
def add_comment(ctx: Acknowledger, warning_id: str, body: CommentCreate) -> WarningDetailPublic:
    return service.comment(ctx.rt, ctx.tenant, warning_id, ctx.principal.name, body.text)
