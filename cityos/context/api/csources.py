"""NGSI-LD context source routes under /ngsi-ld/v1/csourceRegistrations and /csourceSubscriptions: thin
adapters over cityos.context.csources.

A registration keeps the @context of the request that created it; the names of a PATCH are read in that
same context, and a read in another @context gets each name compacted in the reader's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cityos.context.api.ld import LdRead, LdRequest, LdWrite, ld_response, no_content
from cityos.context.api.schemas import LD_PROBLEMS, answers, created, ld_body
from cityos.context.csources import matching, model, notify, parsing, render, storage
from cityos.context.csources import subscriptions as csubs
from cityos.context.entity import check_entity_id
from cityos.context.errors import BadRequestData
from cityos.context.geo import parse_geoquery
from cityos.context.jsonld import CORE_CONTEXT_URL
from cityos.context.query import check_paging, parse_int, wants_count
from cityos.context.subscriptions.matching import term_map_for
from cityos.context.temporal.params import parse_time_range
from cityos.core.iris import holds_nul, uri_segment
from cityos.errors import problem_responses

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD context sources"], responses=LD_PROBLEMS)
REGISTRATIONS = "/csourceRegistrations"


def _body(ld: LdRequest, what: str) -> dict[str, Any]:
    if not isinstance(ld.body, dict):
        raise BadRequestData(f"the body must be a JSON object describing a {what}")
    if holds_nul(ld.body):  # PostgreSQL stores no text that holds it
        raise BadRequestData(f"the {what} holds the character U+0000 in a value or name: leave it out")
    return parsing.members(ld.body)


def _made_in(ld: LdRequest, context: Any) -> Any:
    """The term map a stored document's names are written in, when the reader's @context is another one."""
    asked = None if ld.context == CORE_CONTEXT_URL else ld.context
    return None if asked == context else term_map_for(ld.rt, context)


def _sys_attrs(options: str | None) -> bool:
    return "sysAttrs" in {o.strip() for o in (options or "").split(",")}


def page_links(request: Request, ld: LdRequest, limit: int, offset: int, total: int) -> str | None:
    """The Link header values of the pages before and after this one (NGSI-LD 5.5.9: rel="prev"/"next")."""
    if limit <= 0:
        return None

    def page(at: int, rel: str) -> str:
        rest = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
        query = urlencode([*rest, ("limit", str(limit)), ("offset", str(at))])
        return f'<{request.url.path}?{query}>;rel="{rel}";type="{ld.accept}"'

    links = []
    if offset > 0:
        links.append(page(max(offset - limit, 0), "prev"))
    if offset + limit < total:
        links.append(page(offset + limit, "next"))
    return ", ".join(links) or None


def paged(ld: LdRequest, request: Request, items: list[Any], lim: int, off: int, total: int, count: bool) -> Response:
    headers = {"NGSILD-Results-Count": str(total)} if count else {}
    links = page_links(request, ld, lim, off, total)
    if links:
        headers["Link"] = links  # ld_response puts them beside the @context's
    return ld_response(ld, items, headers=headers)


@router.post(
    REGISTRATIONS,
    status_code=201,
    summary="Register a context source",
    response_class=Response,
    responses={**created("context source registration"), **problem_responses(409)},
    openapi_extra=ld_body("NgsiLdCSourceRegistration", description="the registration"),
)
def create_registration(ld: LdWrite) -> Response:
    body = _body(ld, "context source registration")
    body.setdefault("id", model.new_id())
    context = None if ld.context == CORE_CONTEXT_URL else ld.context
    reg = parsing.parse_registration(body, ld.tm, context=context, future_only=True)
    stored = storage.insert_registration(ld.rt, ld.tenant, reg)
    notify.registration_changed(ld.rt, ld.tenant, None, stored)
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/csourceRegistrations/{uri_segment(reg.id)}"})


@router.get(REGISTRATIONS, summary="Query context source registrations", responses=answers())
def query_registrations(
    request: Request,
    ld: LdRead,
    id: str | None = None,
    type: str | None = None,
    idPattern: str | None = None,
    attrs: str | None = None,
    q: str | None = None,
    csf: str | None = None,
    scopeQ: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | None = None,
    geoproperty: str | None = None,
    timeproperty: str | None = None,
    timerel: str | None = None,
    timeAt: str | None = None,
    endTimeAt: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
    count: bool = False,
    options: str | None = None,
) -> Response:
    lim, off = check_paging(ld.rt, parse_int(limit, "limit"), parse_int(offset, "offset"))
    if all(v is None for v in (id, type, idPattern, attrs, q, csf, scopeQ, georel, timerel)):
        raise BadRequestData(  # NGSI-LD 5.10.2: a discovery names what it looks for (ETSI 037_02_01)
            "a query of registrations needs type, attrs, id, idPattern, q, csf, scopeQ, a geo-query or a temporal query"
        )
    discovery = matching.parse_discovery(
        ld.tm,
        ids=id,
        type_=type,
        id_pattern=idPattern,
        attrs=attrs,
        q=q,
        csf=csf,
        scope_q=scopeQ,
        geo=parse_geoquery(georel, geometry, coordinates, geoproperty),
        time=parse_time_range(timerel, timeAt, endTimeAt, timeproperty),
    )
    found = [
        s
        for s in storage.list_registrations(ld.rt, ld.tenant)
        if discovery.selects(storage.registration_of(ld.rt, s), term_map_for(ld.rt, s.context).expand)
    ]
    sys_attrs = _sys_attrs(options)
    items = [render.rendered(s, _made_in(ld, s.context), ld.tm, sys_attrs=sys_attrs) for s in found[off : off + lim]]
    return paged(ld, request, items, lim, off, len(found), wants_count(count, options))


@router.get(REGISTRATIONS + "/{reg_id}", summary="Retrieve a context source registration", responses=answers())
def get_registration(reg_id: str, ld: LdRead, options: str | None = None) -> Response:
    check_entity_id(reg_id)
    stored = storage.get_registration(ld.rt, ld.tenant, reg_id)
    doc = render.rendered(stored, _made_in(ld, stored.context), ld.tm, sys_attrs=_sys_attrs(options))
    return ld_response(ld, doc)


@router.patch(
    REGISTRATIONS + "/{reg_id}",
    status_code=204,
    summary="Update a context source registration",
    openapi_extra=ld_body("NgsiLdCSourceRegistrationFragment", merge_patch=True, description="the members to change"),
)
def update_registration(reg_id: str, ld: LdWrite) -> Response:
    check_entity_id(reg_id)
    patch = _body(ld, "context source registration fragment")
    if patch.get("id", reg_id) != reg_id:
        raise BadRequestData(f"the body's id {patch.get('id')!r} differs from the URL's id {reg_id!r}")
    stored = storage.get_registration(ld.rt, ld.tenant, reg_id)
    merged = {k: v for k, v in {**stored.body, **patch}.items() if v is not None}  # null removes a member
    tm = term_map_for(ld.rt, stored.context)
    reg = parsing.parse_registration(merged, tm, context=stored.context, future_only="expiresAt" in patch)
    changed = storage.replace_registration(ld.rt, ld.tenant, reg)
    notify.registration_changed(ld.rt, ld.tenant, stored, changed)
    return no_content()


@router.delete(REGISTRATIONS + "/{reg_id}", status_code=204, summary="Delete a context source registration")
def delete_registration(reg_id: str, ld: LdWrite) -> Response:
    check_entity_id(reg_id)
    stored = storage.delete_registration(ld.rt, ld.tenant, reg_id)
    notify.registration_changed(ld.rt, ld.tenant, stored, None)
    return no_content()


SUBSCRIPTIONS = "/csourceSubscriptions"


def _sub_out(s: csubs.StoredCSourceSubscription, ld: LdRequest) -> dict[str, Any]:
    doc = dict(s.body)
    doc["status"] = s.current_status()
    notification = {k: v for k, v in (doc.get("notification") or {}).items() if k not in _SERVER_KEPT}
    if s.times_sent:
        notification["timesSent"] = s.times_sent
        notification["status"] = (
            "ok" if s.last_success is not None and s.last_success == s.last_notification else "failed"
        )
    if s.times_failed:
        notification["timesFailed"] = s.times_failed
    for key, value in (("lastNotification", s.last_notification), ("lastSuccess", s.last_success),
                       ("lastFailure", s.last_failure)):  # fmt: skip
        if value is not None:
            notification[key] = value
    doc["notification"] = notification
    return doc


_SERVER_KEPT = ("timesSent", "timesFailed", "lastNotification", "lastSuccess", "lastFailure", "status")


@router.post(
    SUBSCRIPTIONS,
    status_code=201,
    summary="Subscribe to context source registrations",
    response_class=Response,
    responses={**created("csourceSubscription"), **problem_responses(409)},
    openapi_extra=ld_body("NgsiLdSubscription", description="the subscription"),
)
def create_csource_subscription(ld: LdWrite) -> Response:
    body = _body(ld, "Subscription")
    body.setdefault("id", model.new_subscription_id())
    context = None if ld.context == CORE_CONTEXT_URL else ld.context
    sub = csubs.parse(body, ld.tm, context=context, future_only=True)
    stored = csubs.insert_subscription(ld.rt, ld.tenant, sub)
    notify.initial(ld.rt, ld.tenant, stored, storage.list_registrations(ld.rt, ld.tenant))
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/csourceSubscriptions/{uri_segment(sub.id)}"})


@router.get(SUBSCRIPTIONS, summary="List csourceSubscriptions", responses=answers())
def list_csource_subscriptions(
    request: Request, ld: LdRead, limit: str | None = None, offset: str | None = None, count: bool = False
) -> Response:
    lim, off = check_paging(ld.rt, parse_int(limit, "limit"), parse_int(offset, "offset"))
    with notify.STATUS_LOCK:
        rows, total = csubs.list_subscriptions(ld.rt, ld.tenant, limit=lim, offset=off)
    return paged(ld, request, [_sub_out(r, ld) for r in rows], lim, off, total, count)


@router.get(SUBSCRIPTIONS + "/{sub_id}", summary="Retrieve a csourceSubscription", responses=answers())
def get_csource_subscription(sub_id: str, ld: LdRead) -> Response:
    check_entity_id(sub_id)
    with notify.STATUS_LOCK:
        stored = csubs.get_subscription(ld.rt, ld.tenant, sub_id)
    return ld_response(ld, _sub_out(stored, ld))


@router.patch(
    SUBSCRIPTIONS + "/{sub_id}",
    status_code=204,
    summary="Update a csourceSubscription",
    openapi_extra=ld_body("NgsiLdSubscriptionFragment", merge_patch=True, description="the members to change"),
)
def update_csource_subscription(sub_id: str, ld: LdWrite) -> Response:
    check_entity_id(sub_id)
    patch = _body(ld, "Subscription fragment")
    if patch.get("id", sub_id) != sub_id:
        raise BadRequestData(f"the body's id {patch.get('id')!r} differs from the URL's id {sub_id!r}")
    stored = csubs.get_subscription(ld.rt, ld.tenant, sub_id)
    merged = {k: v for k, v in {**stored.body, **patch}.items() if v is not None}
    tm = term_map_for(ld.rt, stored.context)
    sub = csubs.parse(merged, tm, context=stored.context, future_only="expiresAt" in patch)
    changed = csubs.replace_subscription(ld.rt, ld.tenant, sub)
    # what it matches now, as on creation (NGSI-LD 5.11.3; ETSI 047_16)
    notify.initial(ld.rt, ld.tenant, changed, storage.list_registrations(ld.rt, ld.tenant))
    return no_content()


@router.delete(SUBSCRIPTIONS + "/{sub_id}", status_code=204, summary="Delete a csourceSubscription")
def delete_csource_subscription(sub_id: str, ld: LdWrite) -> Response:
    check_entity_id(sub_id)
    csubs.delete_subscription(ld.rt, ld.tenant, sub_id)
    return no_content()
