"""HTTP routes of the auth package: log in with an account's password, ask who you are, log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from cityos.auth import service
from cityos.auth.deps import PublicContext, RequestContext, public, signed_in
from cityos.auth.schemas import LoginCreate, LoginPublic, ProfilePublic
from cityos.errors import problem_responses

router = APIRouter(prefix="/auth", tags=["auth"])
SignedIn = Annotated[RequestContext, signed_in()]
Login = Annotated[
    PublicContext,
    public(
        "logging in: the password is the credential (rate-limited per address; 5 wrong lock name × address)",
        rate="login",
    ),
]


# Sync on purpose: scrypt takes tens of milliseconds, which belongs in the thread pool, not the event loop.
@router.post(
    "/login",
    summary="Log in with an account name and password: a bearer token that expires",
    responses=problem_responses(401, 429),  # a wrong name or password; too many tries from this address
)
def login(ctx: Login, body: LoginCreate, response: Response) -> LoginPublic:
    secret, expires_at, principal = service.login(
        ctx.rt.db, body.username, body.password, hours=body.hours or service.LOGIN_HOURS, address=ctx.address
    )
    response.headers["Cache-Control"] = "no-store"  # a response carrying a credential (RFC 6749 5.1)
    return LoginPublic(token=secret, expiresAt=expires_at, principal=service.profile(principal))


@router.get("/me", summary="Who the bearer token belongs to and what its role allows")
async def me(ctx: SignedIn) -> ProfilePublic:
    return service.profile(ctx.principal)


@router.post("/logout", status_code=204, summary="Revoke the bearer token this request carries")
def logout(ctx: SignedIn, request: Request) -> Response:
    service.revoke_token(ctx.rt.db, (request.headers.get("authorization") or "").partition(" ")[2].strip())
    return Response(status_code=204)
