"""NGSI-LD @context management: /ngsi-ld/v1/jsonldContexts."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cityos.auth.deps import RuntimeDep, require
from cityos.auth.models import Principal
from cityos.context import contexts as svc
from cityos.context.http import JSON, JSONLD, read_json

router = APIRouter(prefix="/ngsi-ld/v1/jsonldContexts", tags=["NGSI-LD @contexts"])


def _url(request: Request, row: dict) -> str:
    if row["kind"] == svc.HOSTED:
        return str(request.base_url).rstrip("/") + row["url"]
    return row["url"]


def _info(request: Request, row: dict) -> dict:
    return {
        "id": row["id"],
        "url": _url(request, row),
        "kind": row["kind"],
        "createdAt": row["created_at"],
        "lastUsage": row["last_used_at"],
        "numberOfHits": row["uses"],
    }


@router.post("", status_code=201, summary="Store a user @context")
async def add_context(
    request: Request, rt: RuntimeDep, _: Annotated[Principal, Depends(require("contexts:write"))]
) -> Response:
    body, _ctype = await read_json(request, max_bytes=rt.settings.max_body_bytes)
    cid = svc.add_hosted(rt, body)
    return Response(status_code=201, headers={"Location": f"{svc.HOSTED_PATH}{cid}"})


@router.get("", summary="List stored @contexts")
def list_contexts(
    request: Request,
    rt: RuntimeDep,
    _: Annotated[Principal, Depends(require("contexts:read"))],
    details: bool = False,
    kind: str | None = None,
) -> Response:
    rows = svc.list_contexts(rt, kind)
    out = [_info(request, r) for r in rows] if details else [_url(request, r) for r in rows]
    return Response(orjson.dumps(out), media_type=JSON)


@router.get("/{cid}", summary="Serve a stored @context (public, as JSON-LD contexts are)")
def get_context(cid: str, request: Request, rt: RuntimeDep, details: bool = False) -> Response:
    row = svc.get_context(rt, cid)
    if details:
        return Response(orjson.dumps(_info(request, row)), media_type=JSON)
    return Response(orjson.dumps(row["body"]), media_type=JSONLD)


@router.delete("/{cid}", status_code=204, summary="Delete a stored @context")
def delete_context(cid: str, rt: RuntimeDep, _: Annotated[Principal, Depends(require("contexts:write"))]) -> Response:
    svc.delete_context(rt, cid)
    return Response(status_code=204)
