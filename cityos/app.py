"""Builds the FastAPI application from the components (``cityos.components``): their routers, the
runners every API process needs, and the roles this process may take (``CITYOS_ROLES``)."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from cityos import __version__
from cityos.auth import PublicContext, public, route_guard
from cityos.bodylimit import BodyLimit
from cityos.component import Runner, Runners, describe, process_runners
from cityos.components import COMPONENTS
from cityos.config import Settings
from cityos.context import BadRequestData, InternalError, InvalidRequest, NgsiLdError, ResourceNotFound
from cityos.errors import (
    CityError,
    HttpProblem,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    problem_responses,
    problem_schema,
)
from cityos.runtime import Runtime
from cityos.tuning import freeze_startup_objects, tune_process
from cityos.web import SecurityHeaders

log = logging.getLogger("cityos")
NGSILD_PREFIX = "/ngsi-ld/"
# Requests still open this long after a stop are cut: the dashboards' live streams never end by themselves
# (their pages reconnect to the next server).
SHUTDOWN_GRACE_SECONDS = 3


def access_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, with the credentials in a request line (an Open311 ``api_key``, a
    follow token) redacted from the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": "cityos.core.logredact.RedactSecrets"}
    config["handlers"]["access"]["filters"] = ["redact_secrets"]
    return config


def problem_response(err: CityError, request: Request) -> Response:
    body = err.problem()  # an "instance" given to the error rides along in its extra members
    ngsild = request.url.path.startswith(NGSILD_PREFIX) or isinstance(err, NgsiLdError)
    media = "application/json" if ngsild else "application/problem+json"
    headers = {"WWW-Authenticate": 'Bearer realm="cityos"'} if err.status == 401 else {}
    if err.status in (429, 503) and "retryAfter" in err.extra:
        headers["Retry-After"] = str(err.extra["retryAfter"])
    return Response(orjson.dumps(body), status_code=err.status, media_type=media, headers=headers or None)


def _refused(err: CityError, scope: Scope) -> Response:
    """The answer to a body the body limit refuses, as the error handlers would give it (NGSI-LD's error
    type on that surface)."""
    request = Request(scope)
    if isinstance(err, InvalidInput) and request.url.path.startswith(NGSILD_PREFIX):
        err = InvalidRequest(err.detail)
    return problem_response(err, request)


def _open311_error(status: int, detail: str) -> Response:
    """An error in GeoReport v2's own shape (a list of code and description), for the Open311 routes."""
    body = orjson.dumps([{"code": status, "description": detail}])
    return Response(body, status_code=status, media_type="application/json")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "header", "body"))
        parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
    return "; ".join(parts) or "the request parameters are invalid"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CityError)
    async def _city_error(request: Request, exc: CityError) -> Response:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        msg = _validation_message(exc)
        err: CityError = InvalidRequest(msg) if request.url.path.startswith(NGSILD_PREFIX) else InvalidInput(msg)
        return problem_response(err, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        err: CityError
        if exc.status_code == 404:
            where = f"there is no resource at {request.url.path}: see /docs for the API"
            err = ResourceNotFound(where) if request.url.path.startswith(NGSILD_PREFIX) else NotFound(where)
        elif exc.status_code == 405:
            err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}: see /docs for the methods")
        else:
            err = HttpProblem(exc.status_code, exc.detail if isinstance(exc.detail, str) else "the request failed")
        return problem_response(err, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(InternalError("the server failed on this request; it has been logged"), request)


TELEMETRY_ROUTES = ("/iot/json", "/iot/ul", "/iot/bulk")


class RefuseNul:
    """A request whose path or query holds U+0000 is answered 400 before any route runs: no id, name or
    filter holds it, and PostgreSQL takes no text parameter that does (bodies: cityos.bodylimit)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            where = "path" if "\x00" in scope["path"] else "query"
            detail = f"the request's {where} holds the character U+0000 (%00): no id, name or parameter may hold it"
            if scope["path"].startswith("/open311/"):  # GeoReport's own error list
                response = _open311_error(400, detail)
            else:
                err = InvalidRequest(detail) if scope["path"].startswith(NGSILD_PREFIX) else InvalidInput(detail)
                response = problem_response(err, Request(scope))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


# an NGSI-LD path whose entity id is empty: /entities//attrs, /temporal/entities//attrs/speed, PUT /entities/
_EMPTY_ENTITY_ID = re.compile(r"^/ngsi-ld/v1/(?:temporal/)?entities/(?:/|$)")
# an attribute name left out before an instance id: /temporal/entities/{id}/attrs//{instanceId} (ETSI 017_02_05)
_EMPTY_ATTRIBUTE = re.compile(r"^/ngsi-ld/v1/(?:temporal/)?entities/[^/]+/attrs//[^/]")


class RefuseEmptyEntityId:
    """An NGSI-LD request on an entity whose id is left out of the path is answered 400 BadRequestData (the id
    is missing, NGSI-LD clause 6.3.x), not 404 for an unknown path or 405 after a redirect to the collection.
    Only PUT and PATCH of ``/entities/`` are refused so: other methods there are the collection's and pass. An
    attribute's name left out before an instance id (``.../attrs//{instanceId}``) is refused the same way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _EMPTY_ENTITY_ID.match(scope["path"]):
            path: str = scope["path"]
            # a trailing slash: PUT or PATCH of /entities/ is a replace or merge of no entity; other methods are
            # the collection's (DELETE /temporal/entities/ stays 405, as ETSI 009_02_01 expects)
            if not path.endswith("/entities/") or (scope["method"] in ("PUT", "PATCH") and "/temporal/" not in path):
                err = BadRequestData(f"{path} names no entity: put the entity's id (a URI) between the slashes")
                await problem_response(err, Request(scope))(scope, receive, send)
                return
        if scope["type"] == "http" and _EMPTY_ATTRIBUTE.match(scope["path"]):
            err = BadRequestData(f"{scope['path']} names no attribute: put its name between the slashes")
            await problem_response(err, Request(scope))(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Health(BaseModel):
    """The process is up and reaches its database; the roles it runs now, those it stands by for, and what
    it still loads in the background (requests that need it answer 503 meanwhile)."""

    status: str
    version: str
    database: str
    roles: list[str]
    standby: list[str]
    loading: list[str]


Anyone = Annotated[PublicContext, public("a liveness check for load balancers; it tells nothing about the data")]


def create_app(
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    companions: Sequence[Runner] = (),
    roles: Sequence[str] | None = None,
) -> FastAPI:
    """The cityos API. Pass a runtime to share one (tests, the demo); otherwise one is opened.

    ``roles``: the roles this process may take (default ``CITYOS_ROLES``, see :mod:`cityos.component`).
    ``companions`` start once everything else runs and stop first (the demo's simulator).
    """
    tune_process()
    opened = None if runtime is not None else Runtime.open(settings)

    # The runtime served is the app's state: its routes read it from there, and so does each start. The tests
    # build an app once and serve each test's own runtime through it (building one costs FastAPI about half a
    # second of route analysis at its first request).
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        freeze_startup_objects()
        rt: Runtime = app.state.runtime
        taken = rt.settings.serve_roles if roles is None else tuple(roles)
        runners = process_runners(rt, COMPONENTS, api=True, roles=taken, extra=companions)
        app.state.runners = runners
        try:
            runners.start()  # a runner that fails stops those started before it, and the server does not start
            yield
        finally:
            runners.close()
            if opened is not None:
                opened.close()

    app = FastAPI(
        title="cityos",
        version=__version__,
        lifespan=lifespan,
        description="City digital base: the NGSI-LD city data hub and the services built on it.",
        docs_url=None,  # /docs is the dashboard's: Swagger UI served from this server (cityos.web.routes)
        redoc_url=None,  # /redoc likewise: ReDoc from this server
    )
    # outermost, around Starlette's own error middleware too: a 500 carries the headers as well
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeaders(build_stack())  # type: ignore[method-assign]
    app.state.runtime = runtime or opened
    app.state.runners = Runners([])
    install_error_handlers(app)
    limits = app.state.runtime.settings
    app.add_middleware(
        BodyLimit,
        max_bytes=limits.max_body_bytes,
        max_depth=limits.max_json_depth,
        refuse=_refused,
        # telemetry holding U+0000 becomes a dead letter with its reason; NGSI-LD names the entity that holds
        # it, and a batch stores the entities that do not (207)
        nul_to_route=(*TELEMETRY_ROUTES, NGSILD_PREFIX),
    )
    app.add_middleware(RefuseNul)
    app.add_middleware(RefuseEmptyEntityId)

    @app.get("/health", tags=["system"], summary="Liveness, the database, and the roles this process runs")
    def health(ctx: Anyone, request: Request) -> Health:
        ctx.rt.db.ping()
        held = describe(request.app.state.runners)
        return Health(status="ok", version=__version__, database=ctx.rt.db.dialect, **held)

    for component in COMPONENTS:
        for router in component.routers():
            app.include_router(router)
    for component in COMPONENTS:
        if component.mount is not None:
            component.mount(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


@dataclass(frozen=True)
class ApiRoute:
    """One route of the app as served (its full path), with its FastAPI dependant."""

    path: str
    methods: frozenset[str]
    include_in_schema: bool
    dependant: Any
    endpoint: Any
    openapi_extra: dict[str, Any] | None = None


def api_routes(app: FastAPI) -> list[ApiRoute]:
    """Every API route of the app, those of included routers too (the route checks walk these)."""
    out = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute):
            path = ctx.path_format or route.path_format
            methods = frozenset(route.methods or ())
            out.append(
                ApiRoute(path, methods, route.include_in_schema, route.dependant, route.endpoint, route.openapi_extra)
            )
    return out


def _is_validation_error(entry: dict[str, Any]) -> bool:
    """Whether a 422 entry is FastAPI's own (invalid parameters), not one a route declares for itself."""
    schema = entry.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).endswith("/HTTPValidationError")


BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def error_statuses(route: ApiRoute, method: str, guard: tuple[str, str] | None) -> list[int]:
    """The error statuses any route answers by what it is made of (its guard, method, parameters and body);
    a route adds those of its own domain (409, 422, 503 …) with ``responses=``.

    400: a parameter or a body that is not valid. 401 and 403: a guarded route without a valid token, or with
    one whose role, tenant or department does not allow it. 404: a path that names a thing, or a guarded
    route's ``NGSILD-Tenant`` header naming no tenant. 413: a body over the limit, whatever the route. A body
    the route reads itself is declared with ``openapi_extra`` (its ``requestBody``, and 415 where the route
    checks the body's media type).
    """
    d = route.dependant
    raw_body = "requestBody" in (route.openapi_extra or {})
    guarded = guard is not None and guard[0] == "permission"
    out: list[int] = []
    if d.query_params or d.path_params or d.header_params or d.body_params or raw_body:
        out.append(400)
    if guarded:
        out += [401, 403]
    if d.path_params or guarded:
        out.append(404)
    if method in BODY_METHODS:
        out.append(413)
    return out


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with what the routes declare by their guards and make-up: the bearer token on
    guarded routes, the error statuses of :func:`error_statuses`, and every error as a problem document (400
    for invalid parameters). The components add the schemas their routes refer to (``Component.schemas``)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = problem_schema()
    for component in COMPONENTS:
        schemas.update(component.schemas())
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    doc["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "`cityos token create`, or POST /auth/login"}
    }
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        guard = route_guard(route.dependant)
        for method in route.methods:
            op = doc["paths"].get(route.path, {}).get(method.lower())
            if op is None:
                continue
            responses = op.setdefault("responses", {})
            if _is_validation_error(responses.get("422", {})):
                del responses["422"]  # cityos answers invalid parameters with a 400 problem document
            if guard is not None and guard[0] == "permission":
                op["security"] = [{"bearer": []}]
                needs = f"Needs the permission `{guard[1]}`."
                op["description"] = f"{op['description'].rstrip()}\n\n{needs}" if op.get("description") else needs
            for status, entry in problem_responses(*error_statuses(route, method, guard)).items():
                responses.setdefault(str(status), entry)
    app.openapi_schema = doc
    return doc
