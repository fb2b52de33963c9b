"""FastAPI dependencies: the runtime, the calling principal, and permission checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from cityos.auth.models import Principal
from cityos.auth.service import authenticate, authorize, cached_principal
from cityos.runtime import Runtime

# Dependencies are async on purpose: FastAPI runs a sync dependency in the thread pool, one hop
# per dependency per request, which costs more than the work they do.


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def current_principal(rt: RuntimeDep, authorization: Annotated[str | None, Header()] = None) -> Principal:
    cached = cached_principal(rt.db, authorization)
    if cached is not None:
        return cached
    return await run_in_threadpool(authenticate, rt.db, authorization)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(action: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets the request through only if the principal's role allows ``action``."""

    async def check(principal: CurrentPrincipal) -> Principal:
        authorize(principal, action)
        return principal

    check.__name__ = f"require_{action.replace(':', '_')}"
    return check
