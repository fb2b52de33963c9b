"""One request context for every route: who is calling, for which tenant, within which scope, and the
permission the route needs, declared on the route itself.

A route asks for its context with the permission it needs::

    Reader = Annotated[RequestContext, allow("vitals:read")]

    @router.get("/vitals/overview")
    def overview(ctx: Reader) -> Overview: ...

and a public route (no token: Open311 reads, a reporter's follow link, device telemetry that carries
its API key) says so with :func:`public`, naming why. A test walks every route of the app and fails on
a route that declares neither (``tests/test_routes_guarded.py``).

The tenant of a request is the ``NGSILD-Tenant`` header when one is sent, else the tenant the token is
limited to, else the default tenant; a token limited to one tenant may not use another (403).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fastapi import Depends, Request
from limits import RateLimitItem
from starlette.concurrency import run_in_threadpool

from cityos.auth.models import Principal, Scope
from cityos.auth.service import authenticate, authorize, cached_principal, tenant_exists
from cityos.auth.throttle import Windows, parse_rate, too_many
from cityos.errors import NotFound
from cityos.runtime import Runtime

TENANT_HEADER = "NGSILD-Tenant"
PERMISSION_MARK = "cityos_permission"  # set on the dependency of allow(): the permission a route needs
PUBLIC_MARK = "cityos_public"  # set on the dependency of public(): why a route needs no token

# Dependencies are async on purpose: FastAPI runs a sync dependency in the thread pool, one hop per
# dependency per request, which costs more than the work they do. One dependency per route, too.


@dataclass(frozen=True)
class RequestContext:
    """Who calls, for which tenant, within which scope; made once per request by :func:`allow`."""

    rt: Runtime
    principal: Principal
    tenant: str

    @property
    def department(self) -> str | None:
        """The one department the caller acts for (its data only), None when not limited to one."""
        return self.principal.department

    @property
    def scope(self) -> Scope:
        """The tenant and department the caller is limited to (None: no limit)."""
        return self.principal.scope

    def can(self, action: str) -> bool:
        """Whether the caller's role allows ``action`` (a second permission a route checks inside)."""
        return self.principal.can(action)

    def require(self, action: str) -> None:
        """Forbidden unless the caller's role allows ``action`` in this request's tenant."""
        authorize(self.principal, action, self.tenant)


@dataclass(frozen=True)
class PublicContext:
    """What a public route gets: the runtime, the tenant (header, else the default) and the client's
    address (behind a trusted proxy, the one it forwards)."""

    rt: Runtime
    tenant: str
    address: str = ""

    def limit_app(self, api_key: str) -> None:
        """TooManyRequests once an app's (authenticated) api_key reports more often than CITYOS_RATE_LIMIT_APP
        allows: every user of the app shares the key, so this bounds the app, not a person."""
        _limit(self.rt, "app", api_key, "reports of this app")

    def limit_token(self, token: str) -> None:
        """TooManyRequests once ``token`` (an app's api_key, a follow token) is used more often than
        CITYOS_RATE_LIMIT_TOKEN allows, from whatever address."""
        _limit(self.rt, "token", token, "requests with this token")


class RateLimits(Windows):
    """The windows of the public routes' rates, a part of the runtime (so, per process)."""


@lru_cache(maxsize=16)
def _rate(text: str) -> RateLimitItem:
    return parse_rate(text)


def _limit(rt: Runtime, which: str, key: str, what: str) -> None:
    """Count a request against the rate ``CITYOS_RATE_LIMIT_<which>`` for ``key``; TooManyRequests past it."""
    rate = _rate(getattr(rt.settings, f"rate_limit_{which}"))
    windows = rt.parts.get(RateLimits, RateLimits)
    if not windows.take(rate, which, key):
        raise too_many(windows, rate, what, which, key)


def client_address(request: Request) -> str:
    """The client, as the rate limits and the lockout count it: its IPv4 address, or the /64 network of its
    IPv6 address (one subscriber holds a whole /64, and could otherwise count as billions of clients). The
    address is the server's view (uvicorn puts a trusted proxy's X-Forwarded-For there)."""
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def runtime_of(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def tenant_of(request: Request, principal: Principal | None, default: str) -> str:
    """The tenant a request is for: the header, else the principal's own, else the default."""
    return request.headers.get(TENANT_HEADER) or (principal.tenant if principal else None) or default


async def principal_of(rt: Runtime, request: Request) -> Principal:
    """The caller behind the bearer token (Unauthenticated without a valid one)."""
    authorization = request.headers.get("authorization")
    cached = cached_principal(rt.db, authorization)
    if cached is not None:
        return cached
    return await run_in_threadpool(authenticate, rt.db, authorization)


async def context_of(request: Request, permission: str | None, *, known_tenant: bool = True) -> RequestContext:
    """Authenticate the caller, resolve the tenant and check ``permission`` there (None: no permission beyond
    a valid token, but the tenant is still one the caller may use).

    ``known_tenant``: a tenant the header names must exist (a misspelt one is a 404, not a tenant of its
    own); the NGSI-LD routes leave that to the hub, where a first write creates a tenant.
    """
    rt = runtime_of(request)
    principal = await principal_of(rt, request)
    tenant = tenant_of(request, principal, rt.settings.default_tenant)
    authorize(principal, permission, tenant)
    named = known_tenant and tenant not in (principal.tenant, rt.settings.default_tenant)
    if named and not await run_in_threadpool(tenant_exists, rt.db, tenant):  # asked only for a header's tenant
        raise NotFound(
            f"tenant {tenant!r} (the {TENANT_HEADER} header) does not exist: check its name; a tenant is "
            "created by its first NGSI-LD write"
        )
    return RequestContext(rt, principal, tenant)


def guarded(permission: str, make: Callable[[Request], Awaitable[Any]]) -> Any:
    """``Depends`` on ``make(request)`` marked as needing ``permission``: for request types built on the
    context (NGSI-LD's), which call :func:`context_of` themselves."""
    make.__dict__[PERMISSION_MARK] = permission
    make.__name__ = f"allow_{permission.replace(':', '_')}"
    return Depends(make)


def allow(permission: str) -> Any:
    """The dependency of a route that needs ``permission``: it yields the :class:`RequestContext`."""

    async def dependency(request: Request) -> RequestContext:
        return await context_of(request, permission)

    return guarded(permission, dependency)


def public(why: str, *, rate: str | None = None) -> Any:
    """The dependency of a route anyone may call without a token; ``why`` says what protects it instead.

    ``rate``: the rate setting (``login`` or ``public``: CITYOS_RATE_LIMIT_LOGIN …) that limits the
    route's requests per client address; past it, 429 with Retry-After.
    """

    async def dependency(request: Request) -> PublicContext:
        rt = runtime_of(request)
        address = client_address(request)
        if rate is not None:
            _limit(rt, rate, address, "requests from this address")
        return PublicContext(rt, tenant_of(request, None, rt.settings.default_tenant), address)

    dependency.__dict__[PUBLIC_MARK] = why
    return Depends(dependency)


def signed_in() -> Any:
    """The dependency of a route any valid token may call (who am I, log out): no permission beyond that."""

    async def dependency(request: Request) -> RequestContext:
        return await context_of(request, None)

    dependency.__dict__[PERMISSION_MARK] = "(any valid token)"
    return Depends(dependency)


def route_guard(dependant: Any) -> tuple[str, str] | None:
    """What guards a route (its FastAPI dependant): ("permission", p), ("public", why), or None."""
    stack = [dependant]
    while stack:
        d = stack.pop()
        call = getattr(d, "call", None)
        marks = getattr(call, "__dict__", {})
        if PERMISSION_MARK in marks:
            return "permission", marks[PERMISSION_MARK]
        if PUBLIC_MARK in marks:
            return "public", marks[PUBLIC_MARK]
        stack.extend(getattr(d, "dependencies", ()))
    return None
