"""HTTP route of automatic decisions: ask an application's rules again (after the applicant attached evidence):
a thin adapter over :func:`cityos.onestop.deciding.decide`. The decision and its trace are read as the
``decision`` field of the application (GET /onestop/applications/{id}, the queue)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from cityos.auth import RequestContext, allow
from cityos.errors import problem_responses
from cityos.onestop import applications, deciding
from cityos.onestop.application_routes import acting, application_public
from cityos.onestop.application_schemas import ServiceApplicationPublic
from cityos.onestop.decision_errors import DecisionNotPossible

router = APIRouter(prefix="/onestop", tags=["onestop"])
Acting = Annotated[RequestContext, allow("services:act")]
ID = Path(max_length=32, description="the application")


@router.post(
    "/applications/{app_id}/decide",
    summary="Ask the item's decision rules now (无人干预自动办理): approved or refused at once, else left to a clerk",
    responses=problem_responses(403, 404, 409),
)
def decide(ctx: Acting, app_id: Annotated[str, ID]) -> ServiceApplicationPublic:
    found = deciding.decide(ctx.rt, ctx.tenant, app_id, "request", viewer=acting(ctx))
    if found is None:
        app = applications.get(ctx.rt, ctx.tenant, app_id)
        raise DecisionNotPossible(f"service item {app.item_code} version {app.item_version} has no decision rules: "
                                  "a clerk decides its applications", state=app.state)  # fmt: skip
    return application_public(ctx, applications.get(ctx.rt, ctx.tenant, app_id))
