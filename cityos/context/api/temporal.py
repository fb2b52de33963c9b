"""NGSI-LD temporal API under /ngsi-ld/v1/temporal: the history of entities' attributes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter
from fastapi.responses import Response

from cityos.context import service as hub
from cityos.context.api.ld import LdDelete, LdRead, LdRequest, LdWrite, ld_response, no_content, parse_view
from cityos.context.api.schemas import LD_PROBLEMS, Responses, answers, created, ld_body
from cityos.context.entity import (
    ENTITY_MEMBERS,
    EXPIRES_AT,
    NULL_URI,
    check_entity_id,
    check_name,
    parse_expiry,
    parse_instance,
    parse_scope,
    parse_types,
)
from cityos.context.errors import BadRequestData, ResourceNotFound
from cityos.context.governance import look, missed, unreadable_types
from cityos.context.join import check_linked_projection
from cityos.context.ordering import parse_order_by
from cityos.context.projection import check_pick_omit
from cityos.context.query import (
    EntityQuery,
    check_paging,
    count_headers,
    filters_of,
    parse_dataset_ids,
    parse_int,
    parse_query_body,
    query_entities,
    query_from_params,
    split_list,
    wants_count,
)
from cityos.context.store import EntityRow
from cityos.context.temporal import service as svc
from cityos.context.temporal.params import TimeRange, parse_last_n, parse_time_range
from cityos.context.temporal.scopes import parse_scope_q
from cityos.core.iris import uri_segment
from cityos.core.timefmt import from_ms, now_iso

router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["NGSI-LD temporal"], responses=LD_PROBLEMS)
# 206: the history goes on after the range in Content-Range; ask again from its end
HISTORY: Responses = {**answers(200), **answers(206)}
HISTORY[206]["description"] = "Part of the history: Content-Range says which; ask again from its end"

_TEMPORAL_OPTIONS = {"temporalValues", "aggregatedValues"}


def _options(options: str | None) -> tuple[set[str], str | None]:
    """Split the temporal options from the representation options parse_view understands."""
    given = {o.strip() for o in (options or "").split(",") if o.strip()}
    return given & _TEMPORAL_OPTIONS, ",".join(sorted(given - _TEMPORAL_OPTIONS)) or None


def _answer(
    ld: LdRequest,
    rows: list[EntityRow],
    attrs: list[str] | None,
    rng: TimeRange,
    last_n: int | None,
    temporal: set[str],
    rest: str | None,
    aggr_methods: str | None,
    aggr_period: str | None,
    headers: dict[str, str] | None = None,
    single: bool = False,
    route: str = "GET /ngsi-ld/v1/temporal/entities",
    shape: tuple[str | None, str | None, str | None] = (None, None, None),
    scope_q: str | None = None,
) -> Response:
    """``shape``: the format, pick and omit parameters."""
    fmt, pick, omit = shape
    if fmt in _TEMPORAL_OPTIONS:  # format names the temporal representation, before options (NGSI-LD v1.8 6.3.12)
        temporal, fmt = {fmt}, None
    view = parse_view(rest, fmt, pick, omit, None, ld.tm, attrs)
    sights = look(ld.rt, ld.tenant, ld.caller(route), rows, one=single)
    answer = svc.temporal_evolution(
        ld.rt,
        ld.tenant,
        [s.row for s in sights],
        ld.tm,
        view,
        attrs,
        rng,
        last_n=last_n,
        temporal_values="temporalValues" in temporal,
        aggr_methods=aggr_methods,
        aggr_period=aggr_period,
        aggregated="aggregatedValues" in temporal,
        sights={s.row.id: s for s in sights if s.items is not None},
        drop_empty=not single and rng.bounded,
        scope_q=parse_scope_q(scope_q) if scope_q else None,
    )
    status = 200
    if answer.cut is not None:
        # Partial content: the history goes on after `cut`; ask again with timerel=after&timeAt=<cut>.
        status = 206
        headers = dict(headers or {})
        size = "*" if answer.size is None else str(answer.size)
        headers["Content-Range"] = f"date-time {from_ms(answer.first or 0)}-{from_ms(answer.cut)}/{size}"
    if single:
        _check_found(ld, rows[0], attrs, answer.docs[0])
    return ld_response(ld, answer.docs[0] if single else answer.docs, status=status, headers=headers)


def _check_projection(pick: str | None, omit: str | None) -> None:
    """pick/omit checked before any entity is read: a temporal read fetches no linked entity (it has no join),
    so a braced member is refused whether the entity exists or not (NGSI-LD v1.9, clauses 5.7.3.4, 5.7.4.4)."""
    check_linked_projection(*check_pick_omit(pick, omit, None), None)


def _check_found(ld: LdRequest, row: EntityRow, attrs: list[str] | None, doc: dict[str, Any]) -> None:
    """404 for a retrieve that finds nothing to show, as the retrieve of the entity does (NGSI-LD v1.8 clauses
    4.21 and 5.7.3; ETSI 020_08, 020_23)."""
    if not doc:
        raise ResourceNotFound(f"pick/omit leave nothing of entity {row.id}: pick members it has", instance=row.id)
    if attrs and not any(ld.tm.expand(a) in row.attrs or a in doc for a in attrs):
        raise ResourceNotFound(
            f"entity {row.id} has none of the attributes {', '.join(attrs)}, now or in its history", instance=row.id
        )


@router.get("/entities/{entity_id}", summary="Retrieve the temporal evolution of an entity", responses=HISTORY)
def get_temporal_entity(
    entity_id: str,
    ld: LdRead,
    attrs: str | None = None,
    timerel: str | None = None,
    timeAt: str | None = None,
    endTimeAt: str | None = None,
    timeproperty: str | None = None,
    lastN: str | None = None,
    options: str | None = None,
    aggrMethods: str | None = None,
    aggrPeriodDuration: str | None = None,
    format: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    datasetId: str | None = None,
) -> Response:
    check_entity_id(entity_id)
    _check_projection(pick, omit)
    rng = _with_datasets(parse_time_range(timerel, timeAt, endTimeAt, timeproperty), datasetId)
    temporal, rest = _options(options)
    row = hub.get_entity(ld.rt, ld.tenant, entity_id, expired=True)  # its history outlives its expiry
    return _answer(
        ld,
        [row],
        split_list(attrs),
        rng,
        parse_last_n(lastN),
        temporal,
        rest,
        aggrMethods,
        aggrPeriodDuration,
        single=True,
        route="GET /ngsi-ld/v1/temporal/entities/{entityId}",
        shape=(format, pick, omit),
    )


@router.get("/entities", summary="Query the temporal evolution of entities", responses=HISTORY)
def query_temporal_entities(
    ld: LdRead,
    id: str | None = None,
    idPattern: str | None = None,
    type: str | None = None,
    attrs: str | None = None,
    q: str | None = None,
    georel: str | None = None,
    geometry: str | None = None,
    coordinates: str | None = None,
    geoproperty: str | None = None,
    timerel: str | None = None,
    timeAt: str | None = None,
    endTimeAt: str | None = None,
    timeproperty: str | None = None,
    lastN: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
    count: bool = False,
    options: str | None = None,
    aggrMethods: str | None = None,
    aggrPeriodDuration: str | None = None,
    format: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    orderBy: str | None = None,
    datasetId: str | None = None,
    local: bool | None = None,
    scopeQ: str | None = None,
    csf: str | None = None,
) -> Response:
    _check_projection(pick, omit)
    rng = _with_datasets(parse_time_range(timerel, timeAt, endTimeAt, timeproperty), datasetId)
    order = parse_order_by(orderBy)
    if order and any(t.path != ("id",) or t.subitems or t.origin is not None for t in order):
        # a temporal answer is ordered by entity id only (NGSI-LD v1.9, clause 5.7.4.4)
        raise BadRequestData(f"orderBy={orderBy!r}: temporal queries are ordered by id only (id or id;desc)")
    query = query_from_params(
        ld.rt,
        id=id,
        id_pattern=idPattern,
        type=type,
        attrs=split_list(attrs),
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
        csf=csf,
    )
    query.order_by = order
    return _answer_query(
        ld,
        query,
        rng,
        lastN,
        options,
        aggrMethods,
        aggrPeriodDuration,
        "GET /ngsi-ld/v1/temporal/entities",
        (format, pick, omit),
        scopeQ,
    )


def _with_datasets(rng: TimeRange, dataset_id: str | None) -> TimeRange:
    """The range reading only the instances of the ``datasetId`` parameter (``@none``: the default instance;
    NGSI-LD v1.8 clause 4.5.5; ETSI 021_18)."""
    ids = parse_dataset_ids(dataset_id)
    if ids is None:
        return rng
    return replace(rng, datasets=frozenset("" if i == "@none" else i for i in ids))


def _answer_query(
    ld: LdRequest,
    query: EntityQuery,
    rng: TimeRange,
    last_n: str | None,
    options: str | None,
    aggr_methods: str | None,
    aggr_period: str | None,
    route: str,
    shape: tuple[str | None, str | None, str | None] = (None, None, None),
    scope_q: str | None = None,
) -> Response:
    """The temporal answer for the entities a query selects (GET and POST queries alike)."""
    temporal, rest = _options(options)
    filters = filters_of(query, ld.tm)
    query.not_types = unreadable_types(ld.rt, ld.tenant, ld.caller(route), filters)
    result = query_entities(ld.rt, ld.tenant, query, ld.tm)
    if not result.rows and not query.offset:
        missed(ld.rt, ld.tenant, ld.caller(route), filters)
    return _answer(
        ld,
        result.rows,
        query.attrs,
        rng,
        parse_last_n(last_n),
        temporal,
        rest,
        aggr_methods,
        aggr_period,
        headers=count_headers(result) or None,
        route=route,
        shape=shape,
        scope_q=scope_q,
    )


# --- temporal provision -----------------------------------------------------------------------------


def _temporal_scope(ld: LdRequest, raw: Any) -> tuple[list[str] | None, list[dict[str, Any]]]:
    """The scope a temporal create gives the entity (ETSI 020_19: its deletion is then in the history) and
    the instances of its history: a scope alone has none; given as Property instances in time, the latest
    is the entity's scope now and each is kept, so that a scopeQ knows which scope held when (ETSI 5744_03)."""
    if raw is None:
        return None, []
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(i, dict) for i in items):
        return parse_scope(raw), []
    kept = []
    for item in items:
        if "value" not in item:
            raise BadRequestData('a scope instance is a Property such as {"type": "Property", "value": "/A/B"}')
        inst = parse_instance("scope", item, ld.tm, now=now_iso())
        inst["value"] = parse_scope(item["value"])
        kept.append(inst)
    latest = max(kept, key=lambda i: str(i.get("observedAt") or ""))
    return latest["value"], kept


def _check_attr_name(attr: str) -> None:
    """An attribute name in the path: a valid name, and no dot segment however often percent-encoded (a name
    begins with a letter, NGSI-LD v1.8 clause 4.6.2; a client resolving ``..`` would address the entity's
    whole history instead; ETSI 015_04)."""
    check_name(attr)
    name = attr
    for _ in range(3):
        name = unquote(name)
        if name in (".", ".."):
            raise BadRequestData(f"attribute name {attr!r} is a dot segment, not a name: names begin with a letter")


def _temporal_instances(ld: LdRequest, body: Any) -> dict[str, list[dict[str, Any]]]:
    """The attributes of a temporal entity body: each a list of instances in time (or one instance)."""
    if not isinstance(body, dict):
        raise BadRequestData("a temporal entity must be a JSON object whose attributes are lists of instances")
    now = now_iso()
    out: dict[str, list[dict[str, Any]]] = {}
    for name, raw in body.items():
        if name == EXPIRES_AT:  # checked as a DateTime; the entity's, stored by the create (not by an append)
            parse_expiry(raw, "the temporal entity")
            continue
        if name in ENTITY_MEMBERS:
            continue
        check_name(name)
        if raw == NULL_URI:  # NGSI-LD Null deletes in a fragment's update or merge only (clause 5.5.4)
            raise BadRequestData(f"{name!r} is NGSI-LD Null: a temporal entity's members are instances in time")
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise BadRequestData(f"attribute {name!r} has no instances")
        out[ld.tm.expand(name)] = [parse_instance(name, item, ld.tm, now=now) for item in items]
    return out


@router.post(
    "/entities",
    status_code=201,
    summary="Create or add to the temporal evolution of an entity",
    response_class=Response,
    responses={**created("entity"), 204: {"description": "The entity existed: its history has the instances too"}},
    openapi_extra=ld_body("NgsiLdTemporalEntity", description="the entity with its attributes' instances"),
)
async def create_temporal_entity(ld: LdWrite) -> Response:
    body = ld.body
    if not isinstance(body, dict):
        raise BadRequestData("a temporal entity must be a JSON object with id, type and attribute instances")
    entity_id = check_entity_id(body.get("id"))
    if body.get("type") is None:
        raise BadRequestData(f"temporal entity {entity_id} has no 'type'")
    types = parse_types(body["type"], ld.tm)
    scope, scope_history = _temporal_scope(ld, body.get("scope"))
    # the entity's expiresAt is stored as the core create stores it (NGSI-LD 4.22): the temporal and the entity
    # reads then agree on when it stops being served
    raw_expiry = body.get(EXPIRES_AT)
    expires_at = None if raw_expiry is None else parse_expiry(raw_expiry, f"temporal entity {entity_id}")
    created = Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/temporal/entities/{uri_segment(entity_id)}"})
    outcome = await hub.one_async(
        ld.rt,
        ld.tenant,
        entity_id,
        hub.m_temporal_append(
            entity_id,
            types,
            _temporal_instances(ld, body),
            create=True,
            scope=scope,
            scope_history=scope_history,
            expires_at=expires_at,
        ),
        creates=True,
        writer=ld.writer,
    )
    if outcome.created:
        return created
    return no_content()


@router.post(
    "/entities/{entity_id}/attrs",
    status_code=204,
    summary="Add attribute instances",
    openapi_extra=ld_body("NgsiLdTemporalFragment", description="attributes, each a list of instances"),
)
async def append_temporal_attrs(entity_id: str, ld: LdWrite) -> Response:
    check_entity_id(entity_id)
    hub.require_body_id(ld.body, entity_id)
    await hub.one_async(
        ld.rt,
        ld.tenant,
        entity_id,
        hub.m_temporal_append(entity_id, [], _temporal_instances(ld, ld.body), create=False),
        writer=ld.writer,
    )
    return no_content()


@router.delete("/entities/{entity_id}", status_code=204, summary="Delete the temporal evolution of an entity")
def delete_temporal_entity(entity_id: str, ld: LdDelete) -> Response:
    check_entity_id(entity_id)
    # the temporal representation is the entity over time: deleting it deletes the entity too (NGSI-LD v1.8,
    # clause 5.6.16), else a later create of the same id finds it (ETSI 009_01_01 and the 021 setups)
    try:
        svc.delete_entity_history(ld.rt, ld.tenant, entity_id, f"entity {entity_id}", writer=ld.writer)
        had_history = True
    except ResourceNotFound:
        had_history = False
    outcome = hub.apply(ld.rt, ld.tenant, [(entity_id, hub.m_delete(entity_id))], writer=ld.writer)[0]
    if outcome.error is not None and not (had_history and isinstance(outcome.error, ResourceNotFound)):
        raise outcome.error
    return no_content()


@router.delete("/entities/{entity_id}/attrs/{attr}", status_code=204, summary="Delete an attribute's history")
def delete_temporal_attr(
    entity_id: str, attr: str, ld: LdDelete, datasetId: str | None = None, deleteAll: bool = False
) -> Response:
    check_entity_id(entity_id)
    _check_attr_name(attr)
    ds = None if deleteAll else (check_entity_id(datasetId, "datasetId") if datasetId else "")
    svc.delete_entity_history(
        ld.rt,
        ld.tenant,
        entity_id,
        f"attribute {attr} of {entity_id}",
        writer=ld.writer,
        attr=ld.tm.expand(attr),
        dataset_id=ds,
    )
    return no_content()


@router.patch(
    "/entities/{entity_id}/attrs/{attr}/{instance_id}",
    status_code=204,
    summary="Modify one attribute instance",
    openapi_extra=ld_body("NgsiLdAttributeFragment", description="the members of the instance to change"),
)
def modify_instance(entity_id: str, attr: str, instance_id: str, ld: LdWrite) -> Response:
    check_entity_id(entity_id)
    _check_attr_name(attr)
    check_entity_id(instance_id, "instanceId")  # an instanceId is a URI (ETSI 016_02_03)
    if not isinstance(ld.body, dict):
        raise BadRequestData('the body must be an attribute fragment such as {"value": 21.5}')
    fragment = parse_instance(attr, ld.body, ld.tm, now=now_iso())
    svc.modify_instance(ld.rt, ld.tenant, entity_id, attr, ld.tm.expand(attr), instance_id, fragment, writer=ld.writer)
    return no_content()


@router.delete(
    "/entities/{entity_id}/attrs/{attr}/{instance_id}", status_code=204, summary="Delete one attribute instance"
)
def delete_instance(entity_id: str, attr: str, instance_id: str, ld: LdDelete) -> Response:
    check_entity_id(entity_id)
    _check_attr_name(attr)
    check_entity_id(instance_id, "instanceId")  # an instanceId is a URI (ETSI 017_02_03)
    svc.delete_instance(ld.rt, ld.tenant, entity_id, attr, ld.tm.expand(attr), instance_id, writer=ld.writer)
    return no_content()


@router.post(
    "/entityOperations/query",
    summary="Query the temporal evolution of entities with a Query object",
    responses=HISTORY,
    openapi_extra=ld_body("NgsiLdQuery", description="the Query, with temporalQ"),
)
def temporal_query(
    ld: LdRead,
    limit: str | None = None,
    offset: str | None = None,
    count: bool = False,
    lastN: str | None = None,
    options: str | None = None,
    aggrMethods: str | None = None,
    aggrPeriodDuration: str | None = None,
) -> Response:
    body = ld.body
    query = parse_query_body(body)
    temporal_q = body.get("temporalQ") if isinstance(body, dict) else None
    if temporal_q is not None and not isinstance(temporal_q, dict):
        raise BadRequestData("'temporalQ' must be an object with timerel, timeAt and endTimeAt")
    tq = temporal_q or {}
    rng = parse_time_range(tq.get("timerel"), tq.get("timeAt"), tq.get("endTimeAt"), tq.get("timeproperty"))
    query.limit, query.offset = check_paging(ld.rt, parse_int(limit, "limit"), parse_int(offset, "offset"))
    query.count = wants_count(count, options)
    # the TemporalQuery may carry lastN and the aggregation (NGSI-LD v1.8 clause 5.2.21), the Query aggrParams
    # (clause 5.2.44); query parameters come first. Aggregation methods in the body ask for aggregated values.
    aggr_params = body.get("aggrParams") if isinstance(body, dict) else None
    if aggr_params is not None and not isinstance(aggr_params, dict):
        raise BadRequestData("'aggrParams' must be an object with aggrMethods and aggrPeriodDuration")
    aggr = {**(aggr_params or {}), **{k: tq[k] for k in ("aggrMethods", "aggrPeriodDuration") if k in tq}}
    if lastN is None and tq.get("lastN") is not None:
        lastN = _body_last_n(tq["lastN"])
    if aggrMethods is None and aggr.get("aggrMethods") is not None:
        aggrMethods = _body_methods(aggr["aggrMethods"])
        options = ",".join(o for o in (options, "aggregatedValues") if o)
    if aggrPeriodDuration is None and aggr.get("aggrPeriodDuration") is not None:
        aggrPeriodDuration = str(aggr["aggrPeriodDuration"])
    route = "POST /ngsi-ld/v1/temporal/entityOperations/query"
    scope_q = body.get("scopeQ") if isinstance(body, dict) else None
    if scope_q is not None and not isinstance(scope_q, str):
        raise BadRequestData("'scopeQ' must be a string such as /Madrid/#")
    return _answer_query(ld, query, rng, lastN, options, aggrMethods, aggrPeriodDuration, route, scope_q=scope_q)


def _body_last_n(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequestData(f"temporalQ lastN must be a positive integer, got {value!r}")
    return str(value)


def _body_methods(value: Any) -> str:
    """aggrMethods of a body: a comma separated string or an array of strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(m, str) for m in value):
        return ",".join(value)
    raise BadRequestData(f"aggrMethods must be a string or an array of strings such as ['avg'], got {value!r}")
