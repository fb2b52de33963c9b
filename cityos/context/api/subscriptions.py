"""NGSI-LD subscription routes under /ngsi-ld/v1/subscriptions: thin adapters over subscriptions.py.

A subscription keeps the @context of the request that created it; the names of a PATCH are read
in that same context.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cityos.context import contexts
from cityos.context.api.ld import LdRead, LdRequest, LdWrite, ld_response, no_content
from cityos.context.api.schemas import LD_PROBLEMS, answers, created, ld_body
from cityos.context.entity import check_entity_id
from cityos.context.errors import BadRequestData, InvalidRequest, NotYourSubscription
from cityos.context.jsonld import CORE_CONTEXT_URL
from cityos.context.query import check_paging, parse_int
from cityos.context.subscriptions import matching, model, parsing, storage
from cityos.context.subscriptions.notify import Notifier
from cityos.core.iris import holds_nul, uri_segment
from cityos.errors import problem_responses

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD subscriptions"], responses=LD_PROBLEMS)


_TYPE_NAME = re.compile(r"[^,;|()\s]+")  # a name in an entity type expression (NGSI-LD 4.17)
_LIVE = ("times_sent", "last_notification", "last_success", "last_failure")


def _live(request: Request, s: model.StoredSubscription) -> model.StoredSubscription:
    """``s`` with the delivery status this process's notifier holds and has not written yet."""
    notifier = request.app.state.runners.find(Notifier)
    unwritten = notifier.delivery.unwritten_status(s.tenant, s.id) if notifier is not None else {}
    # the counts and times only: a status (failed) is shown once written, so that a client that saw it and
    # resumed the subscription is not overwritten by the flush of what it saw
    shown = {k: v for k, v in unwritten.items() if k in _LIVE}
    return replace(s, **shown) if shown else s


def _in_request_terms(ld: LdRequest, s: model.StoredSubscription, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the names it holds (types, attributes, the geoproperty) in the @context of the request that
    reads it, when that is not the one the subscription was made in: each name expanded in the subscription's
    context and compacted in the reader's (NGSI-LD 5.8.3; ETSI 029_05_02). ``q`` stays as written."""
    asked = None if ld.context == CORE_CONTEXT_URL else ld.context
    if asked == s.context:
        return doc
    made_in = matching.term_map_for(ld.rt, s.context)

    def name(term: str) -> str:
        return ld.tm.compact(made_in.expand(term))

    def names(value: Any, keep: tuple[str, ...] = ()) -> Any:
        if not isinstance(value, list):
            return value
        return [name(v) if isinstance(v, str) and v not in keep else v for v in value]

    entities = doc.get("entities")
    if isinstance(entities, list):  # a type expression's names one by one, its operators kept
        doc["entities"] = [
            {**e, "type": _TYPE_NAME.sub(lambda m: name(m.group()), e["type"])}
            if isinstance(e, dict) and isinstance(e.get("type"), str)
            else e
            for e in entities
        ]
    if "watchedAttributes" in doc:
        doc["watchedAttributes"] = names(doc["watchedAttributes"])
    geo = doc.get("geoQ")
    if isinstance(geo, dict) and isinstance(geo.get("geoproperty"), str):
        doc["geoQ"] = {**geo, "geoproperty": name(geo["geoproperty"])}
    notification = doc.get("notification")
    if isinstance(notification, dict):
        doc["notification"] = notification = dict(notification)
        for key in ("attributes", "pick", "omit"):
            if key in notification:
                notification[key] = names(notification[key], keep=("id", "type"))
    return doc


def _out(s: model.StoredSubscription, ld: LdRequest) -> dict[str, Any]:
    doc = dict(s.body)  # isActive only as the client gave it: the status says paused (ETSI 028_01, 030_03)
    doc.setdefault("notificationTrigger", list(model.DEFAULT_TRIGGERS))  # what it is notified of, when not given
    doc["status"] = s.current_status()
    notification = dict(doc.get("notification") or {})
    notification.pop("timesSent", None)  # the server's to tell: a client's own count is not kept as such
    if s.times_sent:  # none before the first notification (NGSI-LD 5.2.14: 0..1; ETSI 028_06)
        notification["timesSent"] = s.times_sent
    for key, value in (
        ("lastNotification", s.last_notification),
        ("lastSuccess", s.last_success),
        ("lastFailure", s.last_failure),
    ):
        if value is not None:
            notification[key] = value
    if s.times_sent:
        notification["status"] = "failed" if s.failures_in_a_row else "ok"
    doc["notification"] = notification
    return _in_request_terms(ld, s, doc)


def _check_maker(ld: LdRequest, stored: model.StoredSubscription) -> None:
    """A department's token changes and deletes only its department's subscriptions (which are notified what
    that department may read: another's endpoint changed would receive it)."""
    department = ld.ctx.department
    if department is None or stored.department == department:
        return
    maker = f"department {stored.department}" if stored.department else "the city"
    raise NotYourSubscription(
        f"subscription {stored.id} was made by {maker}: a department's token changes only its own subscriptions",
        instance=stored.id,
    )


def _page_links(request: Request, ld: LdRequest, limit: int, offset: int, total: int) -> str | None:
    """The Link header values of the pages before and after this one (NGSI-LD 5.5.9: rel="prev" and
    rel="next", relative to this server, in the media type of the answer; ETSI 031_02)."""
    if limit <= 0:
        return None

    def page(at: int, rel: str) -> str:
        rest = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
        query = urlencode([("limit", str(limit)), ("offset", str(at)), *rest])
        return f'<{request.url.path}?{query}>;rel="{rel}";type="{ld.accept}"'

    links = []
    if offset > 0:
        links.append(page(max(offset - limit, 0), "prev"))
    if offset + limit < total:
        links.append(page(offset + limit, "next"))
    return ", ".join(links) or None


def _check_jsonld_context(ld: LdRequest, sub: model.Subscription) -> None:
    """A jsonldContext must be usable when notifications name it: fetched (or found stored) now, so that an
    unreachable one is LdContextNotAvailable at once (NGSI-LD 5.8.1.4; ETSI 028_07_02) rather than a broken
    notification later."""
    if sub.jsonld_context is None:
        return
    try:
        contexts.resolver(ld.rt).resolve(sub.jsonld_context)
    except InvalidRequest as exc:  # fetched, but not a @context (NGSI-LD 5.5.6: BadRequestData)
        raise BadRequestData(f"'jsonldContext': {exc.detail}") from None


def _body(ld: LdRequest) -> dict[str, Any]:
    if not isinstance(ld.body, dict):
        raise BadRequestData("the body must be a JSON object describing a Subscription")
    if holds_nul(ld.body):  # a description, a header value …: PostgreSQL stores no text that holds it
        raise BadRequestData("the subscription holds the character U+0000 in a value or name: leave it out")
    return {k: v for k, v in ld.body.items() if k != "@context"}


@router.post(
    "/subscriptions",
    status_code=201,
    summary="Create a subscription",
    response_class=Response,
    responses={**created("subscription"), **problem_responses(409)},  # 409: one with this id exists already
    openapi_extra=ld_body("NgsiLdSubscription", description="the subscription"),
)
def create_subscription(request: Request, ld: LdWrite) -> Response:
    body = _body(ld)
    body.setdefault("id", model.new_id())
    context = None if ld.context == CORE_CONTEXT_URL else ld.context
    sub = parsing.parse_subscription(body, ld.tm, context=context, future_only=True)
    _check_jsonld_context(ld, sub)
    if sub.jsonld_context is None and not isinstance(sub.notify_context(), str | None):
        # a @context that is not one URL is kept as an ImplicitlyCreated one, named by a URL notifications can
        # give in their Link header (NGSI-LD 5.13.1; ETSI 050_03_01)
        cid = contexts.add_implicit(ld.rt, context, ld.tenant)
        sub.jsonld_context = sub.body["jsonldContext"] = str(request.base_url).rstrip("/") + contexts.HOSTED_PATH + cid
    created = Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/subscriptions/{uri_segment(sub.id)}"})
    # a department's subscription is notified what the department may read, in the scenario it names now
    storage.insert_subscription(ld.rt, ld.tenant, sub, ld.caller("POST /ngsi-ld/v1/subscriptions"))
    return created


@router.get("/subscriptions", summary="List subscriptions", responses=answers())
def get_subscriptions(
    request: Request, ld: LdRead, limit: str | None = None, offset: str | None = None, count: bool = False
) -> Response:
    lim, off = check_paging(ld.rt, parse_int(limit, "limit"), parse_int(offset, "offset"))
    rows, total = storage.list_subscriptions(ld.rt, ld.tenant, limit=lim, offset=off)
    headers = {"NGSILD-Results-Count": str(total)} if count else {}
    response = ld_response(ld, [_out(_live(request, r), ld) for r in rows], headers=headers)
    links = _page_links(request, ld, lim, off, total)
    if links:  # beside the @context's Link of a JSON answer
        context_link = response.headers.get("Link")
        response.headers["Link"] = f"{context_link}, {links}" if context_link else links
    return response


@router.get("/subscriptions/{sub_id}", summary="Retrieve a subscription", responses=answers())
def get_subscription(sub_id: str, request: Request, ld: LdRead) -> Response:
    check_entity_id(sub_id)
    return ld_response(ld, _out(_live(request, storage.get_subscription(ld.rt, ld.tenant, sub_id)), ld))


@router.patch(
    "/subscriptions/{sub_id}",
    status_code=204,
    summary="Update a subscription",
    openapi_extra=ld_body("NgsiLdSubscriptionFragment", merge_patch=True, description="the members to change"),
)
def update_subscription(sub_id: str, ld: LdWrite) -> Response:
    check_entity_id(sub_id)
    patch = _body(ld)
    if patch.get("id", sub_id) != sub_id:
        raise BadRequestData(f"the body's id {patch.get('id')!r} differs from the URL's id {sub_id!r}")
    stored = storage.get_subscription(ld.rt, ld.tenant, sub_id)
    _check_maker(ld, stored)
    merged = {k: v for k, v in {**stored.body, **patch}.items() if v is not None}  # null removes a member
    tm = matching.term_map_for(ld.rt, stored.context)
    sub = parsing.parse_subscription(merged, tm, context=stored.context, future_only="expiresAt" in patch)
    if "jsonldContext" in patch:
        _check_jsonld_context(ld, sub)
    storage.replace_subscription(ld.rt, ld.tenant, sub, resume=patch.get("isActive") is True)
    return no_content()


@router.delete("/subscriptions/{sub_id}", status_code=204, summary="Delete a subscription")
def delete_subscription(sub_id: str, ld: LdWrite) -> Response:
    check_entity_id(sub_id)
    _check_maker(ld, storage.get_subscription(ld.rt, ld.tenant, sub_id))
    storage.delete_subscription(ld.rt, ld.tenant, sub_id)
    return no_content()
