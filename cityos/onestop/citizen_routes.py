"""HTTP routes of the one-stop portal's login (the demo identity provider) and of a citizen's or enterprise's
own data: /onestop/login/demo, /onestop/me/usage (who used my data), /onestop/me/record, /onestop/me/objections.
A token of a person or an enterprise reaches its own data only: the routes take no subject, they use the
token's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from cityos.auth import PublicContext, RequestContext, allow, profile, public
from cityos.core.bounds import Offset
from cityos.errors import problem_responses
from cityos.onestop import citizen_service as service
from cityos.onestop.citizen_schemas import (
    DemoLoginCreate,
    DemoLoginPublic,
    DemoSubjectsPublic,
    MyObjectionCreate,
    MyObjectionPublic,
    MyObjectionsPublic,
    MyRecordPublic,
    OwnValuePublic,
    SubjectPublic,
    UsagePublic,
)

router = APIRouter(prefix="/onestop", tags=["onestop"])
Login = Annotated[
    PublicContext,
    public(
        "the demo identity provider (demo mode or CITYOS_ONESTOP_DEMO_LOGIN only): the ID number or credit code "
        "and the demo code are the credential; rate-limited per address as logins are",
        rate="login",
    ),
]
Lister = Annotated[
    PublicContext,
    public(
        "the demo persons and enterprises to log in as (demo mode or CITYOS_ONESTOP_DEMO_LOGIN only)", rate="public"
    ),
]
UsageReader = Annotated[RequestContext, allow("usage:read-own")]
RecordReader = Annotated[RequestContext, allow("records:read-own")]
Objector = Annotated[RequestContext, allow("objections:submit-own")]
ObjectionReader = Annotated[RequestContext, allow("objections:read-own")]


@router.post(
    "/login/demo",
    summary="Log in as a demo person or enterprise (the demo identity provider, a stand-in for the city's)",
    responses=problem_responses(400, 401, 404, 429),
)
def demo_login(ctx: Login, body: DemoLoginCreate, response: Response) -> DemoLoginPublic:
    secret, expires_at, principal = service.demo_login(ctx.rt, ctx.tenant, body.subject, body.code)
    response.headers["Cache-Control"] = "no-store"  # a response carrying a credential (RFC 6749 5.1)
    subject = service.subject_of(principal)
    name = str(principal.attributes.get("display_name") or "")
    return DemoLoginPublic(token=secret, expiresAt=expires_at, principal=profile(principal),
                           subject=SubjectPublic.of(service.Found(subject, name)))  # fmt: skip


@router.get("/login/demo/subjects", summary="The demo persons and enterprises one may log in as",
            responses=problem_responses(429))  # fmt: skip
def demo_subjects(ctx: Lister) -> DemoSubjectsPublic:
    found = service.demo_subjects(ctx.rt, ctx.tenant)
    return DemoSubjectsPublic(enabled=service.demo_login_on(ctx.rt), subjects=[SubjectPublic.of(f) for f in found])


@router.get(
    "/me/usage",
    summary="Who used my data (数据使用记录): the reads of my records, newest first; the lookup is audited",
    responses=problem_responses(400),
)
def my_usage(
    ctx: UsageReader,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="the seq the page starts below")] = None,
) -> UsagePublic:
    return UsagePublic.of(service.my_usage(ctx.rt, ctx.tenant, ctx.principal, limit=limit, before=before))


@router.get("/me/record", summary="My base registry record, value by value", responses=problem_responses(400))
def my_record(ctx: RecordReader) -> MyRecordPublic:
    subject = service.subject_of(ctx.principal)
    values = service.my_record(ctx.rt, ctx.tenant, ctx.principal)
    return MyRecordPublic(entityId=subject.entity_id, values=[OwnValuePublic.of(v) for v in values])


@router.post(
    "/me/objections",
    status_code=201,
    summary="Object to a value of my own registry record (数据异议): it goes to the item's one source",
    responses=problem_responses(400, 403, 404, 409),
)
def object_to(ctx: Objector, body: MyObjectionCreate) -> MyObjectionPublic:
    record = service.object_to(ctx.rt, ctx.tenant, ctx.principal, body.code, body.item, body.evidence, body.proposed)
    return MyObjectionPublic.of(record)


@router.get("/me/objections", summary="My objections, with their state and the source's answer",
            responses=problem_responses(400))  # fmt: skip
def my_objections(
    ctx: ObjectionReader, limit: Annotated[int, Query(ge=1, le=100)] = 20, offset: Offset = 0
) -> MyObjectionsPublic:
    found, total = service.my_objections(ctx.rt, ctx.tenant, ctx.principal, limit=limit, offset=offset)
    return MyObjectionsPublic(objections=[MyObjectionPublic.of(r) for r in found], total=total)
