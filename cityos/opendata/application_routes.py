"""HTTP routes of the applications for conditional data (开放申请) and of the release checks: thin adapters over
:mod:`cityos.opendata.applications` and :mod:`cityos.opendata.serving`.

Anyone applies (no token; rate-limited per address as the public reports are). The dataset's provider
department reviews the applications for its datasets; the big-data centre (CITYOS_RETURN_DEPARTMENT),
operators and administrators review all of them. An application a department may not review answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from cityos.auth import PublicContext, RequestContext, allow, public
from cityos.core.bounds import Offset
from cityos.errors import NotFound, problem_responses
from cityos.opendata import applications, service, serving
from cityos.opendata.application_errors import InvalidApplication
from cityos.opendata.application_schemas import (
    ApplicationCreate,
    ApplicationPublic,
    ApplicationStatus,
    DecisionIn,
    ReleasePublic,
    Submitted,
)
from cityos.opendata.application_workflow import AppState, Decision
from cityos.opendata.applications import Applicant
from cityos.opendata.models import Package
from cityos.opendata.releases import latest_release
from cityos.opendata.routes import application_key
from cityos.runtime import Runtime

router = APIRouter(prefix="/opendata", tags=["opendata"])
Applying = Annotated[
    PublicContext,
    public("an application for conditional open data: anyone applies, a reviewer decides (rate-limited per address)",
           rate="public"),
]  # fmt: skip
Reviewer = Annotated[RequestContext, allow("applications:read")]
Decider = Annotated[RequestContext, allow("applications:decide")]
Checker = Annotated[RequestContext, allow("releases:check")]
APP = Path(max_length=32, description="the application")
NAME = Path(max_length=64, description="the dataset's name on the portal")


def _package(rt: Runtime, tenant: str, key: str) -> Package:
    found = service.snapshot(rt, tenant).package(key)
    if found is None:
        raise NotFound(f"the portal has no open dataset {key!r}: /api/3/action/package_list names them")
    return found


def _provider_scope(ctx: RequestContext) -> str | None:
    """The provider whose applications a caller reviews: a department's own; None (all) for the big-data
    centre, operators and administrators."""
    dept = ctx.department
    return None if dept in (None, ctx.rt.settings.return_department) else dept


@router.post(
    "/applications",
    status_code=201,
    summary="Apply for a conditional (有条件开放) dataset; the answer shows the key once",
    responses=problem_responses(400, 404, 413, 429),
)
def apply(ctx: Applying, body: ApplicationCreate, response: Response) -> Submitted:
    package = _package(ctx.rt, ctx.tenant, body.dataset)
    who = Applicant(body.kind, body.name, body.contact, body.organisation, body.purpose, body.scenario)
    applied = applications.apply(ctx.rt, ctx.tenant, package, who)
    response.headers["Location"] = f"/opendata/applications/{applied.application.id}"
    return Submitted(application=ApplicationPublic.of(applied.application), key=applied.key)


@router.get(
    "/my-application.json",
    summary="The applicant's own application, read with its key (Authorization: <key>): the state, the decision",
    responses=problem_responses(400, 404, 429),
)
def my_application(ctx: Applying, request: Request) -> ApplicationStatus:
    key = application_key(request)
    if key is None:
        raise InvalidApplication("send the key shown when you applied as 'Authorization: <key>' (odk_…)", field="key")
    return ApplicationStatus.of(applications.of_key(ctx.rt, ctx.tenant, key))


@router.get("/applications", summary="Applications for the caller's datasets, newest first (X-Total-Count)")
def list_applications(
    ctx: Reviewer,
    response: Response,
    state: Annotated[AppState | None, Query(description="the state now (approved past its end: expired)")] = None,
    dataset: Annotated[str | None, Query(max_length=64, description="one dataset's name")] = None,
    limit: Annotated[int, Query(ge=1, le=applications.MAX_LIST)] = 20,
    offset: Offset = 0,
) -> list[ApplicationPublic]:
    found, total = applications.list_applications(ctx.rt, ctx.tenant, provider=_provider_scope(ctx), state=state,
                                                  name=dataset, limit=limit, offset=offset)  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    return [ApplicationPublic.of(a) for a in found]


@router.get("/applications/{app_id}", summary="One application with its history", responses=problem_responses(404))
def get_application(ctx: Reviewer, app_id: Annotated[str, APP]) -> ApplicationPublic:
    found = applications.get(ctx.rt, ctx.tenant, app_id)
    if _provider_scope(ctx) not in (None, found.provider):
        raise applications.not_found(app_id)
    return ApplicationPublic.of(found)


@router.post(
    "/applications/{app_id}/decision",
    summary="Approve (terms, endsAt), refuse or revoke (reason) an application",
    responses=problem_responses(400, 403, 404, 409, 413),
)
def decide(ctx: Decider, app_id: Annotated[str, APP], body: DecisionIn) -> ApplicationPublic:
    decision = Decision(body.action, body.terms, body.ends_at, body.reason)
    found = applications.decide(ctx.rt, ctx.tenant, app_id, decision, by=ctx.principal.name,
                                department=ctx.department)  # fmt: skip
    return ApplicationPublic.of(found)


@router.post(
    "/releases/{name}/check",
    summary="Check a dataset's release through the de-identification gate now (after fixing the policy)",
    responses=problem_responses(404, 422),
)
def check_release(ctx: Checker, name: Annotated[str, NAME]) -> ReleasePublic:
    package = _package(ctx.rt, ctx.tenant, name)
    checked = serving.check(ctx.rt, ctx.tenant, package, by=ctx.principal.name)
    return ReleasePublic.of(package.name, checked.release, serving.policy(ctx.rt).source)


@router.get(
    "/releases/{name}",
    summary="A dataset's latest release check: passed, or blocked with the offending combinations",
    responses=problem_responses(404),
)
def latest(ctx: Checker, name: Annotated[str, NAME]) -> ReleasePublic:
    package = _package(ctx.rt, ctx.tenant, name)
    found = latest_release(ctx.rt, ctx.tenant, package.code)
    if found is None:
        raise NotFound(f"{package.name} has not been checked yet: POST /opendata/releases/{package.name}/check")
    return ReleasePublic.of(package.name, found, serving.policy(ctx.rt).source)
