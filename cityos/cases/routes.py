"""HTTP routes of the cases package: report, act, read, queues, routing dry run, supervision, and the
reporter's follow link. Thin: each route calls one service function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from cityos.auth import Principal, PublicContext, RequestContext, allow, public
from cityos.cases import service
from cityos.cases.errors import CaseInvalid
from cityos.cases.schemas import (
    ActionIn,
    BatchIn,
    BatchReported,
    CaseDetail,
    CaseList,
    CaseView,
    CategoryIn,
    Confirmed,
    DryRun,
    DryRunIn,
    Followed,
    FollowStep,
    NewCase,
    Queue,
    Rated,
    RatingIn,
    Reported,
    Supervision,
    TaxonomyView,
)
from cityos.cases.settings import settings
from cityos.cases.taxonomy import LocalText
from cityos.cases.workflow import ACTION_LABELS, LOW_RATING, RATING_LABELS, STATE_LABELS, Action, Role
from cityos.core.bounds import Offset
from cityos.errors import Forbidden, problem_responses

router = APIRouter(prefix="/cases", tags=["cases"])
public_router = APIRouter(prefix="/cases/follow", tags=["cases"])
Reader = Annotated[RequestContext, allow("cases:read")]
Reporter = Annotated[RequestContext, allow("cases:report")]
Actor = Annotated[RequestContext, allow("cases:act")]
Dispatcher = Annotated[RequestContext, allow("cases:dispatch")]
FollowLink = Annotated[PublicContext, public("the reporter's follow link: its unguessable token is the key")]
FollowWrite = Annotated[
    PublicContext,
    public("the reporter's follow link: its unguessable token is the key (rate-limited per address)", rate="public"),
]

# what a principal's role may act as in the workflow; the first is the default
CASE_ROLES: dict[str, tuple[Role, ...]] = {
    "admin": (Role.DISPATCHER, Role.OPERATOR, Role.INSPECTOR, Role.SUPERVISOR, Role.HANDLER, Role.REPORTER),
    "operator": (Role.DISPATCHER, Role.OPERATOR, Role.INSPECTOR, Role.SUPERVISOR),
    "department": (Role.HANDLER,),
    "reporter": (Role.REPORTER,),
}


def _role(p: Principal, asked: Role | None) -> Role:
    roles = CASE_ROLES.get(p.role, ())
    if not roles:
        raise Forbidden(f"a token with role {p.role!r} may not act on cases")
    if asked is None:
        return roles[0]
    if asked not in roles:
        raise Forbidden(f"a token with role {p.role!r} acts as {', '.join(roles)}, not {asked}")
    return asked


def _labels(labels: Mapping[Any, tuple[str, str]]) -> dict[str, LocalText]:
    return {str(k): LocalText(zh=zh, en=en) for k, (zh, en) in labels.items()}


# A request never waits for the classifier to load: these answer 503 with Retry-After until it is ready.
CLASSIFYING = problem_responses(503)
# The workflow refuses an action the case's state does not allow, or one raced by another change.
REFUSED = problem_responses(409)
# A public write is limited per client address and per token (429 with Retry-After).
LIMITED = problem_responses(409, 429)


@router.get("/taxonomy", summary="The case categories (大类/小类) with time limits and default departments")
def taxonomy(ctx: Reader) -> TaxonomyView:
    t = settings(ctx.rt).taxonomy
    return TaxonomyView(
        mains=list(t.mains),
        subs=list(t.subs),
        states=_labels(STATE_LABELS),
        actions=_labels(ACTION_LABELS),
        ratings=_labels(RATING_LABELS),
    )


def _no_origin(reports: Sequence[NewCase], where: str = "") -> None:
    """A report over the API carries no ``origin``: cityos sets it for the cases it opens itself (a warning's,
    an Alert's), one case per origin, so a caller who could set it could take over or block those cases."""
    for i, r in enumerate(reports):
        if r.origin is not None:
            at = f"{where}[{i}]." if where else ""
            raise CaseInvalid(
                f"{at}origin is set by cityos itself for the cases it opens (warnings, Alerts): "
                "leave it out of a report"
            )


LINKED: dict[int | str, dict[str, Any]] = {
    200: {"model": Reported, "description": "Linked to the open case it repeats (duplicateOf), or to its origin's"}
}


@router.post(
    "",
    status_code=201,
    summary="Report a case (12345 intake, grid inspector, app)",
    responses={**LINKED, **CLASSIFYING},
)
def report(ctx: Reporter, body: NewCase, response: Response) -> Reported:
    role = {"hotline": Role.OPERATOR, "inspector": Role.INSPECTOR}.get(body.source, Role.REPORTER)
    if body.source in ("sensor", "alert"):
        raise CaseInvalid("sensor and alert cases are opened by cityos itself: report as hotline, inspector or app")
    _no_origin([body])
    out = service.report(ctx.rt, ctx.tenant, body, ctx.principal.name, role, classify=service.ready_classifier)
    if not out.created:
        response.status_code = 200
    return _as_seen_by(ctx, out)


@router.post(
    "/batch", summary="Reports handed over together (a 12345 system's batch of work orders)", responses=CLASSIFYING
)
def report_batch(ctx: Reporter, body: BatchIn) -> BatchReported:
    if any(r.source not in ("hotline", "inspector", "app") for r in body.reports):
        raise CaseInvalid("a batch holds hotline, inspector or app reports only")
    _no_origin(body.reports, "reports")
    done = service.report_many(
        ctx.rt, ctx.tenant, body.reports, ctx.principal.name, Role.OPERATOR, classify=service.ready_classifier
    )
    return BatchReported(results=[_as_seen_by(ctx, r) for r in done])


def _may_read(ctx: RequestContext, case: CaseView) -> bool:
    """Whether the caller may read this case as staff do: its token reads cases, and a department's token
    only its own cases and those it cooperates on (what GET /cases/{id} allows)."""
    own = ctx.department
    return ctx.can("cases:read") and (own is None or own == case.department or own in case.cooperating)


def _as_seen_by(ctx: RequestContext, out: Reported) -> Reported:
    """A report's answer: the case as staff see it to a caller who may read it, else its public view (a
    reporter app, or a department whose report was linked to another department's case)."""
    if isinstance(out.case, CaseView) and _may_read(ctx, out.case):
        return out
    return service.for_reporter(out)


@router.get("", summary="Cases, newest first, with filters")
def list_cases(
    ctx: Reader,
    state: Annotated[str | None, Query(description="comma-separated states")] = None,
    category: str | None = None,
    main_category: str | None = None,
    department: str | None = None,
    source: str | None = None,
    needs_confirmation: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> CaseList:
    own = ctx.department
    if own is not None and department not in (None, own):
        raise Forbidden(f"this token acts for department {own!r}: it lists that department's cases only")
    cases, total = service.search(
        ctx.rt,
        ctx.tenant,
        limit,
        offset,
        states=state.split(",") if state else None,
        category=category,
        main_category=main_category,
        department=own or department,
        source=source,
        needs_confirmation=needs_confirmation,
    )
    return CaseList(cases=cases, total=total, limit=limit, offset=offset)


@router.get("/queue", summary="A department's work queue (待办), the soonest due first")
def queue(
    ctx: Reader,
    department: str | None = None,
    state: Annotated[str | None, Query(description="comma-separated states")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Queue:
    own = ctx.department
    if own is not None and department not in (None, own):
        raise Forbidden(f"this token acts for department {own!r}: it sees that department's queue only")
    dept = own or department
    if not dept:
        raise CaseInvalid("give ?department=… (a department token sees its own queue without it)")
    states = tuple(state.split(",")) if state else None
    return Queue(department=dept, cases=service.queue(ctx.rt, ctx.tenant, dept, states, limit, offset))


@router.post("/routing/dry-run", summary="Who would get this case, and why (派单试算)", responses=CLASSIFYING)
def dry_run(ctx: Reader, body: DryRunIn) -> DryRun:
    return service.dry_run(ctx.rt, body, classify=service.ready_classifier)


@router.get("/supervision", summary="Supervision figures (督办考核): on-time rate, handling time, returns, reopens")
def supervision(
    ctx: Reader,
    by: Literal["department", "category", "department_category"] = "department",
    days: Annotated[float, Query(gt=0, le=366)] = 30,
) -> Supervision:
    until = datetime.now(UTC)
    return service.supervision(ctx.rt, ctx.tenant, by, until - timedelta(days=days), until)


@router.get("/{case_id}", summary="One case, its history and what the caller may do next")
def get_case(ctx: Reader, case_id: str) -> CaseDetail:
    out = service.detail(ctx.rt, ctx.tenant, case_id, CASE_ROLES.get(ctx.principal.role, ()))
    if not _may_read(ctx, out.case):
        raise Forbidden(f"case {case_id} is not a case of department {ctx.department!r}")
    return out


@router.post(
    "/{case_id}/actions/{action}",
    summary="Take a workflow action (dispatch, accept, handle, verify …)",
    responses=REFUSED,
)
def take_action(ctx: Actor, case_id: str, action: Action, body: ActionIn) -> CaseView:
    role = _role(ctx.principal, body.role)
    if role in (Role.DISPATCHER, Role.OPERATOR, Role.SUPERVISOR) and not ctx.can("cases:dispatch"):
        raise Forbidden(f"acting as {role} needs an operator's token")
    return service.act(
        ctx.rt,
        ctx.tenant,
        case_id,
        action,
        ctx.principal.name,
        role,
        reason=body.reason,
        data=body.data,
        department=ctx.department,
    )


@router.post("/{case_id}/category", summary="Confirm or correct the category (kept for retraining)", responses=REFUSED)
def confirm_category(ctx: Dispatcher, case_id: str, body: CategoryIn) -> CaseView:
    return service.confirm_category(ctx.rt, ctx.tenant, case_id, body.category, ctx.principal.name)


# --- the reporter's follow link: public, the token is the key ----------------------------------------------------


@public_router.get("/{token}", summary="Follow a case you reported (public, by your report's follow token)")
def follow(link: FollowLink, token: str) -> Followed:
    tenant, case = service.by_follow_token(link.rt, token)
    steps = [
        FollowStep(at=h.at, action=h.action, to=h.to)
        for h in service.history(link.rt, tenant, case.id)
        if h.action != Action.COMMENT
    ]
    return Followed(case=service.public_view(case), steps=steps)


@public_router.post(
    "/{token}/rating",
    summary="Rate a closed case (5 非常满意 … 1 非常不满意); a duplicate report's token rates that report only",
    responses=LIMITED,
)
def rate(link: FollowWrite, token: str, body: RatingIn) -> Rated:
    link.limit_token(token)
    after = service.rate_followed(link.rt, token, body.rating, body.comment)
    return Rated(case=service.public_view(after), reopen_requested=body.rating <= LOW_RATING)


@public_router.post(
    "/{token}/confirm",
    summary="Confirm the problem is solved (the reporter's verification; not with a duplicate report's token)",
    responses=LIMITED,
)
def confirm(link: FollowWrite, token: str) -> Confirmed:
    link.limit_token(token)
    return Confirmed(case=service.public_view(service.confirm_solved(link.rt, token)))
