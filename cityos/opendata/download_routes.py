"""The open datasets' downloads and DCAT metadata, public (no token): thin adapters over
:mod:`cityos.opendata.downloads` and :mod:`cityos.opendata.dcat`. Errors are problem documents."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from cityos.auth import PublicContext, public
from cityos.errors import problem_responses
from cityos.opendata import dcat, downloads, service
from cityos.opendata.models import License
from cityos.opendata.routes import application_key

router = APIRouter(tags=["opendata"])
Anyone = Annotated[PublicContext, public("the open data portal: open datasets' records and their DCAT metadata")]
JSONLD = "application/ld+json"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _licences() -> dict[str, License]:
    return {lic.id: lic for lic in service.license_list()}


@router.get(
    "/opendata/datasets/{name}/records.{fmt}",
    summary="Download an open dataset's records: csv (UTF-8 with BOM), json, geojson (with geometry), parquet",
    response_class=StreamingResponse,
    responses={200: {"description": "The records, streamed"}, **problem_responses(403, 404)},
)
async def download_records(request: Request, ctx: Anyone, name: str, fmt: str) -> StreamingResponse:
    key = application_key(request)  # an application's key, sent as to the Action API
    got = await run_in_threadpool(downloads.download, ctx.rt, ctx.tenant, name, fmt, key)
    headers = {
        "Content-Disposition": f'attachment; filename="{got.filename}"',
        "Cache-Control": "no-cache",  # live datasets change with the data: read anew every time
    }
    media = got.format.media_type + ("; charset=utf-8" if got.format.ext in ("csv", "json", "geojson") else "")
    return StreamingResponse(got.body, media_type=media, headers=headers)


def _jsonld(body: object) -> Response:
    return Response(orjson.dumps(body), media_type=JSONLD)


@router.get(
    "/opendata/datasets/{name}.jsonld",
    summary="An open dataset's DCAT-AP metadata as JSON-LD",
    responses={200: {"content": {JSONLD: {}}}, **problem_responses(404)},
)
async def dataset_jsonld(request: Request, ctx: Anyone, name: str) -> Response:
    package = await run_in_threadpool(downloads.find_package, ctx.rt, ctx.tenant, name)
    lic = _licences().get(package.license_id)
    return _jsonld(dcat.document(dcat.dataset(package, _base(request), lic, dcat.portal_description())))


def _catalog(request: Request, ctx: PublicContext) -> dict[str, object]:
    snap = service.snapshot(ctx.rt, ctx.tenant)
    return dcat.catalog(snap.packages, _base(request), _licences(), dcat.portal_description())


@router.get(
    "/catalog.jsonld",
    summary="The open data catalogue (every open dataset) as DCAT-AP JSON-LD",
    responses={200: {"content": {JSONLD: {}}}},
)
async def catalog_jsonld(request: Request, ctx: Anyone) -> Response:
    return _jsonld(await run_in_threadpool(_catalog, request, ctx))


def _turtle(request: Request, ctx: PublicContext) -> str:
    return dcat.turtle(_catalog(request, ctx))


@router.get(
    "/catalog.ttl",
    summary="The open data catalogue as DCAT-AP Turtle",
    responses={200: {"content": {"text/turtle": {}}}},
)
async def catalog_turtle(request: Request, ctx: Anyone) -> Response:
    return Response(await run_in_threadpool(_turtle, request, ctx), media_type="text/turtle; charset=utf-8")
