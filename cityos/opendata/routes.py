"""The CKAN Action API at ``/api/action/{name}`` and ``/api/3/action/{name}``, public (no token): GET with
the parameters in the query, POST with a JSON object (or a form) as the body. A thin adapter over
:data:`cityos.opendata.actions.ACTIONS`: the envelope, CKAN's errors and statuses."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from cityos.auth import PublicContext, public
from cityos.errors import CityError, problem_responses
from cityos.opendata.actions import ACTIONS, Call
from cityos.opendata.errors import AuthorizationError, BadRequest, CkanError, NotFoundError, ValidationError
from cityos.opendata.pages import PORTAL_HEADER
from cityos.opendata.portal import dataset_of_call
from cityos.opendata.schemas import documented
from cityos.opendata.usage import count_use

router = APIRouter(tags=["opendata"])
Anyone = Annotated[
    PublicContext,
    public("the open data portal's CKAN Action API: open datasets' metadata and records (rate-limited per address)",
           rate="opendata"),
]  # fmt: skip
PATHS = ("/api/3/action", "/api/action")


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json;charset=utf-8")


def _query(request: Request) -> dict[str, Any]:
    """A GET's parameters as CKAN reads them: one value a string, a repeated one a list."""
    out: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        out[key] = values[0] if len(values) == 1 else values
    return out


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"JSON Error: the body is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadRequest(f"Bad request data: Request data JSON decoded to {type(data).__name__} but it needs to be "
                         "a dictionary.")  # fmt: skip
    return data


def application_key(request: Request) -> str | None:
    """An application's key as CKAN's clients send an API key: ``Authorization: <key>`` (ckanapi sends it there
    and in ``X-CKAN-API-Key``); a ``Bearer`` prefix is taken off."""
    raw = request.headers.get("x-ckan-api-key") or request.headers.get("authorization") or ""
    raw = raw.strip()
    if raw[:7].lower() == "bearer ":
        raw = raw[7:].strip()
    return raw or None


def _as_ckan(exc: CityError) -> CkanError:
    """An error of the data resource system as CKAN names it."""
    if exc.status == 403:
        return AuthorizationError(exc.detail)
    if exc.status == 404:
        return NotFoundError(exc.detail)
    if exc.status in (400, 409, 422):
        return ValidationError({str(exc.extra.get("field") or "message"): [exc.detail]})
    raise exc


async def _action(request: Request, ctx: PublicContext, name: str, path: str, params: dict[str, Any]) -> Response:
    base = str(request.base_url).rstrip("/")
    envelope: dict[str, Any] = {"help": f"{base}{path}/help_show?name={name}"}
    function = ACTIONS.get(name)
    if function is None:
        return _json(400, BadRequest(f"Action name not known: {name}").body())
    call = Call(ctx.rt, ctx.tenant, base, path, application_key(request))
    try:
        try:
            result = await run_in_threadpool(function, call, params)
        except CityError as exc:
            raise _as_ckan(exc) from None
    except CkanError as exc:
        return _json(exc.status, {**envelope, "success": False, "error": exc.error()})
    if request.headers.get(PORTAL_HEADER) is None:  # the portal's pages count as views, not API calls
        dataset = dataset_of_call(lambda: call.snap, name, params)  # the snapshot the action read: no query
        if dataset is not None:
            count_use(ctx.rt, ctx.tenant, dataset, "api")
    return _json(200, {**envelope, "success": True, "result": result})


def _add(path: str) -> None:
    @router.get(f"{path}/{{name}}", summary=f"Call a CKAN action with GET ({path})", responses=documented())
    async def get_action(request: Request, ctx: Anyone, name: str) -> Response:
        return await _action(request, ctx, name, path, _query(request))

    @router.post(
        f"{path}/{{name}}",
        summary=f"Call a CKAN action with POST, a JSON object as the body ({path})",
        responses={**documented(), **problem_responses(413)},
    )
    async def post_action(request: Request, ctx: Anyone, name: str) -> Response:
        try:
            params = await _body(request)
        except BadRequest as exc:
            return _json(400, exc.body())
        return await _action(request, ctx, name, path, params)


for _path in PATHS:
    _add(_path)
