"""NGSI-LD @context management: /ngsi-ld/v1/jsonldContexts."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from cityos.auth import (
    TENANT_HEADER,
    PublicContext,
    RequestContext,
    allow,
    context_of,
    ensure_tenant,
    guarded,
    public,
    tenant_exists,
)
from cityos.context import contexts as svc
from cityos.context.api.ld import JSON, JSONLD, read_json
from cityos.context.api.schemas import created, ld_body
from cityos.context.errors import BadRequestData
from cityos.core.iris import holds_nul
from cityos.errors import problem_responses

router = APIRouter(prefix="/ngsi-ld/v1/jsonldContexts", tags=["NGSI-LD @contexts"])
Writer = Annotated[RequestContext, allow("contexts:write")]


async def _of_any_tenant(request: Request) -> RequestContext:
    # a tenant never written to holds no @context: listing it is an empty list, not NonexistentTenant
    return await context_of(request, "contexts:read", known_tenant=False)


async def _creating_tenant(request: Request) -> RequestContext:
    # adding a @context is a create: like Create Entity it creates the tenant it names (NGSI-LD 5.5.10)
    ctx = await context_of(request, "contexts:write", known_tenant=False)
    if ctx.tenant != ctx.rt.settings.default_tenant and not await run_in_threadpool(
        tenant_exists, ctx.rt.db, ctx.tenant
    ):
        ctx.require("tenants:create")
        await run_in_threadpool(ensure_tenant, ctx.rt.db, ctx.tenant)
    return ctx


Reader = Annotated[RequestContext, guarded("contexts:read", _of_any_tenant)]
Adder = Annotated[RequestContext, guarded("contexts:write", _creating_tenant)]
Anyone = Annotated[PublicContext, public("a JSON-LD @context is read by any client of the data written in it")]


def _url(request: Request, row: dict) -> str:
    if row["kind"] in svc.SERVED:
        return str(request.base_url).rstrip("/") + row["url"]
    return row["url"]


def _flag(details: str | None) -> bool:
    """The details parameter: true or false (BadRequestData otherwise, as NGSI-LD 5.13.3 asks)."""
    if details not in (None, "true", "false"):
        raise BadRequestData(f"details must be true or false, not {details!r}")
    return details == "true"


def _info(request: Request, row: dict) -> dict:
    """The details of a stored context, with the member names of NGSI-LD (ETSI GS CIM 009 5.13.3)."""
    info = {"URL": _url(request, row), "localId": row["id"], "kind": row["kind"], "createdAt": row["created_at"]}
    if row["last_used_at"]:  # optional: a context never used since it was stored has none
        info["lastUsage"] = row["last_used_at"]
    info["numberOfHits"] = row["uses"]
    return info


@router.post(
    "",
    status_code=201,
    summary="Store a user @context",
    response_class=Response,
    responses={**created("stored @context"), **problem_responses(504)},  # 504: a context it names is unreachable
    openapi_extra=ld_body("LdContextDocument", description='the context, as {"@context": …}'),
)
async def add_context(request: Request, ctx: Adder) -> Response:
    body, _ctype = await read_json(request)
    if holds_nul(body):  # PostgreSQL stores no text that holds it
        raise BadRequestData("the @context holds the character U+0000 in a term or an IRI: leave it out")
    cid = svc.add_hosted(ctx.rt, body, ctx.tenant)
    return Response(status_code=201, headers={"Location": f"{svc.HOSTED_PATH}{cid}"})


@router.get("", summary="List stored @contexts")
def list_contexts(request: Request, ctx: Reader, details: str | None = None, kind: str | None = None) -> Response:
    rows = svc.list_contexts(ctx.rt, kind, ctx.tenant)
    out = [_info(request, r) for r in rows] if _flag(details) else [_url(request, r) for r in rows]
    return Response(orjson.dumps(out), media_type=JSON)


@router.get(
    "/{cid:path}",
    summary="Serve a stored @context (public, as JSON-LD contexts are)",
    responses={200: {"description": "The @context (details: its record)", "content": {JSONLD: {}, JSON: {}}}},
)
def get_context(cid: str, request: Request, ctx: Anyone, details: str | None = None) -> Response:
    # cid: a local id, or a context's URL percent-encoded into one path segment (decoded by the router)
    want_details = _flag(details)
    # a request naming a tenant is served that tenant's @contexts (and the cached ones) alone (NGSI-LD 5.5.10);
    # one naming none is a JSON-LD processor dereferencing a URL it was given, served whatever it names
    tenant = ctx.tenant if request.headers.get(TENANT_HEADER) else None
    row = svc.get_context(ctx.rt, cid, tenant)
    if want_details:
        return Response(orjson.dumps(_info(request, row)), media_type=JSON)
    # application/json as the NGSI-LD API's serveContext answers (test 053_01); JSON-LD when asked for it
    accept = request.headers.get("accept", "")
    return Response(orjson.dumps(row["body"]), media_type=JSONLD if JSONLD in accept else JSON)


@router.delete("/{cid:path}", status_code=204, summary="Delete a stored @context")
def delete_context(cid: str, ctx: Writer, reload: str | None = None) -> Response:
    svc.delete_context(ctx.rt, cid, ctx.scope, reload, ctx.tenant)
    return Response(status_code=204)
