"""The open data portal's public pages (issue 19 items 1 and 7): ``/opendata/`` (search with facets and the
datasets found), a dataset's page (metadata, a preview of its records through datastore_search, downloads,
usage, an error report), a department's and a theme's page. No token, no login. Each page is one HTML shell
whose modules render its JSON twin (the same URL with ``.json``); the pages use the dashboard's typeface,
ECharts and escaping module, and are held to the same Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from cityos.auth import PublicContext, public
from cityos.errors import NotFound, problem_responses
from cityos.opendata import portal, reports, service
from cityos.opendata.usage import count_use

STATIC = Path(__file__).parent / "static"
FILES = {
    "portal.js": "text/javascript",
    "portal.css": "text/css",
    "words.js": "text/javascript",
}  # and portal.html, the shell
PORTAL_HEADER = "X-Cityos-Portal"  # the pages' own Action API calls: counted as a view already, not as API calls

router = APIRouter(tags=["opendata"])
Anyone = Annotated[PublicContext, public("the open data portal's pages and their JSON twins: open datasets only")]
Reporter = Annotated[
    PublicContext,
    public("the open data portal's error reports: filed as objections to the source, rate-limited per address"),
]


def _shell() -> HTMLResponse:
    return HTMLResponse((STATIC / "portal.html").read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/opendata/static/{name}", include_in_schema=False)
def static(_: Anyone, name: str) -> FileResponse:
    if name not in FILES:
        raise NotFound(f"the portal has no file {name!r}: it serves {', '.join(FILES)}")
    return FileResponse(STATIC / name, media_type=FILES[name], headers={"Cache-Control": "no-cache"})


@router.get("/opendata/", response_class=HTMLResponse, include_in_schema=False)
def home(_: Anyone) -> HTMLResponse:
    return _shell()


@router.get("/opendata/index.json", summary="The portal's home page as JSON: datasets found, facets, themes")
async def home_json(request: Request, ctx: Anyone) -> dict[str, Any]:
    params = dict(request.query_params)
    return await run_in_threadpool(portal.search_page, ctx.rt, ctx.tenant, _base(request), params)


@router.get(
    "/opendata/datasets/{name}.json",
    summary="A dataset's page as JSON: metadata, preview, downloads, usage",
    responses=problem_responses(404),
)
async def dataset_json(request: Request, ctx: Anyone, name: str) -> dict[str, Any]:
    body = await run_in_threadpool(portal.dataset_page, ctx.rt, ctx.tenant, _base(request), name)
    if request.headers.get(PORTAL_HEADER) is None:
        count_use(ctx.rt, ctx.tenant, name, "api")
    return body


def _page(request: Request, missing: Callable[[], NotFound] | None) -> HTMLResponse:
    """The shell; for a name that names nothing, a browser gets it with 404 (the page shows its twin's
    detail), any other client the problem document."""
    if missing is None:
        return _shell()
    if "text/html" not in request.headers.get("accept", ""):
        raise missing()
    return HTMLResponse(_shell().body, status_code=404, headers={"Cache-Control": "no-cache"})


@router.get("/opendata/datasets/{name}", response_class=HTMLResponse, include_in_schema=False)
async def dataset(request: Request, ctx: Anyone, name: str) -> HTMLResponse:
    found = (await run_in_threadpool(service.snapshot, ctx.rt, ctx.tenant)).package(name)
    if found is not None:
        count_use(ctx.rt, ctx.tenant, found.name, "view")
    return _page(request, None if found else lambda: portal.PortalNotFound(f"the portal has no open dataset {name!r}"))


@router.get("/opendata/my-application", response_class=HTMLResponse, include_in_schema=False)
def my_application(_: Anyone) -> HTMLResponse:
    """The applicant's page: the key pasted in, its application's state and decision (read from
    ``/opendata/my-application.json`` with the key as a header, never in the address)."""
    return _shell()


@router.get(
    "/opendata/organizations/{name}.json",
    summary="A department's page as JSON: its open datasets",
    responses=problem_responses(404),
)
async def organization_json(request: Request, ctx: Anyone, name: str) -> dict[str, Any]:
    return await run_in_threadpool(portal.organization_page, ctx.rt, ctx.tenant, _base(request), name)


@router.get("/opendata/organizations/{name}", response_class=HTMLResponse, include_in_schema=False)
async def organization(request: Request, ctx: Anyone, name: str) -> HTMLResponse:
    snap = await run_in_threadpool(service.snapshot, ctx.rt, ctx.tenant)
    missing = lambda: portal.PortalNotFound(f"no department {name!r} provides open datasets")  # noqa: E731
    return _page(request, None if name in snap.organizations else missing)


@router.get(
    "/opendata/groups/{name}.json",
    summary="A theme's page as JSON: its open datasets",
    responses=problem_responses(404),
)
async def group_json(request: Request, ctx: Anyone, name: str) -> dict[str, Any]:
    return await run_in_threadpool(portal.group_page, ctx.rt, ctx.tenant, _base(request), name)


@router.get("/opendata/groups/{name}", response_class=HTMLResponse, include_in_schema=False)
async def group(request: Request, ctx: Anyone, name: str) -> HTMLResponse:
    snap = await run_in_threadpool(service.snapshot, ctx.rt, ctx.tenant)
    missing = lambda: portal.PortalNotFound(f"no open dataset is of the theme {name!r}")  # noqa: E731
    return _page(request, None if name in snap.groups else missing)


class ReportCreate(BaseModel):
    """An error report (纠错) on one value of a row the preview showed."""

    row: dict[str, Any] = Field(description="the row as the preview showed it: item -> value (its _id is ignored)")
    item: str = Field(min_length=1, max_length=128, description="the item whose value is wrong")
    evidence: str = Field(min_length=1, max_length=2000, description="what is wrong, and how you know")
    proposed: Any = Field(None, description="the value you believe right (optional)")


class ReportPublic(BaseModel):
    id: str = Field(description="the objection's id in the data resource system")
    state: str
    source: str = Field(description="the department that verifies the value (the item's one source)")
    item: str
    due_at: str = Field(description="when the source answers by (working days)")


@router.post(
    "/opendata/datasets/{name}/reports",
    status_code=201,
    summary="Report a wrong value of an open dataset (纠错): filed as an objection to the item's source",
    responses=problem_responses(403, 404, 409, 429),
)
async def report(ctx: Reporter, name: str, body: ReportCreate) -> ReportPublic:
    snap = await run_in_threadpool(service.snapshot, ctx.rt, ctx.tenant)
    package = snap.package(name)
    if package is None:
        raise portal.PortalNotFound(f"the portal has no open dataset {name!r}: search the open datasets at /opendata/")
    record = await run_in_threadpool(reports.file_report, ctx.rt, ctx.tenant, package, ctx.address, body.row,
                                     body.item, body.evidence, body.proposed)  # fmt: skip
    return ReportPublic(id=record.id, state=str(record.state), source=record.source, item=record.item,
                        due_at=record.due_at.isoformat())  # fmt: skip
