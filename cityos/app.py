"""Builds the FastAPI application from the routers of each package."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityos import __version__
from cityos.config import Settings
from cityos.context.errors import InternalError, InvalidRequest, NgsiLdError
from cityos.errors import CityError, HttpProblem, InvalidInput, MethodNotAllowed, NotFound
from cityos.runtime import Runtime
from cityos.tuning import freeze_startup_objects, tune_process

log = logging.getLogger("cityos")
NGSILD_PREFIX = "/ngsi-ld/"
# Requests still open this long after a stop are cut: the dashboards' live streams never end by themselves
# (their pages reconnect to the next server).
SHUTDOWN_GRACE_SECONDS = 3


class Companion(Protocol):
    """Something that runs beside the API for as long as it serves."""

    def start(self) -> None: ...
    def close(self) -> None: ...


def problem_response(err: CityError, request: Request) -> Response:
    body = err.problem()  # an "instance" given to the error rides along in its extra members
    ngsild = request.url.path.startswith(NGSILD_PREFIX) or isinstance(err, NgsiLdError)
    media = "application/json" if ngsild else "application/problem+json"
    headers = {"WWW-Authenticate": 'Bearer realm="cityos"'} if err.status == 401 else None
    return Response(orjson.dumps(body), status_code=err.status, media_type=media, headers=headers)


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
            err = NotFound(f"there is no resource at {request.url.path}: see /docs for the API")
        elif exc.status_code == 405:
            err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}: see /docs for the methods")
        else:
            err = HttpProblem(exc.status_code, exc.detail if isinstance(exc.detail, str) else "the request failed")
        return problem_response(err, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(InternalError("the server failed on this request; it has been logged"), request)


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, companions: Sequence[Companion] = ()
) -> FastAPI:
    """The cityos API. Pass a runtime to share one (tests, the demo); otherwise one is opened.

    ``companions`` start once the ingest side runs and stop before it does (the demo's simulator).
    """
    tune_process()
    rt = runtime or Runtime.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        freeze_startup_objects()
        from cityos.cases.runner import CasesRunner
        from cityos.context.notify import Notifier
        from cityos.iot.runner import IngestRunner
        from cityos.vitals.runner import VitalsRunner
        from cityos.web.live import LiveHub
        from cityos.web.sensors import sensor_value

        notifier = Notifier(rt) if rt.settings.notifies_in_api else None
        app.state.notifier = notifier
        if notifier is not None:
            notifier.start()
        vitals = VitalsRunner(rt) if rt.settings.vitals_in_api else None
        if vitals is not None:
            vitals.start()
        cases = CasesRunner(rt) if rt.settings.vitals_in_api else None  # warnings open cases where vitals run
        if cases is not None:
            cases.start()
        app.state.cases = cases
        live = LiveHub(rt.bus, sensor_value)
        app.state.live = live
        live.start()
        ingest = IngestRunner(rt, mqtt=rt.settings.mqtt_ingest_in_api)
        app.state.ingest = ingest
        ingest.start()
        for c in companions:
            c.start()
        yield
        for c in reversed(companions):
            c.close()
        ingest.close()
        live.close()
        if vitals is not None:
            vitals.close()
        if cases is not None:
            cases.close()
        if notifier is not None:
            notifier.close()
        if runtime is None:
            rt.close()

    app = FastAPI(
        title="cityos",
        version=__version__,
        lifespan=lifespan,
        description="City digital base: the NGSI-LD city data hub and the services built on it.",
    )
    app.state.runtime = rt
    install_error_handlers(app)

    @app.get("/health", tags=["system"], summary="Liveness and database check")
    def health() -> dict[str, Any]:
        from sqlalchemy import text

        with rt.db.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": rt.db.dialect}

    from cityos.auth import routes as auth_routes
    from cityos.cases import open311_routes
    from cityos.cases import routes as cases_routes
    from cityos.context import (
        routes,
        routes_batch,
        routes_contexts,
        routes_subscriptions,
        routes_temporal,
        routes_types,
    )
    from cityos.iot import routes as iot_routes
    from cityos.twin import routes as twin_routes
    from cityos.vitals import routes as vitals_routes
    from cityos.web import routes as web_routes

    app.include_router(auth_routes.router)
    app.include_router(routes.router)
    app.include_router(routes_batch.router)
    app.include_router(routes_types.router)
    app.include_router(routes_contexts.router)
    app.include_router(routes_temporal.router)
    app.include_router(routes_subscriptions.router)
    app.include_router(iot_routes.router)
    app.include_router(iot_routes.metrics_router)
    app.include_router(vitals_routes.router)
    app.include_router(twin_routes.router)
    app.include_router(cases_routes.router)
    app.include_router(cases_routes.public_router)
    app.include_router(open311_routes.router)
    app.include_router(web_routes.router)
    web_routes.mount_static(app)
    return app
