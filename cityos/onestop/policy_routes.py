"""HTTP routes of policy matching (政策找人 · 免申即享): thin adapters over :mod:`cityos.onestop.policy_matching`.

The policy office (an operator, or the policy's own department) lists the policies with their counts, runs one
over its registry, and sees who matched and why (masked). A person or an enterprise reads its notices in the
portal inbox and confirms (意愿确认) or declines a grant-mode one; the subject is the token's, never the
request's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cityos.auth import RequestContext, allow
from cityos.errors import Forbidden, problem_responses
from cityos.onestop import policy_matching as matching
from cityos.onestop.citizen_service import subject_of
from cityos.onestop.policies import Policy, policy, shipped
from cityos.onestop.policy_errors import PolicyRunNotFound
from cityos.onestop.policy_schemas import (
    GrantedPublic,
    MatchPublic,
    NoticesPublic,
    PoliciesPublic,
    PolicyDetailPublic,
    PolicyNoticePublic,
    PolicyPublic,
    RunPublic,
)

router = APIRouter(prefix="/onestop", tags=["onestop"])
Reading = Annotated[RequestContext, allow("policies:read")]
Running = Annotated[RequestContext, allow("policies:run")]
Inbox = Annotated[RequestContext, allow("notices:read-own")]
Deciding = Annotated[RequestContext, allow("notices:act-own")]
CODE = Path(min_length=1, max_length=64, description="the policy's code, e.g. P-ELDER-ALLOWANCE")
RUN = Path(min_length=1, max_length=32, description="the run's id")
NOTICE = Path(min_length=1, max_length=32, description="the notice's id")


def _public(p: Policy, counts: dict[str, matching.PolicyCounts]) -> PolicyPublic:
    return PolicyPublic.of(p, shipped().entries(p), counts.get(p.code))


def _own_policy(ctx: RequestContext, p: Policy) -> None:
    if ctx.department is not None and ctx.department != p.department:
        raise Forbidden(f"{p.name_zh} ({p.code}) is {p.department}'s policy: a department runs and reads its own "
                        "policies; an operator any")  # fmt: skip


@router.get("/policies", summary="The policies (政策找人 · 免申即享) with their notices' counts",
            responses=problem_responses(400))  # fmt: skip
def list_policies(ctx: Reading) -> PoliciesPublic:
    counts = matching.counts(ctx.rt, ctx.tenant)
    found = [p for p in shipped().policies.values() if ctx.department in (None, p.department)]
    return PoliciesPublic(policies=[_public(p, counts) for p in found])


@router.get("/policies/{code}", summary="A policy, its runs, and who matched and why (masked)",
            responses=problem_responses(400, 403, 404))  # fmt: skip
def policy_detail(
    ctx: Reading,
    code: Annotated[str, CODE],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> PolicyDetailPublic:
    p = policy(code)
    _own_policy(ctx, p)
    runs = matching.policy_runs(ctx.rt, ctx.tenant, code)
    found = matching.policy_notices(ctx.rt, ctx.tenant, code, limit=limit, offset=offset)
    matches = [MatchPublic(noticeId=n.id, subjectKind=n.subject_kind, subjectId=n.subject_id, state=n.state,
                           inputs=matching.shown_inputs(ctx.rt, ctx.tenant, p, n.inputs), runId=n.run_id,
                           createdAtMs=n.created_at_ms, decidedAtMs=n.decided_at_ms) for n in found]  # fmt: skip
    return PolicyDetailPublic(policy=_public(p, matching.counts(ctx.rt, ctx.tenant)),
                              runs=[RunPublic.of(r) for r in runs], matches=matches)  # fmt: skip


@router.post("/policies/{code}/runs", status_code=202,
             summary="Run a policy over its registry in the background: notify the eligible not notified yet",
             description="The department's grants are checked at once (403 naming the grant to ask for); the run "
                         "is answered running, with its address in Location, and done by the process holding the "
                         "onestop role: GET it for its progress (records read, matched, notified).",
             responses=problem_responses(400, 403, 404))  # fmt: skip
def run(ctx: Running, code: Annotated[str, CODE], response: Response) -> RunPublic:
    p = policy(code)
    _own_policy(ctx, p)
    started = matching.start_run(ctx.rt, ctx.tenant, code, by=ctx.principal.name)
    response.headers["Location"] = f"/onestop/policies/{p.code}/runs/{started.id}"
    return RunPublic.of(started)


@router.get("/policies/{code}/runs/{run_id}", summary="A policy matching run and its progress",
            responses=problem_responses(400, 403, 404))  # fmt: skip
def get_run(ctx: Reading, code: Annotated[str, CODE], run_id: Annotated[str, RUN]) -> RunPublic:
    p = policy(code)
    _own_policy(ctx, p)
    found = matching.get_run(ctx.rt, ctx.tenant, run_id)
    if found.policy_code != p.code:
        raise PolicyRunNotFound(f"policy {p.code} has no run {run_id!r}: see GET /onestop/policies/{p.code}")
    return RunPublic.of(found)


@router.get("/me/notices", summary="My notices (我的消息 · 政策推送): the policies I was found eligible for",
            responses=problem_responses(400))  # fmt: skip
def my_notices(ctx: Inbox, limit: Annotated[int, Query(ge=1, le=100)] = 50) -> NoticesPublic:
    subject = subject_of(ctx.principal)
    found = matching.my_notices(ctx.rt, ctx.tenant, subject.entity_id, limit=limit)
    return NoticesPublic(notices=[PolicyNoticePublic.of(n, n.inputs) for n in found])


@router.post("/me/notices/{notice_id}/confirm",
             summary="Confirm a benefit offered (意愿确认 · 免申即享): it is granted",
             responses=problem_responses(400, 404, 409))  # fmt: skip
def confirm(ctx: Deciding, notice_id: Annotated[str, NOTICE]) -> GrantedPublic:
    subject = subject_of(ctx.principal)
    done = matching.confirm(ctx.rt, ctx.tenant, notice_id, subject.entity_id, by=ctx.principal.name)
    return GrantedPublic.of(done, done.inputs)


@router.post("/me/notices/{notice_id}/decline", summary="Decline a benefit offered: nothing is granted",
             responses=problem_responses(400, 404, 409))  # fmt: skip
def decline(ctx: Deciding, notice_id: Annotated[str, NOTICE]) -> PolicyNoticePublic:
    subject = subject_of(ctx.principal)
    done = matching.decline(ctx.rt, ctx.tenant, notice_id, subject.entity_id, by=ctx.principal.name)
    return PolicyNoticePublic.of(done, done.inputs)
