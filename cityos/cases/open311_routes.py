"""The public Open311 GeoReport v2 API at ``/open311/v2``: services, service definitions, requests (GET
and POST with an ``api_key``), one request, and tokens; JSON or XML by the path's suffix (``.json``
default), errors as the spec's list of code and description. Reads are public; a POST needs the key
of a token allowed to report (``cityos token create APP --role reporter``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from cityos.auth import Principal, PublicContext, authenticate, public, tenant_exists
from cityos.cases import open311, service
from cityos.cases.open311 import NewRequest, Open311Error, Open311Errors
from cityos.cases.open311_schemas import (
    REQUEST_FORM,
    PostedRequest,
    RequestToken,
    Service,
    ServiceDefinition,
    ServiceRequest,
    documented,
)
from cityos.cases.reads import Filters
from cityos.cases.schemas import CaseView, NewCase, Reporter
from cityos.cases.settings import settings
from cityos.cases.store import OPEN_STATES
from cityos.cases.workflow import Role
from cityos.errors import CityError, TooManyRequests, problem_responses
from cityos.runtime import Runtime

router = APIRouter(prefix="/open311/v2", tags=["open311"])
# Each route is declared twice, with the format suffix and without (JSON); the plain path is registered
# second, so that "/services/{code}" does not take "streetlight-out.json" for a code.
DEFAULT_DAYS = 90  # the spec's default range of GET requests
MAX_REQUESTS = 1000
Citizen = Annotated[PublicContext, public("Open311: requests are public records; a new one carries the app's api_key")]
NewReport = Annotated[
    PublicContext,
    public("Open311: a new request carries the app's api_key (rate-limited per address and key)", rate="public"),
]


def _answer(kind: str, body: Any, fmt: str, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(open311.to_xml(kind, body), status, media_type="text/xml; charset=utf-8")
    return Response(orjson.dumps(body), status, media_type="application/json")


def _errors(exc: Open311Error | Open311Errors, fmt: str) -> Response:
    errs = exc.errors if isinstance(exc, Open311Errors) else [exc]
    return _answer("errors", open311.errors_body(errs), fmt, errs[0].status)


def _fmt(fmt: str | None) -> str:
    if fmt in (None, "json", "xml"):
        return fmt or "json"
    raise Open311Error(404, f"format .{fmt} is not offered: use .json or .xml")


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang")
    if lang:
        return lang
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def _jurisdiction(ctx: PublicContext, params: Any, principal: Principal | None = None) -> str:
    """The tenant a request is for: its ``jurisdiction_id``, else the reporting app's own, else the default."""
    wanted = params.get("jurisdiction_id") or None
    if wanted is None:
        return (principal.tenant if principal else None) or ctx.rt.settings.default_tenant
    if wanted != ctx.rt.settings.default_tenant and not tenant_exists(ctx.rt.db, wanted):
        raise Open311Error(404, f"jurisdiction_id {wanted!r} is not served here")
    if principal is not None and not principal.may_use_tenant(wanted):
        raise Open311Error(403, f"this api_key may not report in jurisdiction {wanted!r}")
    return str(wanted)


async def _run(fmt: str | None, fn: Any, *args: Any) -> Response:
    """Run ``fn`` in the thread pool; answer its errors in the spec's format (in JSON for a bad suffix)."""
    try:
        out_fmt = _fmt(fmt)
    except Open311Error as exc:
        return _errors(exc, "json")
    try:
        kind, body, status = await run_in_threadpool(fn, *args)
    except (Open311Error, Open311Errors) as exc:
        return _errors(exc, out_fmt)
    except TooManyRequests:  # a problem document with Retry-After, as every rate limit answers
        raise
    except CityError as exc:  # a service error (no such case, a place it cannot take) keeps its status
        return _errors(Open311Error(exc.status, exc.detail), out_fmt)
    return _answer(kind, body, out_fmt, status)


# --- services ------------------------------------------------------------------------------------------------------


@router.get("/services", summary="The service list (Open311), JSON", include_in_schema=False)
@router.get("/services.{fmt}", summary="The service list (Open311)", responses=documented(list[Service]))
async def services(request: Request, ctx: Citizen, fmt: str | None = None) -> Response:
    rt = ctx.rt
    lang = _lang(request)
    return await _run(fmt, lambda: ("services", open311.service_list(settings(rt).taxonomy, lang), 200))


@router.get("/services/{code}", summary="A service definition (Open311), JSON", include_in_schema=False)
@router.get("/services/{code}.{fmt}", summary="A service definition (Open311)", responses=documented(ServiceDefinition))
async def service_definition(request: Request, ctx: Citizen, code: str, fmt: str | None = None) -> Response:
    rt = ctx.rt
    lang = _lang(request)
    return await _run(
        fmt, lambda: ("service_definition", open311.service_definition(settings(rt).taxonomy, code, lang), 200)
    )


# --- requests ------------------------------------------------------------------------------------------------------


def _request_view(rt: Runtime, staff_view: CaseView, lang: str) -> dict[str, Any]:
    """A case as a public GeoReport request: built from its public view, so no reporter data and the free
    text masked."""
    case = service.public_view(staff_view)
    row = {
        "id": case.id,
        "state": str(case.state),
        "category": case.category,
        "text": case.text,
        "department": case.department,
        "address": case.address,
        "lon": case.lon,
        "lat": case.lat,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "due_at": case.due_at,
        "result": case.result,
        "attachments": case.attachments,
        "last_note": None,
    }
    return open311.request_view(row, settings(rt).taxonomy, lang)


def _new_case(req: NewRequest, rt: Runtime) -> NewCase:
    name = " ".join(n for n in (req.first_name, req.last_name) if n) or None
    reporter = Reporter(name=name, phone=req.phone, email=req.email, account_id=req.account_id, device_id=req.device_id)
    text = req.description or settings(rt).taxonomy.sub(req.service_code).name.zh
    return NewCase(
        source="open311",
        text=text,
        category=req.service_code,
        lon=req.lon,
        lat=req.lat,
        address=req.address_string or req.address_id,
        attachments=[req.media_url] if req.media_url else [],
        reporter=reporter,
        priority="urgent" if req.attributes.get("urgency") == "urgent" else None,
    )


@router.post("/requests", summary="Report a problem (Open311), JSON", include_in_schema=False)
@router.post(
    "/requests.{fmt}",
    summary="Report a problem (Open311); needs api_key",
    responses={**documented(list[PostedRequest], 201, 200, errors=(400, 403, 404)), **problem_responses(429)},
    openapi_extra=REQUEST_FORM,
)
async def post_request(request: Request, ctx: NewReport, fmt: str | None = None) -> Response:
    rt = ctx.rt
    form = dict(request.query_params)
    form.update(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))

    def create() -> tuple[str, Any, int]:
        key = form.get("api_key") or ""
        if not key:
            raise Open311Error(403, "api_key is missing: an app reports with the key cityos issued to it")
        try:
            principal = authenticate(rt.db, f"Bearer {key}")
        except CityError:
            raise Open311Error(403, "api_key is not valid: ask the city for a key") from None
        # counted once the key is known to be the city's, by the app's own rate (a problem document, 429 with
        # Retry-After, as the rate per address)
        ctx.limit_app(key)
        if not principal.can("cases:report"):
            raise Open311Error(403, "this api_key may not report problems: ask for a key with the reporter role")
        req = open311.parse_request(form, settings(rt).taxonomy)
        try:
            new = _new_case(req, rt)
        except ValueError as exc:
            raise Open311Error(400, str(exc)) from None
        tenant = _jurisdiction(ctx, form, principal)
        out = service.report(rt, tenant, new, principal.name, Role.REPORTER, classify=service.ready_classifier)
        notice = "" if out.created else f"已并入正在办理的请求 {out.case.id} / linked to open request {out.case.id}"
        row = {
            "service_request_id": out.case.id,
            "token": out.follow_token,  # this report's own, also when it was linked to an earlier one
            "service_notice": notice,
            "account_id": req.account_id,
        }
        return "post_response", [row], 201 if out.created else 200

    return await _run(fmt, create)


@router.get("/requests", summary="Service requests (Open311), JSON", include_in_schema=False)
@router.get("/requests.{fmt}", summary="Service requests (Open311)", responses=documented(list[ServiceRequest]))
async def get_requests(request: Request, ctx: Citizen, fmt: str | None = None) -> Response:
    rt = ctx.rt
    q = request.query_params
    lang = _lang(request)

    def find() -> tuple[str, Any, int]:
        filters: Filters = {}
        if q.get("service_request_id"):
            filters["ids"] = [i.strip() for i in q["service_request_id"].split(",") if i.strip()]
        else:
            end = open311.parse_w3c(q["end_date"], "end_date") if q.get("end_date") else datetime.now(UTC)
            start = open311.parse_w3c(q["start_date"], "start_date") if q.get("start_date") else None
            start = start or end - timedelta(days=DEFAULT_DAYS)
            open311.check_range(start, end, DEFAULT_DAYS)
            filters["since_ms"], filters["until_ms"] = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
            if q.get("service_code"):
                filters["categories"] = [c.strip() for c in q["service_code"].split(",") if c.strip()]
            statuses = open311.status_filter(q.get("status"))
            if statuses is not None and len(statuses) == 1:
                closed = sorted(open311.CLOSED_STATES)
                filters["states"] = list(OPEN_STATES) if "open" in statuses else closed
        cases, _ = service.search(rt, _jurisdiction(ctx, q), MAX_REQUESTS, 0, **filters)
        return "service_requests", [_request_view(rt, c, lang) for c in cases], 200

    return await _run(fmt, find)


@router.get("/requests/{request_id}", summary="One service request (Open311), JSON", include_in_schema=False)
@router.get(
    "/requests/{request_id}.{fmt}",
    summary="One service request (Open311)",
    responses=documented(list[ServiceRequest]),
)
async def get_request(request: Request, ctx: Citizen, request_id: str, fmt: str | None = None) -> Response:
    rt = ctx.rt
    lang = _lang(request)

    def one() -> tuple[str, Any, int]:
        cases, _ = service.search(rt, _jurisdiction(ctx, request.query_params), 1, 0, ids=[request_id])
        if not cases:
            raise Open311Error(404, f"there is no service request {request_id!r}")
        return "service_requests", [_request_view(rt, cases[0], lang)], 200

    return await _run(fmt, one)


@router.get("/tokens/{token}", summary="The request id of a token (Open311), JSON", include_in_schema=False)
@router.get(
    "/tokens/{token}.{fmt}", summary="The request id of a token (Open311)", responses=documented(list[RequestToken])
)
async def get_token(request: Request, ctx: Citizen, token: str, fmt: str | None = None) -> Response:
    rt = ctx.rt

    def lookup() -> tuple[str, Any, int]:
        _tenant_of, case = service.by_follow_token(rt, token)
        return "tokens", [{"service_request_id": case.id, "token": token}], 200

    return await _run(fmt, lookup)
