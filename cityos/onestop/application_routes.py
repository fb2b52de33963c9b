"""HTTP routes of submissions and applications (办件): thin adapters over :mod:`cityos.onestop.applications`.

An applicant (``services:apply``) submits and follows a submission, supplies (补正) and withdraws; a clerk
(``services:handle``) works the queue of the department its login acts for (operators and administrators: every
department's) and takes the clerk's actions. The applicant is the login's own identity (a citizen's or an
enterprise's principal: its subject, the ID number or the credit code); a login without one (an
administrator, a counter) names whom it submits for in the body.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from cityos.auth import SUBJECT_ROLES, RequestContext, allow
from cityos.errors import Forbidden, problem_responses
from cityos.onestop import applications, deciding
from cityos.onestop.application_catalogue import resolve
from cityos.onestop.application_errors import InvalidSubmission
from cityos.onestop.application_schemas import (
    ServiceActionIn,
    ServiceApplicationPublic,
    ServiceQueuePublic,
    SubmissionCreate,
    SubmissionPublic,
)
from cityos.onestop.applications import KINDS, Actor, Channel, ItemApplication, Submission
from cityos.onestop.citizen_service import subject_of
from cityos.onestop.issuing import issue_certificate
from cityos.onestop.models import Applicant, ApplicationState
from cityos.onestop.workflow import Action, action_of

router = APIRouter(prefix="/onestop", tags=["onestop"])
Applying = Annotated[RequestContext, allow("services:apply")]
Handling = Annotated[RequestContext, allow("services:handle")]
# reading one application and acting on it: a clerk's actions need services:handle too, the applicant's apply
Acting = Annotated[RequestContext, allow("services:act")]
OwnReader = Annotated[RequestContext, allow("services:read-own")]  # a citizen's or an enterprise's own
ID = Path(max_length=32, description="the application")
SUB = Path(max_length=32, description="the submission")


def own_applicant(ctx: RequestContext) -> Applicant | None:
    """The applicant a login is (a citizen's or an enterprise's principal: its subject), None for a login that
    acts for others (a service counter, an administrator)."""
    subject = ctx.principal.subject
    if subject is None or subject.kind not in KINDS:
        return None
    return Applicant(subject.kind, subject.key)


def actor_of(ctx: RequestContext) -> Actor:
    """What the caller may be to an application: a clerk (services:handle) of its department, the applicant
    (services:apply) it is, or anyone's (a counter: a login of no citizen or enterprise). A citizen's or an
    enterprise's login that carries no subject is refused, never taken for a counter."""
    if ctx.principal.role in SUBJECT_ROLES and own_applicant(ctx) is None:
        raise Forbidden("this citizen's or enterprise's login names no person or enterprise: log in again through "
                        "the portal's identity provider")  # fmt: skip
    return Actor(name=ctx.principal.name, handles=ctx.can("services:handle"), department=ctx.department,
                 applies=ctx.can("services:apply"), applicant=own_applicant(ctx))  # fmt: skip


def _applicant(ctx: RequestContext, body: SubmissionCreate) -> Applicant:
    actor_of(ctx)  # a citizen's or enterprise's login without a subject is refused here
    own = own_applicant(ctx)
    if own is not None:
        if body.applicant not in (None, own.key) or body.applicant_kind not in (None, own.kind):
            raise Forbidden("a citizen's or an enterprise's login submits for itself: leave out applicant")
        return own
    if body.applicant is None or body.applicant_kind is None:
        raise InvalidSubmission("name whom you submit for: applicant (a registry key or a credit code) and "
                                "applicantKind (person or enterprise)", field="applicant")  # fmt: skip
    return Applicant(body.applicant_kind, body.applicant)


@router.post(
    "/submissions",
    status_code=201,
    summary="Submit a bundle (一件事) or an item: one application per applicable item, routed in one transaction",
    responses={
        200: {"model": SubmissionPublic, "description": "A retry: the first submission of this Idempotency-Key"},
        **problem_responses(400, 403, 404, 413, 422, 503),
    },
)
def submit(
    ctx: Applying,
    body: SubmissionCreate,
    response: Response,
    idempotency_key: Annotated[str, Header(max_length=128, description="new per submission, the same on a retry")],
) -> SubmissionPublic:
    applicant = _applicant(ctx, body)
    if body.bundle is not None:
        target, items = resolve(ctx.rt, "bundle", body.bundle, body.answers)
    else:
        target, items = resolve(ctx.rt, "item", body.item or "", body.answers)
    channel: Channel = "online" if own_applicant(ctx) is not None else "on-site"  # a counter: for someone else
    done = applications.submit(ctx.rt, ctx.tenant, applicant, target, items, body.answers, idempotency_key,
                               channel=channel)  # fmt: skip
    found = done.submission
    if not done.created:
        response.status_code = 200
    elif deciding.decide_submission(ctx.rt, ctx.tenant, found):  # 无人干预自动办理: decided at once
        found = applications.get_submission(ctx.rt, ctx.tenant, found.id)
    response.headers["Location"] = f"/onestop/submissions/{found.id}"
    return _submission(ctx, found)


def _submission(ctx: RequestContext, s: Submission) -> SubmissionPublic:
    decided = deciding.latest(ctx.rt, ctx.tenant, [a.id for a in s.applications])
    return SubmissionPublic.of(s, applications.now_ms(), decided)


@router.get(
    "/submissions/{submission_id}",
    summary="A submission's combined status: each item's state and due date, and the overall state",
    responses=problem_responses(404),
)
def get_submission(ctx: Applying, submission_id: Annotated[str, SUB]) -> SubmissionPublic:
    return _submission(ctx, applications.get_submission(ctx.rt, ctx.tenant, submission_id, actor_of(ctx)))


@router.get("/me/submissions", summary="My submissions (我的办件), newest first, with each item's state",
            responses=problem_responses(400, 403))  # fmt: skip
def my_submissions(ctx: OwnReader, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[SubmissionPublic]:
    subject_of(ctx.principal)  # NotASubject (400) for a login of no person or enterprise
    own = own_applicant(ctx)
    if own is None:
        raise Forbidden("this login's subject is neither a person nor an enterprise")
    now = applications.now_ms()
    found = applications.submissions_of(ctx.rt, ctx.tenant, own, limit)
    decided = deciding.latest(ctx.rt, ctx.tenant, [a.id for s in found for a in s.applications])
    return [SubmissionPublic.of(s, now, decided) for s in found]


@router.get(
    "/applications", summary="A department's queue of applications, oldest first", responses=problem_responses(403)
)
def queue(
    ctx: Handling,
    department: Annotated[str | None, Query(max_length=64, description="operators: one department's")] = None,
    state: Annotated[ApplicationState | None, Query(description="one state's (e.g. submitted: the intake)")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(alias="perPage", ge=1, le=applications.MAX_PAGE)] = 50,
) -> ServiceQueuePublic:
    own = ctx.department
    if own is not None and department not in (None, own):
        raise Forbidden(f"a department works its own queue: this login acts for {own}, not {department}")
    found = applications.queue(ctx.rt, ctx.tenant, own or department, state=state, page=page, per_page=per_page)
    decided = deciding.latest(ctx.rt, ctx.tenant, [a.id for a in found.applications])  # the trace, for the clerk
    return ServiceQueuePublic.of(found, page, per_page, applications.now_ms(), decided)


@router.get(
    "/applications/{app_id}",
    summary="One application with its clock, the actions allowed and its history",
    responses=problem_responses(403, 404),
)
def get_application(ctx: Acting, app_id: Annotated[str, ID]) -> ServiceApplicationPublic:
    return application_public(ctx, applications.get(ctx.rt, ctx.tenant, app_id, acting(ctx)))


def application_public(ctx: RequestContext, app: ItemApplication) -> ServiceApplicationPublic:
    """An application with its latest automatic decision."""
    decided = deciding.latest(ctx.rt, ctx.tenant, [app.id]).get(app.id)
    return ServiceApplicationPublic.of(app, applications.now_ms(), decided)


def acting(ctx: RequestContext) -> Actor:
    actor = actor_of(ctx)
    if not (actor.handles or actor.applies):
        raise Forbidden("applications are for their applicant (services:apply) and the clerks of their department "
                        "(services:handle)")  # fmt: skip
    return actor


@router.post(
    "/applications/{app_id}/actions/{action}",
    summary="Act on an application: receive, refuse, request-supplement, supply, suspend, resume, approve, "
    "reject, issue-certificate, withdraw",
    responses=problem_responses(400, 403, 404, 409, 413),
)
def act(
    ctx: Acting,
    app_id: Annotated[str, ID],
    action: Annotated[str, Path(max_length=32, description="the action")],
    body: ServiceActionIn | None = None,
) -> ServiceApplicationPublic:
    actor = acting(ctx)
    step = action_of(action)
    if step == Action.ISSUE_CERTIFICATE:  # 统一发证: the e-certificate into the applicant's wallet, then the move
        done = issue_certificate(ctx.rt, ctx.tenant, app_id, actor, body.claims if body else None,
                                 by=ctx.principal.name).application  # fmt: skip
    else:
        done = applications.act(ctx.rt, ctx.tenant, app_id, step, actor, body.reason if body else None)
    if step == Action.RECEIVE and deciding.decide(ctx.rt, ctx.tenant, app_id, "receipt") is not None:
        done = applications.get(ctx.rt, ctx.tenant, app_id)  # the rules may have decided it on receipt
    return application_public(ctx, done)
