"""HTTP routes of the grants (授权共享) and of "who used my data" (数据使用记录): /datahub/grants, /datahub/usage.

A department sees the grants it asked for and those of the entries it provides; the city (operators and
administrators) sees every grant. A grant a caller may not see answers 404, as if absent. Who may move a
grant is the workflow table's to say (cityos.datahub.workflow), not the route's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub import audit, grants
from cityos.datahub.catalogue import get_entry
from cityos.datahub.errors import GrantNotFound, InvalidGrant
from cityos.datahub.grants import GrantRecord
from cityos.datahub.models import GrantState
from cityos.datahub.schemas import DataUsePublic, GrantMove, GrantPublic, GrantRequest
from cityos.datahub.workflow import GrantAction
from cityos.errors import Forbidden, InvalidInput, problem_responses

router = APIRouter(prefix="/datahub", tags=["datahub"])
Reader = Annotated[RequestContext, allow("grants:read")]
Requester = Annotated[RequestContext, allow("grants:request")]
Decider = Annotated[RequestContext, allow("grants:decide")]
UsageReader = Annotated[RequestContext, allow("usage:read")]

# an ID number (18 characters, or 15 of the old cards) or a unified social credit code (18)
SUBJECT = r"^[0-9A-Za-z]{15,18}$"


class Side(StrEnum):
    """Which side of a grant a department is on."""

    REQUESTER = "requester"  # it asked for the grant
    PROVIDER = "provider"  # it provides the entry


class Move(StrEnum):
    """The moves a grant takes after its request (GrantAction without ``request``)."""

    APPROVE = "approve"
    NARROW = "narrow"
    REFUSE = "refuse"
    REVOKE = "revoke"


def _city(ctx: RequestContext) -> bool:
    """Whether the caller acts for the city: an operator or an administrator (no department of its own)."""
    return ctx.department is None


def _visible(ctx: RequestContext, record: GrantRecord) -> GrantRecord:
    """The grant if the caller may see it; else GrantNotFound, as for a grant that does not exist."""
    own = ctx.department
    if own is not None and own not in (record.grant.department, record.provider):
        raise GrantNotFound(f"there is no grant {record.grant.id!r}: list a department's grants to find it")
    return record


def _whose(ctx: RequestContext, department: str | None) -> str | None:
    """The department a listing is about: a department token's own (it may not name another), else the one
    named (None: every department)."""
    own = ctx.department
    if own is not None and department not in (None, own):
        raise Forbidden(f"this token acts for department {own!r}: it lists only the grants {own!r} asked for "
                        f"or provides, not {department!r}'s")  # fmt: skip
    return own or department


@router.post(
    "/grants",
    status_code=201,
    summary="Request a grant of a catalogue entry for one application scenario, for the token's department",
)
def request_grant(ctx: Requester, body: GrantRequest, response: Response) -> GrantPublic:
    department = ctx.department
    if department is None:
        raise Forbidden("a grant is requested by a department for itself: use a department's token")
    entry = get_entry(ctx.rt, ctx.tenant, body.code)
    record = grants.request_grant(ctx.rt, ctx.tenant, entry, department, body.scenario, body.purpose,
                                  body.legal_basis, body.items, body.starts_at, body.ends_at, body.lifts,
                                  by=ctx.principal.name)  # fmt: skip
    response.headers["Location"] = f"/datahub/grants/{record.grant.id}"
    return GrantPublic.of(record)


@router.get("/grants", summary="Grants, newest first: a department's asked for and on its entries (X-Total-Count)")
def list_grants(
    ctx: Reader,
    response: Response,
    as_: Annotated[
        Side | None, Query(alias="as", description="requester: grants asked for; provider: grants on its entries")
    ] = None,
    department: Annotated[
        str | None, Query(max_length=128, description="operators: the department; a department token: its own")
    ] = None,
    code: Annotated[str | None, Query(max_length=64, description="the catalogue entry")] = None,
    state: Annotated[GrantState | None, Query(description="the state now (approved past its end: expired)")] = None,
    limit: Annotated[int, Query(ge=1, le=grants.MAX_LIST)] = 20,
    offset: Offset = 0,
) -> list[GrantPublic]:
    who = _whose(ctx, department)
    if as_ is not None and who is None:
        raise InvalidInput(f"as={as_} is a department's side of its grants: name the department (department=)")
    requester = who if as_ == Side.REQUESTER else None
    provider = who if as_ == Side.PROVIDER else None
    party = who if as_ is None else None
    found = grants.list_grants(ctx.rt, ctx.tenant, department=requester, provider=provider, party=party, code=code,
                               state=state, limit=limit, offset=offset)  # fmt: skip
    total = grants.count_grants(ctx.rt, ctx.tenant, department=requester, provider=provider, party=party,
                                code=code, state=state)  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    return [GrantPublic.of(r) for r in found]


@router.get("/grants/{grant_id}", summary="One grant as it is now, with its history and the moves allowed from it")
def get_grant(ctx: Reader, grant_id: Annotated[str, Path(max_length=64)]) -> GrantPublic:
    return GrantPublic.of(_visible(ctx, grants.get_grant(ctx.rt, ctx.tenant, grant_id)))


@router.post(
    "/grants/{grant_id}/{action}",
    summary="Move a grant: approve, narrow, refuse or revoke (the provider or the city; never the requester)",
    responses=problem_responses(409),  # the state does not allow the move: the allowed moves are named
)
def move_grant(
    ctx: Decider, grant_id: Annotated[str, Path(max_length=64)], action: Move, body: GrantMove
) -> GrantPublic:
    if body.action is not None and str(body.action) != str(action):
        raise InvalidGrant(f"the body's action '{body.action}' is not the path's '{action}': send one action",
                           field="action")  # fmt: skip
    current = _visible(ctx, grants.get_grant(ctx.rt, ctx.tenant, grant_id))
    entry = get_entry(ctx.rt, ctx.tenant, current.grant.code)
    record = grants.move_grant(ctx.rt, ctx.tenant, entry, grant_id, GrantAction(action), ctx.principal.name,
                               ctx.department, body.reason, narrowed=body.narrowing(), city=_city(ctx))  # fmt: skip
    return GrantPublic.of(record)


@router.get(
    "/usage",
    summary="Who used my data (数据使用记录): the reads that touched a person's or an enterprise's records; "
    "the lookup is audited",
)
def data_usage(
    ctx: UsageReader,
    subject: Annotated[
        str,
        Query(
            min_length=15,
            max_length=18,
            pattern=SUBJECT,
            description="a person's ID number (公民身份号码) or an enterprise's unified social credit code",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DataUsePublic]:
    found = audit.usage_lookup(ctx.rt, ctx.tenant, subject, ctx.principal.name, ctx.department, limit=limit)
    return [DataUsePublic.of(r) for r in found]
