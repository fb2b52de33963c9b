"""HTTP routes of objections (数据异议纠错): /datahub/objections and /datahub/objection-notices.

A department sees the objections it made and those on the items it is the source of; the city (operators and
administrators) sees every one. An objection a caller may not see answers 404, as if absent. Who may move an
objection is the workflow table's to say (cityos.datahub.objection_workflow), not the route's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub import objections
from cityos.datahub.errors import ObjectionNotFound
from cityos.datahub.objection_schemas import NoticePublic, ObjectionCreate, ObjectionMove, ObjectionPublic
from cityos.datahub.objection_workflow import ObjectionAction, ObjectionState
from cityos.datahub.objections import ObjectionRecord
from cityos.errors import Forbidden, InvalidInput, problem_responses

router = APIRouter(prefix="/datahub", tags=["datahub"])
Reader = Annotated[RequestContext, allow("objections:read")]
Objector = Annotated[RequestContext, allow("objections:submit")]
Decider = Annotated[RequestContext, allow("objections:decide")]


class ObjectionSide(StrEnum):
    OBJECTOR = "objector"  # the objections it made
    SOURCE = "source"  # the objections on the items it is the source of


class ObjectionMoveName(StrEnum):
    """The moves after an objection's submission (ObjectionAction without ``submit``)."""

    ACCEPT = "accept"
    CORRECT = "correct"
    REJECT = "reject"
    WITHDRAW = "withdraw"


def _visible(ctx: RequestContext, record: ObjectionRecord) -> ObjectionRecord:
    own = ctx.department
    if own is not None and own not in (record.objector, record.source):
        raise ObjectionNotFound(f"there is no objection {record.id!r}: list the objections to find it")
    return record


def _whose(ctx: RequestContext, department: str | None) -> str | None:
    own = ctx.department
    if own is not None and department not in (None, own):
        raise Forbidden(f"this token acts for department {own!r}: it lists only the objections {own!r} made or "
                        f"is the source of, not {department!r}'s")  # fmt: skip
    return own or department


@router.post(
    "/objections",
    status_code=201,
    summary="Object to one item's value of a record the department read (数据异议): it goes to the item's source",
    responses=problem_responses(403, 409),  # 403: the department never read the record; 409: one is open already
)
def submit(ctx: Objector, body: ObjectionCreate, response: Response) -> ObjectionPublic:
    department = ctx.department
    if department is None:
        raise Forbidden("an objection is made by a department that read the value: use a department's token")
    record = objections.submit_objection(ctx.rt, ctx.tenant, body.code, body.record_id, body.item, body.evidence,
                                         department, ctx.principal.name, proposed=body.proposed_value)  # fmt: skip
    response.headers["Location"] = f"/datahub/objections/{record.id}"
    (seen,) = objections.as_seen_by(ctx.rt, ctx.tenant, [record], department)
    return ObjectionPublic.of(seen)


@router.get(
    "/objections", summary="Objections, the overdue first: made by a department and on its items (X-Total-Count)"
)
def list_objections(
    ctx: Reader,
    response: Response,
    as_: Annotated[
        ObjectionSide | None, Query(alias="as", description="objector: those it made; source: those on its items")
    ] = None,
    department: Annotated[
        str | None, Query(max_length=128, description="operators: the department; a department token: its own")
    ] = None,
    code: Annotated[str | None, Query(max_length=64, description="the catalogue entry")] = None,
    record_id: Annotated[str | None, Query(alias="recordId", max_length=256)] = None,
    state: ObjectionState | None = None,
    overdue: Annotated[bool | None, Query(description="true: open past the time limit; false: the others")] = None,
    limit: Annotated[int, Query(ge=1, le=objections.MAX_LIST)] = 20,
    offset: Offset = 0,
) -> list[ObjectionPublic]:
    who = _whose(ctx, department)
    if as_ is not None and who is None:
        raise InvalidInput(f"as={as_} is a department's side of its objections: name the department (department=)")
    source = who if as_ == ObjectionSide.SOURCE else None
    objector = who if as_ == ObjectionSide.OBJECTOR else None
    party = who if as_ is None else None
    found = objections.list_objections(ctx.rt, ctx.tenant, source=source, objector=objector, party=party, code=code,
                                       record_id=record_id, state=state, overdue=overdue, limit=limit,
                                       offset=offset)  # fmt: skip
    total = objections.count_objections(ctx.rt, ctx.tenant, source=source, objector=objector, party=party, code=code,
                                        record_id=record_id, state=state, overdue=overdue)  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    return [ObjectionPublic.of(r) for r in objections.as_seen_by(ctx.rt, ctx.tenant, found, ctx.department)]


@router.get("/objections/{objection_id}", summary="One objection as it is now, with its history and allowed moves")
def get_objection(ctx: Reader, objection_id: Annotated[str, Path(max_length=64)]) -> ObjectionPublic:
    found = _visible(ctx, objections.get_objection(ctx.rt, ctx.tenant, objection_id))
    (seen,) = objections.as_seen_by(ctx.rt, ctx.tenant, [found], ctx.department)
    return ObjectionPublic.of(seen)


@router.post(
    "/objections/{objection_id}/{action}",
    summary="Move an objection: accept, correct or reject (the item's source or the city); withdraw (the objector)",
    responses=problem_responses(409),  # the state does not allow the move: the allowed moves are named
)
def move_objection(
    ctx: Decider, objection_id: Annotated[str, Path(max_length=64)], action: ObjectionMoveName, body: ObjectionMove
) -> ObjectionPublic:
    _visible(ctx, objections.get_objection(ctx.rt, ctx.tenant, objection_id))
    record = objections.move_objection(ctx.rt, ctx.tenant, objection_id, ObjectionAction(action), ctx.principal.name,
                                       ctx.department, reason=body.reason, value=body.value,
                                       city=ctx.department is None)  # fmt: skip
    (seen,) = objections.as_seen_by(ctx.rt, ctx.tenant, [record], ctx.department)
    return ObjectionPublic.of(seen)


@router.get(
    "/objection-notices",
    summary="Corrections of values a department read (数据更正通知), newest first (X-Total-Count)",
)
def notices(
    ctx: Reader,
    response: Response,
    department: Annotated[
        str | None, Query(max_length=128, description="operators: the department; a department token: its own")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=objections.MAX_LIST)] = 20,
    offset: Offset = 0,
) -> list[NoticePublic]:
    found, total = objections.correction_notices(ctx.rt, ctx.tenant, _whose(ctx, department), limit=limit,
                                                 offset=offset)  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    seen = objections.notices_as_seen(ctx.rt, ctx.tenant, found, city=ctx.department is None)
    return [NoticePublic.of(n) for n in seen]
