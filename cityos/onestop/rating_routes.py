"""HTTP routes of 好差评: thin adapters over :mod:`cityos.onestop.ratings` and :mod:`cityos.onestop.rating_figures`.

A citizen or an enterprise (``ratings:rate-own``) rates its own handled applications and accepts or disputes the
answer to its 差评; a department (``ratings:follow-up``) answers the follow-ups it holds, the 12345 centre (an
operator) the escalated ones, and calls a case's reporter back; ``ratings:read`` reads the figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from cityos.auth import PublicContext, RequestContext, allow, public
from cityos.errors import Forbidden, problem_responses
from cityos.onestop import rating_figures, ratings
from cityos.onestop.application_routes import own_applicant
from cityos.onestop.applications import now_ms
from cityos.onestop.citizen_service import subject_of
from cityos.onestop.models import Applicant
from cityos.onestop.rating_errors import InvalidRating
from cityos.onestop.rating_schemas import (
    FollowUpActionIn,
    FollowUpDetailPublic,
    FollowUpPublic,
    FollowUpQueuePublic,
    LevelsPublic,
    RatingCreate,
    RatingPublic,
    StatsPublic,
)
from cityos.onestop.rating_workflow import FollowUpState, action_of

router = APIRouter(prefix="/onestop", tags=["onestop"])
Anyone = Annotated[PublicContext, public("the levels, reasons and channels of a rating: public reference data",
                                         rate="public")]  # fmt: skip
Rater = Annotated[RequestContext, allow("ratings:rate-own")]
FollowingUp = Annotated[RequestContext, allow("ratings:follow-up")]
Reader = Annotated[RequestContext, allow("ratings:read")]
FID = Path(max_length=32, description="the follow-up")


def _own(ctx: RequestContext) -> Applicant:
    subject_of(ctx.principal)  # NotASubject (400) for a login of no person or enterprise
    own = own_applicant(ctx)
    if own is None:
        raise Forbidden("this login's subject is neither a person nor an enterprise")
    return own


def _actor(ctx: RequestContext, rater: str | None = None) -> ratings.Actor:
    centre = ctx.principal.department is None and ctx.can("ratings:follow-up")  # an operator, an administrator
    return ratings.Actor(name=ctx.principal.name, department=ctx.department, centre=centre, rater=rater)


@router.get("/ratings/levels", summary="The five levels of a rating, the reasons each may give, and the channels",
            responses=problem_responses(429))  # fmt: skip
def levels(_: Anyone) -> LevelsPublic:
    return LevelsPublic.build()


@router.post(
    "/me/ratings",
    status_code=201,
    summary="Rate my own handled application (好差评): five levels, reasons, the channel; a 2 or less opens a "
    "follow-up the department answers within 15 working days",
    responses=problem_responses(400, 403, 404, 409),
)
def rate(ctx: Rater, body: RatingCreate) -> RatingPublic:
    made = ratings.rate_application(ctx.rt, ctx.tenant, _own(ctx), body.application, body.level, body.reasons,
                                    body.comment, body.channel)  # fmt: skip
    return RatingPublic.of(made, now_ms())


@router.get("/me/ratings", summary="My ratings, newest first, with the follow-up of each 差评",
            responses=problem_responses(400, 403))  # fmt: skip
def my_ratings(ctx: Rater, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[RatingPublic]:
    now = now_ms()
    return [RatingPublic.of(r, now) for r in ratings.ratings_of(ctx.rt, ctx.tenant, _own(ctx), limit)]


@router.post(
    "/me/rating-follow-ups/{follow_up_id}/actions/{action}",
    summary="Accept or dispute the department's answer to my 差评 (a dispute starts another round)",
    responses=problem_responses(400, 403, 404, 409),
)
def rater_acts(ctx: Rater, follow_up_id: Annotated[str, FID], action: Annotated[str, Path(max_length=16)],
               body: FollowUpActionIn | None = None) -> FollowUpPublic:  # fmt: skip
    actor = ratings.Actor(name=ctx.principal.name, rater=ratings.rater_key(_own(ctx)))
    done = ratings.act(ctx.rt, ctx.tenant, follow_up_id, action_of(action), actor, body.text if body else None)
    return FollowUpPublic.of(done, now_ms())


@router.get("/rating-follow-ups", summary="The follow-ups of 差评 my department holds, soonest due first",
            responses=problem_responses(400, 403))  # fmt: skip
def follow_ups(
    ctx: FollowingUp,
    holder: Annotated[str | None, Query(max_length=64, description="the centre: one holder's")] = None,
    state: Annotated[FollowUpState | None, Query(description="one state's; default: those owing an answer")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(alias="perPage", ge=1, le=ratings.MAX_PAGE)] = 50,
) -> FollowUpQueuePublic:
    own = ctx.department
    if own is not None and holder not in (None, own):
        raise Forbidden(f"a department works its own follow-ups: this login acts for {own}, not {holder}")
    states = [state] if state is not None else sorted(ratings.WAITING)
    found, total = ratings.queue(ctx.rt, ctx.tenant, own or holder, states=states, page=page, per_page=per_page)
    return FollowUpQueuePublic.of(found, total, page, per_page, now_ms())


@router.get("/rating-follow-ups/{follow_up_id}", summary="One follow-up with its history and the rating it answers",
            responses=problem_responses(403, 404))  # fmt: skip
def get_follow_up(ctx: FollowingUp, follow_up_id: Annotated[str, FID]) -> FollowUpDetailPublic:
    fu, rating = ratings.follow_up(ctx.rt, ctx.tenant, follow_up_id, _actor(ctx))
    now = now_ms()
    return FollowUpDetailPublic(follow_up=FollowUpPublic.of(fu, now), rating=RatingPublic.of(rating, now))


@router.post(
    "/rating-follow-ups/{follow_up_id}/actions/{action}",
    summary="Answer a 差评 (the holding department; the 12345 centre once escalated), or, as the 12345 centre, "
    "accept or dispute on a reporter's behalf (回访)",
    responses=problem_responses(400, 403, 404, 409),
)
def department_acts(ctx: FollowingUp, follow_up_id: Annotated[str, FID], action: Annotated[str, Path(max_length=16)],
                    body: FollowUpActionIn | None = None) -> FollowUpPublic:  # fmt: skip
    done = ratings.act(ctx.rt, ctx.tenant, follow_up_id, action_of(action), _actor(ctx), body.text if body else None)
    return FollowUpPublic.of(done, now_ms())


@router.get(
    "/ratings/stats",
    summary="好差评 figures over a period per item, department or channel: count, each level, 好评率 (share rated 4 "
    "or 5), 差评 answered on time",
    responses=problem_responses(400),
)
def stats(
    ctx: Reader,
    by: Annotated[rating_figures.By, Query(description="item, department or channel")] = "department",
    since: Annotated[datetime | None, Query(description="included; ISO 8601")] = None,
    until: Annotated[datetime | None, Query(description="left out; ISO 8601")] = None,
    department: Annotated[str | None, Query(max_length=64, description="one department's ratings")] = None,
) -> StatsPublic:
    for name, t in (("since", since), ("until", until)):
        if t is not None and t.tzinfo is None:
            raise InvalidRating(f"{name} needs a time zone (e.g. 2026-01-01T00:00:00+08:00)", field=name)
    if since is not None and until is not None and until <= since:
        raise InvalidRating("until comes after since", field="until")
    return StatsPublic.of(rating_figures.stats(ctx.rt, ctx.tenant, by=by, since=since, until=until,
                                               department=department))  # fmt: skip
