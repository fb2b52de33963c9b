"""NGSI-LD API routes under /ngsi-ld/v1: thin adapters over the context service."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from cityos.context import service as svc
from cityos.context.api.ld import (
    GEOJSON,
    JSONLD,
    LdDelete,
    LdReadGeo,
    LdRequest,
    LdWrite,
    ld_response,
    no_content,
    parse_view,
)
from cityos.context.api.schemas import LD_PROBLEMS, UPDATE_RESULT, answers, created, ld_body
from cityos.context.csources import forwarding
from cityos.context.entity import (
    DEFAULT_DATASET,
    ENTITY_MEMBERS,
    NULL_URI,
    VALUE_MEMBER,
    check_entity_id,
    check_name,
    is_null,
    parse_attribute,
    parse_entity,
    parse_instance,
    refuse_inner_null,
)
from cityos.context.errors import BadRequestData, InvalidRequest, ResourceNotFound, TooComplexQuery
from cityos.context.governance import govern_rows, missed, unreadable_types
from cityos.context.join import joined, parse_join
from cityos.context.jsonld import core_term_map
from cityos.context.qeval import type_matches
from cityos.context.qlang import parse_q, parse_type_expr, q_attributes
from cityos.context.query import (
    EntityQuery,
    attribute_iri,
    count_headers,
    filters_of,
    keep_datasets,
    parse_dataset_ids,
    query_entities,
    query_from_params,
    split_list,
)
from cityos.context.render import View, geojson_feature, render_entity
from cityos.context.store import EntityRow
from cityos.core.iris import uri_segment
from cityos.core.timefmt import now_iso
from cityos.errors import problem_responses

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD entities"], responses=LD_PROBLEMS)
VALUE_MEMBERS = frozenset(VALUE_MEMBER.values())
CONFLICT = problem_responses(409)  # an entity with this id exists already
MULTI_STATUS = answers(207, UPDATE_RESULT)  # some attributes were not changed


def _render(row: EntityRow, ld: LdRequest, view: View) -> dict[str, Any]:
    return render_entity(
        row.id, row.types, row.scope, row.attrs, ld.tm, view, row.created_at, row.modified_at, row.expires_at
    )


def _geometry_name(geometry_property: str | None) -> str:
    """The GeoProperty a GeoJSON answer takes its geometry from: ``geometryProperty`` (NGSI-LD v1.8, clause
    6.3.15; ``geoproperty`` names the one a geo-query tests), else ``location``."""
    return geometry_property or "location"


def _check_geometry_property(ld: LdRequest, geometry_property: str | None) -> None:
    """geometryProperty shapes a GeoJSON answer only: with another Accept it is BadRequestData (NGSI-LD v1.8,
    clauses 5.7.1.4 and 5.7.2.4)."""
    if geometry_property is not None and ld.accept != GEOJSON:
        raise BadRequestData(
            "geometryProperty goes with Accept: application/geo+json only: leave it out or ask for GeoJSON"
        )


def _check_type_selector(ld: LdRequest, entity_id: str, type_selector: str | None) -> None:
    """The ``type`` of an operation on one entity narrows its target (NGSI-LD v1.8, clause 4.17): an entity
    whose types do not satisfy the expression is not found, and nothing is changed."""
    if type_selector is None:
        return
    expr = parse_type_expr(type_selector)
    row = svc.get_entity(ld.rt, ld.tenant, entity_id)
    if not type_matches(expr, frozenset(row.types), ld.tm.expand):
        raise ResourceNotFound(f"entity {entity_id} is not of type {type_selector}", instance=entity_id)


def _entities_response(
    docs: list[dict[str, Any]], ld: LdRequest, view: View, geometry_property: str | None, headers: dict[str, str]
) -> Response:
    # an entity that pick/omit leaves nothing of is not shown (NGSI-LD v1.8, clause 4.21)
    docs = [d for d in docs if d]
    if ld.accept == GEOJSON:
        name = _geometry_name(geometry_property)
        features = [geojson_feature(d, name, view.fmt) for d in docs]
        collection = {"type": "FeatureCollection", "features": features}
        return ld_response(ld, collection, headers=headers, entity_fmt=view.fmt)
    return ld_response(ld, docs, headers=headers, entity_fmt=view.fmt)


def _multi_status(outcome: svc.Outcome, ld: LdRequest) -> Response:
    change = outcome.change
    if change is None or not change.not_updated:
        return no_content()
    refused = {a for a, _ in change.not_updated}
    # names compacted with the @context the answer names: a JSON answer's Link header carries one URL, the
    # core context when the request's was a list or an object in the body (ETSI 010_04_01)
    tm = ld.tm if ld.accept == JSONLD or isinstance(ld.context, str) else core_term_map()
    updated = sorted(tm.compact(a) for a in change.changed - refused)
    not_updated = [{"attributeName": tm.compact(a), "reason": r} for a, r in change.not_updated]
    return ld_response(ld, {"updated": updated, "notUpdated": not_updated}, status=207)


# --- entities ---------------------------------------------------------------------------------------


@router.post(
    "/entities",
    status_code=201,
    summary="Create an entity",
    response_class=Response,
    responses={**created("entity"), **CONFLICT},
    openapi_extra=ld_body("NgsiLdEntity", description="the entity"),
)
async def create_entity(ld: LdWrite) -> Response:
    rt = ld.rt
    if ld.tenant != rt.settings.default_tenant:
        ld.require("tenants:create")
    if not isinstance(ld.body, dict):  # an array or a scalar is not an entity at all: malformed, not bad data
        raise InvalidRequest("the body must be one entity, a JSON object with at least 'id' and 'type'")
    parsed = parse_entity(ld.body, ld.tm, now=now_iso())
    created = Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/entities/{uri_segment(parsed.id or '')}"})
    await svc.one_async(rt, ld.tenant, parsed.id or "", svc.m_create(parsed), creates=True, writer=ld.writer)
    return created


def page_links(request: Request, offset: int, limit: int, returned: int, total: int | None) -> str | None:
    """The ``prev`` and ``next`` links of a page of a query (NGSI-LD v1.8, clause 4.12): the same query with
    the offset of the page before and after, its parameters in name order; None on a single page."""
    if not limit:
        return None
    more = offset + limit < total if total is not None else returned == limit
    links = []
    params = sorted((k, v) for k, v in request.query_params.multi_items() if k != "offset")
    for rel, at in (("prev", max(0, offset - limit) if offset else None), ("next", offset + limit if more else None)):
        if at is None:
            continue
        query = "&".join(f"{k}={quote(v, safe=LINK_SAFE)}" for k, v in sorted([*params, ("offset", str(at))]))
        links.append(f'<{request.url.path}?{query}>; rel="{rel}"; type="application/json"')
    return ", ".join(links) or None


LINK_SAFE = ":/.*,;=!$'()+@~-_|"  # left as they are in a page link's query values (as a client writes them)


@router.get("/entities", summary="Query entities", responses=answers(geojson=True))
def get_entities(
    request: Request,
    ld: LdReadGeo,
    id: str | None = None,
    idPattern: str | None = None,
    type: str | None = None,
    attrs: str | None = None,
    q: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | None = None,
    geoproperty: str | None = None,
    geometryProperty: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
    count: bool = False,
    options: str | None = None,
    format: str | None = None,
    lang: str | None = None,
    local: bool | None = None,
    join: str | None = None,
    joinLevel: str | None = None,
    orderBy: str | None = None,
    datasetId: str | None = None,
    scopeQ: str | None = None,
    csf: str | None = None,
    orderFrom: str | None = None,
    collation: str | None = None,
) -> Response:
    attr_list = split_list(attrs)
    linking = parse_join(join, joinLevel)
    dataset_ids = parse_dataset_ids(datasetId)
    query = query_from_params(
        ld.rt,
        id=id,
        id_pattern=idPattern,
        type=type,
        attrs=attr_list,
        q=q,
        georel=georel,
        geometry=geometry,
        coordinates=coordinates,
        geoproperty=geoproperty,
        limit=limit,
        offset=offset,
        count=count,
        options=options,
        local=local,
        order_by=orderBy,
        scope_q=scopeQ,
        csf=csf,
        order_from=orderFrom,
        collation=collation,
    )
    query.join_level = linking.level if linking else None
    view = parse_view(options, format, pick, omit, lang, ld.tm, attr_list, linking)
    _check_geometry_property(ld, geometryProperty)
    caller = ld.caller("GET /ngsi-ld/v1/entities")
    filters = filters_of(query, ld.tm)
    query.not_types = unreadable_types(ld.rt, ld.tenant, caller, filters)  # so that counts and pages hold only those
    result = query_entities(ld.rt, ld.tenant, query, ld.tm)
    asked = _asked(request, ld, id=id, id_pattern=idPattern, type=type, attrs=attr_list)
    asked.csf = csf
    if forwarding.wanted(ld.rt, ld.tenant, asked, query.local):  # distributed: the registered sources too
        result.rows, added = forwarding.query(ld.rt, ld.tenant, result.rows, asked)
        result.total = result.total + added if result.total is not None else None
    if not result.rows and not query.offset:
        missed(ld.rt, ld.tenant, caller, filters)
    headers = count_headers(result)
    links = page_links(request, query.offset, query.limit, len(result.rows), result.total)
    if links:
        headers["Link"] = links
    rows = govern_rows(ld.rt, ld.tenant, caller, result.rows)
    if dataset_ids is not None:
        rows = [keep_datasets(r, dataset_ids) for r in rows]
    if linking is None:
        return _entities_response([_render(r, ld, view) for r in rows], ld, view, geometryProperty, headers)
    docs, linked = joined(ld.rt, ld.tenant, caller, ld.tm, linking, rows, view)
    return _entities_response(docs + linked, ld, view, geometryProperty, headers)


SYSTEM_ATTRIBUTES = frozenset({"createdAt", "modifiedAt", "deletedAt"})
MAX_PURGE = 100_000  # the most entities one purge touches: a wider one is narrowed or repeated


@router.delete("/entities", status_code=204, summary="Purge entities", responses=MULTI_STATUS)
async def purge_entities(
    ld: LdDelete,
    id: str | None = None,
    idPattern: str | None = None,
    type: str | None = None,
    attrs: str | None = None,
    q: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | None = None,
    geoproperty: str | None = None,
    local: bool = False,
    keep: str | None = None,
    drop: str | None = None,
) -> Response:
    attr_list = split_list(attrs)
    if attr_list and any("{" in a for a in attr_list):  # a purge deletes: it shows no linked entities
        raise BadRequestData(
            "attrs of a purge names attributes only: a linked entity projection such as owner{name} has no "
            "meaning there (NGSI-LD v1.9, clause 5.6.21.4)"
        )
    # an id or idPattern alone, or attrs or q over system attributes only, would empty a tenant by mistake
    # (NGSI-LD v1.9, clause 5.6.21.4): a purge needs a type, a user attribute, a q on one, a geo-query or local
    qualifying = bool(
        type
        or georel
        or local
        or (attr_list and set(attr_list) - SYSTEM_ATTRIBUTES)
        or (q and q_attributes(parse_q(q)) - SYSTEM_ATTRIBUTES)
    )
    if not qualifying:
        raise BadRequestData(
            "a purge needs type, attrs or q naming a non-system attribute, a geo-query, or local=true: "
            "id and idPattern only narrow one of those"
        )
    if keep is not None and drop is not None:
        raise BadRequestData("give keep or drop, not both: keep names the attributes to keep, drop those to delete")
    keep_list, drop_list = split_list(keep), split_list(drop)
    query = EntityQuery(
        ids=split_list(id),
        id_pattern=idPattern,
        type=type,
        attrs=attr_list,
        q=q,
        georel=georel,
        geometry=geometry,
        coordinates=coordinates,
        geoproperty=geoproperty,
        limit=1000,
        local=True,
    )
    ids = await run_in_threadpool(_matching_ids, ld, query)
    if keep_list is None and drop_list is None:
        ops = [(i, svc.m_delete(i)) for i in ids]
    else:
        kept = frozenset(ld.tm.expand(a) for a in keep_list) if keep_list is not None else None
        dropped = frozenset(ld.tm.expand(a) for a in drop_list or ())
        ops = [(i, svc.m_purge_attrs(i, keep=kept, drop=dropped)) for i in ids]
    outcomes = await svc.apply_async(ld.rt, ld.tenant, ops, writer=ld.writer) if ops else []
    errors = [
        {"entityId": i, "error": o.error.problem()}
        for (i, _), o in zip(ops, outcomes, strict=True)
        if o.error is not None and not isinstance(o.error, ResourceNotFound)  # gone meanwhile: purged all the same
    ]
    if errors:
        done = [i for (i, _), o in zip(ops, outcomes, strict=True) if o.error is None]
        return ld_response(ld, {"success": done, "errors": errors}, status=207)
    return no_content()


def _matching_ids(ld: LdRequest, query: EntityQuery) -> list[str]:
    """The ids of every entity the purge's query matches, read a page at a time before any is changed."""
    ids: list[str] = []
    while True:
        rows = query_entities(ld.rt, ld.tenant, query, ld.tm).rows
        ids += [r.id for r in rows]
        if len(ids) > MAX_PURGE:
            raise TooComplexQuery(f"the purge matches more than {MAX_PURGE:,} entities: narrow it and purge again")
        if len(rows) < query.limit:
            return ids
        query.offset += query.limit


def _asked(
    request: Request, ld: LdRequest, *, id: str | None, id_pattern: str | None, type: str | None, attrs: Any
) -> forwarding.Asked:
    """What a read would ask of the context sources (cityos.context.csources.forwarding)."""
    return forwarding.Asked(
        params=request.query_params,
        link=request.headers.get("link"),
        via=request.headers.get("via"),
        tm=ld.tm,
        ids=tuple(split_list(id) or ()),
        id_pattern=id_pattern,
        type=type,
        attrs=tuple(a for a in attrs or () if "{" not in a),
    )


@router.get("/entities/{entity_id}", summary="Retrieve an entity", responses=answers(geojson=True))
def get_entity(
    request: Request,
    entity_id: str,
    ld: LdReadGeo,
    attrs: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    options: str | None = None,
    format: str | None = None,
    lang: str | None = None,
    geometryProperty: str | None = None,
    join: str | None = None,
    joinLevel: str | None = None,
    datasetId: str | None = None,
    type: str | None = None,
    local: bool | None = None,
) -> Response:
    rt = ld.rt
    tenant = ld.tenant
    check_entity_id(entity_id)
    dataset_ids = parse_dataset_ids(datasetId)
    attr_list = split_list(attrs)
    linking = parse_join(join, joinLevel)
    view = parse_view(options, format, pick, omit, lang, ld.tm, attr_list, linking)
    _check_geometry_property(ld, geometryProperty)
    type_expr = parse_type_expr(type) if type is not None else None
    asked = _asked(request, ld, id=entity_id, id_pattern=None, type=type, attrs=attr_list)
    if forwarding.wanted(rt, tenant, asked, local):  # distributed: the registered sources too
        row = forwarding.retrieve(rt, tenant, entity_id, asked, lambda: svc.get_entity(rt, tenant, entity_id))
    else:
        row = svc.get_entity(rt, tenant, entity_id)
    if type_expr is not None and not type_matches(type_expr, frozenset(row.types), ld.tm.expand):
        raise ResourceNotFound(f"entity {entity_id} is not of type {type}", instance=entity_id)
    caller = ld.caller("GET /ngsi-ld/v1/entities/{entityId}")
    (row,) = govern_rows(rt, tenant, caller, [row], one=True)
    if dataset_ids is not None:
        row = keep_datasets(row, dataset_ids)
    if attr_list and not any(ld.tm.expand(a) in row.attrs for a in attr_list):
        raise ResourceNotFound(f"entity {entity_id} has none of the attributes {', '.join(attr_list)}")
    linked: list[dict[str, Any]] = []
    if linking is None:
        doc = _render(row, ld, view)
    else:
        (doc,), linked = joined(rt, tenant, caller, ld.tm, linking, [row], view)
    if not doc:  # pick matches no member, or omit names them all (NGSI-LD v1.8, clause 4.21)
        raise ResourceNotFound(f"pick/omit leave nothing of entity {entity_id}: pick members it has")
    if linked:  # join=flat: the entity and those it links to, as an array (NGSI-LD v1.8, clause 4.5.23)
        return _entities_response([doc, *linked], ld, view, geometryProperty, {})
    if ld.accept == GEOJSON:
        feature = geojson_feature(doc, _geometry_name(geometryProperty), view.fmt)
        return ld_response(ld, feature, entity_fmt=view.fmt)
    return ld_response(ld, doc, entity_fmt=view.fmt)


@router.put(
    "/entities/{entity_id}",
    status_code=204,
    summary="Replace an entity",
    openapi_extra=ld_body("NgsiLdEntityFragment", description="the entity as it shall be"),
)
async def replace_entity(entity_id: str, ld: LdWrite) -> Response:
    rt = ld.rt
    tenant = ld.tenant
    check_entity_id(entity_id)
    svc.require_body_id(ld.body, entity_id)
    parsed = parse_entity(ld.body, ld.tm, now=now_iso(), need_id=False, need_type=False)
    parsed.id = entity_id
    await svc.one_async(rt, tenant, entity_id, svc.m_replace(parsed), writer=ld.writer)
    return no_content()


@router.patch(
    "/entities/{entity_id}",
    status_code=204,
    summary="Merge an entity",
    openapi_extra=ld_body("NgsiLdEntityFragment", merge_patch=True, description="what to merge into the entity"),
)
async def merge_entity(entity_id: str, ld: LdWrite) -> Response:
    rt = ld.rt
    tenant = ld.tenant
    check_entity_id(entity_id)
    svc.require_body_id(ld.body, entity_id)
    parsed = parse_entity(ld.body, ld.tm, now=now_iso(), need_id=False, need_type=False, allow_null=True, merge=True)
    parsed.id = entity_id
    await svc.one_async(rt, tenant, entity_id, svc.m_merge(parsed, patch_values=True), writer=ld.writer)
    return no_content()


@router.delete("/entities/{entity_id}", status_code=204, summary="Delete an entity")
async def delete_entity(entity_id: str, ld: LdDelete, type: str | None = None) -> Response:
    rt = ld.rt
    tenant = ld.tenant
    check_entity_id(entity_id)
    if type is not None:  # a read before the write, only when asked for: no thread hop otherwise
        await run_in_threadpool(_check_type_selector, ld, entity_id, type)
    await svc.one_async(rt, tenant, entity_id, svc.m_delete(entity_id), writer=ld.writer)
    return no_content()


# --- attributes -------------------------------------------------------------------------------------


def _fragment(ld: LdRequest, entity_id: str, *, allow_null: bool = False) -> Any:
    body = ld.body
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a JSON object of attributes")
    svc.require_body_id(body, entity_id)
    parsed = parse_entity(body, ld.tm, now=now_iso(), need_id=False, need_type=False, allow_null=allow_null)
    parsed.id = entity_id
    return parsed


@router.post(
    "/entities/{entity_id}/attrs",
    status_code=204,
    summary="Append entity attributes",
    responses=MULTI_STATUS,
    openapi_extra=ld_body("NgsiLdEntityFragment", description="the attributes to append"),
)
async def append_attrs(entity_id: str, ld: LdWrite, options: str | None = None, type: str | None = None) -> Response:
    rt = ld.rt
    tenant = ld.tenant
    check_entity_id(entity_id)
    if type is not None:  # a read before the write, only when asked for: no thread hop otherwise
        await run_in_threadpool(_check_type_selector, ld, entity_id, type)
    no_overwrite = "noOverwrite" in (options or "").split(",")
    outcome = await svc.one_async(
        rt, tenant, entity_id, svc.m_append(_fragment(ld, entity_id), overwrite=not no_overwrite), writer=ld.writer
    )
    return _multi_status(outcome, ld)


@router.patch(
    "/entities/{entity_id}/attrs",
    status_code=204,
    summary="Update entity attributes",
    responses=MULTI_STATUS,
    openapi_extra=ld_body("NgsiLdEntityFragment", description="the attributes to update"),
)
async def update_attrs(entity_id: str, ld: LdWrite, type: str | None = None) -> Response:
    rt = ld.rt
    tenant = ld.tenant
    check_entity_id(entity_id)
    if type is not None:  # a read before the write, only when asked for: no thread hop otherwise
        await run_in_threadpool(_check_type_selector, ld, entity_id, type)
    outcome = await svc.one_async(
        rt, tenant, entity_id, svc.m_update_attrs(_fragment(ld, entity_id, allow_null=True)), writer=ld.writer
    )
    return _multi_status(outcome, ld)


@router.patch(
    "/entities/{entity_id}/attrs/{attr}",
    status_code=204,
    summary="Partial attribute update",
    openapi_extra=ld_body("NgsiLdAttributeFragment", description="the members of the attribute to change"),
)
async def patch_attr(entity_id: str, attr: str, ld: LdWrite, type: str | None = None) -> Response:
    rt = ld.rt
    tenant = ld.tenant
    check_entity_id(entity_id)
    check_name(attr)
    if attr == "scope":  # an entity member, not an attribute: changed by update or merge of the entity
        raise BadRequestData("scope is not an attribute and cannot be partially updated: send it in PATCH .../attrs")
    if type is not None:  # a read before the write, only when asked for: no thread hop otherwise
        await run_in_threadpool(_check_type_selector, ld, entity_id, type)
    if not isinstance(ld.body, dict):
        raise BadRequestData('the body must be an attribute fragment such as {"value": 21.5}')
    # an application/ld+json body carries its @context: the context of the request, not a sub-attribute
    body = {k: v for k, v in ld.body.items() if k != "@context"}
    refuse_inner_null(attr, body)  # a partial update is no merge: Null inside a value is no key removal
    if is_null(body):  # NGSI-LD Null deletes the instance: no value to validate (a GeoProperty's either)
        instance: dict[str, Any] = {"value": NULL_URI}
        if body.get("datasetId") not in (None, DEFAULT_DATASET):
            instance["datasetId"] = check_entity_id(body["datasetId"], f"attribute {attr!r} datasetId")
    elif "type" not in body and not VALUE_MEMBERS & body.keys():
        # only sub-attributes (and observedAt, unitCode ...): merged into the instance as it is, whatever its
        # type (NGSI-LD v1.8, clause 5.6.4; ETSI 012_01_01), so they are checked as members of some Property
        instance = parse_instance(attr, {"type": "Property", "value": 0, **body}, ld.tm, now=now_iso())
        for member in ("type", "value", "createdAt"):
            instance.pop(member)
    else:
        instance = parse_instance(attr, body, ld.tm, now=now_iso())
        instance.pop("createdAt", None)
    await svc.one_async(
        rt,
        tenant,
        entity_id,
        svc.m_patch_attr(entity_id, ld.tm.expand(attr), instance, declared=_declared_type(body)),
        writer=ld.writer,
    )
    return no_content()


def _declared_type(fragment: dict[str, Any]) -> str | None:
    declared = fragment.get("type")
    return declared if isinstance(declared, str) else None


@router.put(
    "/entities/{entity_id}/attrs/{attr}",
    status_code=204,
    summary="Replace an entity attribute",
    openapi_extra=ld_body("NgsiLdAttribute", description="the attribute as it shall be"),
)
async def replace_attr(entity_id: str, attr: str, ld: LdWrite) -> Response:
    rt = ld.rt
    tenant = ld.tenant
    check_entity_id(entity_id)
    check_name(attr)
    if attr in ENTITY_MEMBERS:
        raise BadRequestData(f"{attr!r} is an entity member, not an attribute: replace the entity with PUT instead")
    if not isinstance(ld.body, dict | list):
        raise BadRequestData('the body must be an attribute such as {"type": "Property", "value": 21.5}')
    # an application/ld+json body carries its @context: the context of the request, not a sub-attribute
    body = {k: v for k, v in ld.body.items() if k != "@context"} if isinstance(ld.body, dict) else ld.body
    iri = attribute_iri(attr, ld.tm)  # 400 for a name that is a JSON-LD keyword (ETSI 055_03_03: @invalid)
    instances = parse_attribute(attr, body, ld.tm, now=now_iso())
    await svc.one_async(rt, tenant, entity_id, svc.m_replace_attr(entity_id, iri, instances), writer=ld.writer)
    return no_content()


@router.delete("/entities/{entity_id}/attrs/{attr}", status_code=204, summary="Delete an entity attribute")
async def delete_attr(
    entity_id: str,
    attr: str,
    ld: LdWrite,
    datasetId: str | None = None,
    deleteAll: bool = False,
    type: str | None = None,
) -> Response:
    rt = ld.rt
    tenant = ld.tenant
    check_entity_id(entity_id)
    check_name(attr)
    if type is not None:  # a read before the write, only when asked for: no thread hop otherwise
        await run_in_threadpool(_check_type_selector, ld, entity_id, type)
    if datasetId is not None:
        check_entity_id(datasetId, "datasetId")
    if attr == "scope":  # an entity member, not an attribute, but deleted the same way
        await svc.one_async(rt, tenant, entity_id, svc.m_delete_scope(entity_id), writer=ld.writer)
        return no_content()
    await svc.one_async(
        rt,
        tenant,
        entity_id,
        svc.m_delete_attr(entity_id, ld.tm.expand(attr), dataset_id=datasetId, delete_all=deleteAll),
        writer=ld.writer,
    )
    return no_content()
