"""NGSI-LD over HTTP: media types, the JSON-LD context of a request, tenant, options, responses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote

import orjson
from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from cityos.auth import RequestContext, context_of, guarded
from cityos.context.contexts import resolver
from cityos.context.entity import TermMap
from cityos.context.errors import BadRequestData, InvalidRequest
from cityos.context.governance import ReadCaller
from cityos.context.join import Join, check_linked_projection, omitted_names
from cityos.context.jsonld import CORE_CONTEXT_URL, link_header, parse_link_header
from cityos.context.projection import Projection, check_pick_omit
from cityos.context.render import CONCISE, NORMALIZED, SIMPLIFIED, View
from cityos.context.service import Writer
from cityos.context.versions import amend_entities, preferred_version
from cityos.errors import NotAcceptable, UnsupportedMediaType
from cityos.runtime import Runtime

JSON = "application/json"
JSONLD = "application/ld+json"
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"

_FORMAT_OPTIONS = {"keyValues": SIMPLIFIED, "simplified": SIMPLIFIED, "concise": CONCISE, "normalized": NORMALIZED}


@dataclass
class LdRequest:
    """What every NGSI-LD request carries besides its own parameters: the request context (who asks, for
    which tenant), the term map, the media type wanted, and (for writes) the body."""

    ctx: RequestContext
    tm: TermMap
    context: Any  # the @context value to echo back
    accept: str
    body: Any = None
    scenario: str | None = None  # the application scenario a read names (Cityos-Scenario, 应用场景)
    purpose: str | None = None  # and why (Cityos-Purpose): both for the data resource system's rules
    content_type: str | None = None  # the media type of the body (writes)
    # Prefer: body=json (NGSI-LD v1.8, clause 6.3.6): a GeoJSON answer's @context in the Link header only
    context_in_link: bool = False
    # Prefer: ngsi-ld=<version> (clause 4.3.6.8): the earlier version the consumer reads, if cityos applies it
    version: str | None = None

    @property
    def rt(self) -> Runtime:
        return self.ctx.rt

    @property
    def tenant(self) -> str:
        return self.ctx.tenant

    @property
    def writer(self) -> Writer:
        """Whose writes these are: a department's token changes only its department's entities."""
        return Writer.acting_for(self.ctx.department)

    def caller(self, route: str) -> ReadCaller:
        """Who reads, for the read guard (cityos.context.governance): a department's token, or the city's."""
        return ReadCaller(self.ctx.principal.name, self.ctx.department, self.scenario, self.purpose, route)

    def require(self, action: str) -> None:
        """Forbidden unless the caller's role allows ``action`` in this request's tenant (a second
        permission some requests need beyond the route's, e.g. creating a tenant)."""
        self.ctx.require(action)


def _header_text(value: str | None) -> str | None:
    """A header's text, percent-decoded (a header carries Chinese as percent-encoded UTF-8)."""
    return unquote(value).strip() or None if value else None


def _media(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def _accept_ranges(accept_header: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their weights (RFC 9110, clause 12.5.1): a weight that is
    not a number from 0 to 1 is no weight at all, so the range keeps the default of 1."""
    ranges: list[tuple[str, float]] = []
    for part in accept_header.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        if "/" not in media:
            continue
        weight = 1.0
        for prm in params:
            name, _, value = prm.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 1.0
                if not 0.0 <= weight <= 1.0:
                    weight = 1.0
        ranges.append((media.lower(), weight))
    return ranges


def _weight(offer: str, ranges: list[tuple[str, float]]) -> float:
    """The weight the most specific range matching ``offer`` gives it (RFC 9110, clause 12.5.1): an exact
    type before ``type/*`` before ``*/*``; 0 when none matches."""
    main = offer.split("/")[0] + "/*"
    for candidate in (offer, main, "*/*"):
        for media, weight in ranges:
            if media == candidate:
                return weight
    return 0.0


def negotiate(accept_header: str | None, *, allow_geojson: bool = True) -> str:
    """Pick the response media type from Accept (NGSI-LD v1.8, clause 6.3.4): of the representations the
    operation offers (JSON, JSON-LD and, on entity reads, GeoJSON), the one of highest weight; between equal
    weights the first of that list, whatever order the header names them in."""
    if not accept_header:
        return JSON
    offered = [JSON, JSONLD] + ([GEOJSON] if allow_geojson else [])
    ranges = _accept_ranges(accept_header)
    best: tuple[float, str] | None = None
    for offer in offered:
        weight = _weight(offer, ranges)
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, offer)
    if best is None:
        raise NotAcceptable(f"cannot answer with {accept_header!r}: ask for {', '.join(offered)}")
    return best[1]


async def read_json(request: Request) -> tuple[Any, str]:
    """The JSON body and its media type (its size and depth were checked before: cityos.bodylimit)."""
    raw = await request.body()
    ctype = _media(request.headers.get("content-type"))
    if ctype not in (JSON, JSONLD, MERGE_PATCH):
        raise UnsupportedMediaType(
            f"Content-Type {ctype or '(none)'!r} is not supported: send application/json or application/ld+json"
        )
    if not raw:
        raise InvalidRequest("the request needs a JSON body")
    try:
        return orjson.loads(raw), ctype
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None


async def _ld_request(request: Request, permission: str, *, geojson: bool = False) -> LdRequest:
    """Caller, tenant, term map, accepted media type and (for writes) the JSON body of an NGSI-LD request,
    the caller's ``permission`` checked first. ``geojson``: the operation offers application/geo+json."""
    ctx = await context_of(request, permission, known_tenant=False)  # the hub checks, or creates it
    _refuse_unknown_params(request)
    rt = ctx.rt
    accept = negotiate(request.headers.get("accept"), allow_geojson=geojson)
    body: Any = None
    ctype: str | None = None
    link = parse_link_header(", ".join(request.headers.getlist("link")) or None)
    context: Any = link or CORE_CONTEXT_URL
    if request.method in ("POST", "PATCH", "PUT"):
        body, ctype = await read_json(request)
        context = _body_context(body, ctype, link) or context
    wanted = None if context == CORE_CONTEXT_URL else context
    # Resolving may fetch a remote @context (seconds): only a cached one is resolved on the event loop.
    contexts = resolver(rt)
    tm = contexts.cached(wanted)
    if tm is None:
        tm = await run_in_threadpool(contexts.resolve, wanted)
    scenario, purpose = (_header_text(request.headers.get(h)) for h in ("cityos-scenario", "cityos-purpose"))
    in_link = accept == GEOJSON and _prefers_json_body(request.headers.getlist("prefer"))
    version = preferred_version(request.headers.getlist("prefer"))
    return LdRequest(ctx, tm, context, accept, body, scenario, purpose, ctype, in_link, version)


def _prefers_json_body(prefer: list[str]) -> bool:
    """Whether the Prefer headers ask for ``body=json`` (RFC 7240 preferences, comma-separated)."""
    for header in prefer:
        for pref in header.split(","):
            name, _, value = pref.split(";")[0].partition("=")
            if name.strip().lower() == "body" and value.strip().strip('"').lower() == "json":
                return True
    return False


_PARAMS_OF: dict[int, frozenset[str]] = {}  # id(route) -> the query parameters it declares
# Query parameters NGSI-LD v1.8 defines (clauses 6.3 and 6.4) that an operation of cityos may not implement yet
# (orderBy, scopeQ, join on temporal reads ...): ignored where not declared, as before, so that a client of a
# later version keeps its answer; a name outside the standard is refused.
NGSILD_PARAMS = frozenset(
    [
        "id",
        "type",
        "idPattern",
        "attrs",
        "pick",
        "omit",
        "q",
        "csf",
        "georel",
        "geometry",
        "coordinates",
        "geoproperty",
        "geometryProperty",
        "lang",
        "scopeQ",
        "options",
        "format",
        "limit",
        "offset",
        "count",
        "local",
        "details",
        "kind",
        "datasetId",
        "deleteAll",
        "timerel",
        "timeAt",
        "endTimeAt",
        "timeproperty",
        "lastN",
        "aggrMethods",
        "aggrPeriodDuration",
        "join",
        "joinLevel",
        "containedBy",
        "entityMap",
        "expandValues",
        "orderBy",
        "orderFrom",
        "collation",
        "jsonKeys",
        "doNotCompact",
        "observedAt",
    ]
)


ONLY_DECLARED = "_ngsild_only_declared_params"


def only_declared_params(endpoint: Any) -> Any:
    """Mark a route whose parameters NGSI-LD lists in full (the discovery operations, v1.9 clause 6.3.20 and
    5.7.5 to 5.7.10): there any other parameter, even one NGSI-LD defines for another operation, is refused."""
    setattr(endpoint, ONLY_DECLARED, True)
    return endpoint


def _declared_params(dependant: Dependant) -> set[str]:
    names = {f.alias for f in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_params(sub)
    return names


def _refuse_unknown_params(request: Request) -> None:
    """InvalidRequest for a query parameter neither the operation nor NGSI-LD defines (v1.7, clause 6.3.20):
    a misspelt ``tpye=`` must not quietly widen a query to every entity."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _PARAMS_OF.get(id(route))
    if known is None:
        known = _PARAMS_OF[id(route)] = frozenset(_declared_params(route.dependant))
    leeway = frozenset() if getattr(route.endpoint, ONLY_DECLARED, False) else NGSILD_PARAMS
    unknown = sorted(set(request.query_params) - known - leeway)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise InvalidRequest(f"unknown query parameter {', '.join(unknown)}: this operation takes {allowed}")


def ld_request(permission: str, *, geojson: bool = False) -> Any:
    """The dependency of an NGSI-LD route that needs ``permission``: it yields the :class:`LdRequest`.
    ``geojson``: the route answers application/geo+json too (only Retrieve and Query Entities do, NGSI-LD
    v1.8 clause 6.3.15: elsewhere an Accept naming only it is a 406).

    One dependency on purpose: each FastAPI dependency costs time on every request.
    """

    async def make(request: Request) -> LdRequest:
        return await _ld_request(request, permission, geojson=geojson)

    return guarded(permission, make)


def _body_context(body: Any, ctype: str, link: str | None) -> Any:
    """The @context carried in a JSON-LD body (the spec forbids it in a plain JSON body)."""
    items = body if isinstance(body, list) else [body]
    contexts = [i.get("@context") for i in items if isinstance(i, dict) and "@context" in i]
    if ctype == JSONLD:
        if link:
            raise BadRequestData(
                "with Content-Type application/ld+json put the @context in the body, not in a Link header"
            )
        if isinstance(body, dict) and "@context" not in body:
            raise BadRequestData("a body sent as application/ld+json must carry an @context member")
        # in a batch each entity lacking its @context is refused alone (cityos.context.api.batch: item_context)
        return contexts[0] if contexts else None
    if isinstance(body, list):  # likewise each entity of a batch carrying one as application/json
        return None
    if contexts:
        raise BadRequestData(
            "a body sent as application/json must not carry @context: send it as application/"
            "ld+json, or give the context in a Link header"
        )
    return None


def item_context_error(item: Any, ctype: str | None) -> BadRequestData | None:
    """What is wrong with the @context of one entity of a batch, given the body's media type (NGSI-LD v1.8,
    clause 6.3.5): one entity wrong fails alone (a 207), not the batch (ETSI 003_06_01, 003_08_01)."""
    if not isinstance(item, dict):
        return None
    if ctype == JSONLD and "@context" not in item:
        return BadRequestData("every entity sent as application/ld+json must carry an @context member")
    if ctype != JSONLD and "@context" in item:
        return BadRequestData(
            "an entity sent as application/json must not carry @context: send it as application/ld+json, "
            "or give the context in a Link header"
        )
    return None


LdRead = Annotated[LdRequest, ld_request("entities:read")]
LdReadGeo = Annotated[LdRequest, ld_request("entities:read", geojson=True)]  # entity reads: GeoJSON too
LdWrite = Annotated[LdRequest, ld_request("entities:write")]
LdDelete = Annotated[LdRequest, ld_request("entities:delete")]


def parse_view(
    options: str | None,
    fmt: str | None,
    pick: str | None,
    omit: str | None,
    lang: str | None,
    tm: TermMap,
    attrs: list[str] | None = None,
    linking: Join | None = None,
) -> View:
    """The representation asked for by ``options``/``format``, with ``pick``/``omit``/``attrs`` expanded;
    ``linking``: the linked entity retrieval the read asks for (None: none, so pick/omit may not reach into
    linked entities)."""
    chosen = NORMALIZED
    sys_attrs = False
    for opt in [o.strip() for o in (options or "").split(",") if o.strip()]:
        if opt == "sysAttrs":
            sys_attrs = True
        elif opt in _FORMAT_OPTIONS:
            chosen = _FORMAT_OPTIONS[opt]
        elif opt in ("noOverwrite", "replace", "update", "append", "count"):
            continue
        else:
            raise InvalidRequest(f"options={opt!r} is unknown: use keyValues, concise, normalized or sysAttrs")
    if fmt:
        if fmt not in _FORMAT_OPTIONS:
            raise InvalidRequest(f"format={fmt!r} is unknown: use normalized, concise, simplified or keyValues")
        chosen = _FORMAT_OPTIONS[fmt]
    picked, omitted = check_pick_omit(pick, omit, attrs)
    check_linked_projection(picked, omitted, linking)

    def names(projection: Projection | None) -> set[str]:
        return {n if n in ("id", "type") else tm.expand(n) for n in (projection.names() if projection else ())}

    chosen_members: frozenset[str] | None = None
    if picked:
        chosen_members = frozenset(names(picked))
    elif attrs:
        chosen_members = frozenset({"id", "type", *(tm.expand(a) for a in attrs)})
    return View(chosen, sys_attrs, chosen_members, frozenset(omitted_names(omitted, tm)), lang, picked, omitted)


def ld_response(
    ld: LdRequest,
    content: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    entity_fmt: str | None = None,
) -> Response:
    """A JSON or JSON-LD response: the context goes in a Link header or in the body. ``entity_fmt``: the
    content is entity data in that representation, which a preferred earlier version amends (then 203)."""
    hdrs = dict(headers or {})
    if ld.version is not None:
        hdrs["Preference-Applied"] = f"ngsi-ld={ld.version}"
        if entity_fmt is not None:
            content, amended = amend_entities(content, ld.version, simplified=entity_fmt == SIMPLIFIED)
            if amended and status == 200:
                status = 203  # Non-Authoritative Information: the payload is not the one stored (clause 4.3.6.8)
    media = ld.accept
    paging = hdrs.pop("Link", None)  # a page's prev/next links go beside the @context's
    if media == JSONLD:
        if isinstance(content, dict):
            content = {"@context": ld.context, **content}
        elif isinstance(content, list):
            content = [{"@context": ld.context, **c} if isinstance(c, dict) else c for c in content]
    elif media == GEOJSON:
        # the @context in the body as JSON-LD has it, unless Prefer: body=json (NGSI-LD v1.8, clause 6.3.6)
        if ld.context_in_link:
            hdrs["Link"] = link_header(ld.context if isinstance(ld.context, str) else CORE_CONTEXT_URL)
        elif isinstance(content, dict):
            content = {**content, "@context": ld.context}
    else:
        media = JSON
        hdrs["Link"] = link_header(ld.context if isinstance(ld.context, str) else CORE_CONTEXT_URL)
    if paging:
        hdrs["Link"] = f"{hdrs['Link']}, {paging}" if "Link" in hdrs else paging
    return Response(orjson.dumps(content), status_code=status, media_type=media, headers=hdrs)


def no_content() -> Response:
    return Response(status_code=204)
