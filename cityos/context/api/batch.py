"""NGSI-LD batch operations under /ngsi-ld/v1/entityOperations (201 / 204 / 207 semantics)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from cityos.context import service as svc
from cityos.context.api.ld import (
    GEOJSON,
    LdDelete,
    LdReadGeo,
    LdRequest,
    LdWrite,
    item_context_error,
    ld_response,
    no_content,
    parse_view,
)
from cityos.context.api.schemas import BATCH_RESULT, LD_PROBLEMS, Responses, answers, id_list, ld_body
from cityos.context.entity import ParsedEntity, check_entity_id, parse_entity
from cityos.context.errors import BadRequestData, NgsiLdError
from cityos.context.governance import govern_rows, missed, unreadable_types
from cityos.context.join import joined, parse_join
from cityos.context.query import (
    check_paging,
    count_headers,
    filters_of,
    parse_int,
    parse_query_body,
    query_entities,
    wants_count,
)
from cityos.context.render import geojson_feature, render_entity
from cityos.core.timefmt import now_iso

router = APIRouter(prefix="/ngsi-ld/v1/entityOperations", tags=["NGSI-LD batch operations"], responses=LD_PROBLEMS)

MAX_BATCH = 10_000
IDS = {"type": "array", "items": {"type": "string"}, "description": "the ids of the entities created"}
NONE_CREATED: Responses = {204: {"description": "Done; no entity was created"}}
# 201: every entity done, some created (their ids); 204: every entity done; 207: some were not (why, for each)
CREATING: Responses = {**answers(201, IDS), **NONE_CREATED, **answers(207, BATCH_RESULT)}
CHANGING: Responses = {204: {"description": "Every entity was changed"}, **answers(207, BATCH_RESULT)}


def _batch(summary: str, *, creates: bool) -> dict[str, Any]:
    """The route arguments of a batch operation on a list of entities (those that change need only an id)."""
    item = "NgsiLdEntity" if creates else "NgsiLdEntityFragment"
    return {
        "summary": summary,
        "status_code": 201 if creates else 204,
        "responses": CREATING if creates else CHANGING,
        "openapi_extra": ld_body(item, array=True, description=f"at most {MAX_BATCH} entities"),
    }


def _items(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise BadRequestData("a batch operation needs a JSON array")
    if not body:
        raise BadRequestData("the batch is empty: send at least one item")
    if len(body) > MAX_BATCH:
        raise BadRequestData(f"the batch has {len(body)} items; send at most {MAX_BATCH} per request")
    # a null item is no entity that could fail alone: the array itself is wrong (NGSI-LD v1.9, clause 5.5.4;
    # ETSI 567_01_01, 5620_01_01), so nothing of the batch is done
    nulls = [n for n, item in enumerate(body) if item is None]
    if nulls:
        raise BadRequestData(f"the batch holds null at position {nulls[0]}: every item must be an entity object")
    return body


def _parse_all(
    ld: LdRequest, *, need_type: bool = True, allow_null: bool = False, merge: bool = False
) -> tuple[list[ParsedEntity], list[dict[str, Any]]]:
    parsed: list[ParsedEntity] = []
    errors: list[dict[str, Any]] = []
    now = now_iso()
    for item in _items(ld.body):
        try:
            wrong = item_context_error(item, ld.content_type)
            if wrong is not None:
                raise wrong
            parsed.append(parse_entity(item, ld.tm, now=now, need_type=need_type, allow_null=allow_null, merge=merge))
        except NgsiLdError as exc:
            entity_id = item.get("id", "") if isinstance(item, dict) else ""
            errors.append({"entityId": entity_id, "error": exc.problem()})
    return parsed, errors


def _answer(
    ld: LdRequest,
    ids: list[str],
    outcomes: list[svc.Outcome],
    errors: list[dict[str, Any]],
    *,
    created_status: bool,
    partial: bool = False,
) -> Response:
    """201 / 204, or 207 with each entity's error; with ``partial`` an entity some of whose attributes were
    not changed (noOverwrite) is one of the errors too (NGSI-LD v1.8, clause 5.6.9; ETSI 005_02)."""
    success: list[str] = []
    created: list[str] = []
    for entity_id, outcome in zip(ids, outcomes, strict=True):
        if outcome.error is not None:
            errors.append({"entityId": entity_id, "error": outcome.error.problem()})
            continue
        kept = outcome.change.not_updated if partial and outcome.change is not None else []
        if kept:
            names = ", ".join(sorted(ld.tm.compact(a) for a, _ in kept))
            refusal = BadRequestData(f"attributes {names} exist and options=noOverwrite was given: not overwritten")
            errors.append({"entityId": entity_id, "error": refusal.problem()})
            continue
        success.append(entity_id)
        if outcome.created:
            created.append(entity_id)
    if errors:
        return ld_response(ld, {"success": success, "errors": errors}, status=207)
    if created_status and created:
        return ld_response(ld, created, status=201)
    return no_content()


@router.post("/create", **_batch("Batch create entities", creates=True))
async def batch_create(ld: LdWrite) -> Response:
    rt = ld.rt
    parsed, errors = await run_in_threadpool(_parse_all, ld)
    ids = [p.id or "" for p in parsed]
    outcomes = await svc.apply_async(
        rt, ld.tenant, [(p.id or "", svc.m_create(p)) for p in parsed], creates=True, writer=ld.writer
    )
    return _answer(ld, ids, outcomes, errors, created_status=True)


@router.post("/upsert", **_batch("Batch upsert entities", creates=True))
async def batch_upsert(ld: LdWrite, options: str | None = None) -> Response:
    rt = ld.rt
    mode = options or "replace"
    if mode not in ("replace", "update"):
        raise BadRequestData(f"options={mode!r} is not valid for upsert: use replace or update")
    parsed, errors = await run_in_threadpool(_parse_all, ld)
    ops = [
        (p.id or "", svc.m_replace(p, create=True) if mode == "replace" else svc.m_append(p, create=True))
        for p in parsed
    ]
    outcomes = await svc.apply_async(rt, ld.tenant, ops, creates=True, writer=ld.writer)
    return _answer(ld, [p.id or "" for p in parsed], outcomes, errors, created_status=True)


@router.post("/update", **_batch("Batch update entities", creates=False))
async def batch_update(ld: LdWrite, options: str | None = None) -> Response:
    rt = ld.rt
    overwrite = options != "noOverwrite"
    parsed, errors = await run_in_threadpool(_parse_all, ld, need_type=False)
    outcomes = await svc.apply_async(
        rt, ld.tenant, [(p.id or "", svc.m_append(p, overwrite=overwrite)) for p in parsed], writer=ld.writer
    )
    return _answer(ld, [p.id or "" for p in parsed], outcomes, errors, created_status=False, partial=not overwrite)


@router.post("/merge", **_batch("Batch merge entities", creates=False))
async def batch_merge(ld: LdWrite) -> Response:
    rt = ld.rt
    parsed, errors = await run_in_threadpool(_parse_all, ld, need_type=False, allow_null=True, merge=True)
    outcomes = await svc.apply_async(
        rt, ld.tenant, [(p.id or "", svc.m_merge(p, patch_values=True)) for p in parsed], writer=ld.writer
    )
    return _answer(ld, [p.id or "" for p in parsed], outcomes, errors, created_status=False)


@router.post("/delete", status_code=204, summary="Batch delete entities", responses=CHANGING, openapi_extra=id_list())
async def batch_delete(ld: LdDelete) -> Response:
    rt = ld.rt
    ids: list[str] = []
    errors: list[dict[str, Any]] = []
    for item in _items(ld.body):
        try:
            ids.append(check_entity_id(item))
        except NgsiLdError as exc:
            errors.append({"entityId": item if isinstance(item, str) else "", "error": exc.problem()})
    outcomes = await svc.apply_async(rt, ld.tenant, [(i, svc.m_delete(i)) for i in ids], writer=ld.writer)
    return _answer(ld, ids, outcomes, errors, created_status=False)


@router.post(
    "/query",
    summary="Query entities with a Query object",
    responses=answers(geojson=True),
    openapi_extra=ld_body("NgsiLdQuery", description="the Query"),
)
def batch_query(
    ld: LdReadGeo,
    limit: str | None = None,
    offset: str | None = None,
    count: bool = False,
    options: str | None = None,
    format: str | None = None,
    lang: str | None = None,
) -> Response:
    rt = ld.rt
    query = parse_query_body(ld.body)
    query.limit, query.offset = check_paging(rt, parse_int(limit, "limit"), parse_int(offset, "offset"))
    query.count = wants_count(count, options)
    body = ld.body if isinstance(ld.body, dict) else {}
    if "temporalQ" in body:  # NGSI-LD v1.8, table 5.2.23-1: for Query Temporal Evolution of Entities only
        raise BadRequestData("temporalQ goes with POST /temporal/entityOperations/query only: leave it out here")
    pick, omit = (_projection_member(body, m) for m in ("pick", "omit"))
    linking = parse_join(body.get("join"), body.get("joinLevel"))
    query.join_level = linking.level if linking else None
    view = parse_view(options, format, pick, omit, lang, ld.tm, query.attrs, linking)
    geometry = body.get("geometryProperty")
    if geometry is not None and (ld.accept != GEOJSON or not isinstance(geometry, str)):
        raise BadRequestData("geometryProperty is a GeoProperty's name and goes with Accept: application/geo+json")
    caller = ld.caller("POST /ngsi-ld/v1/entityOperations/query")
    filters = filters_of(query, ld.tm)
    query.not_types = unreadable_types(rt, ld.tenant, caller, filters)
    result = query_entities(rt, ld.tenant, query, ld.tm)
    if not result.rows and not query.offset:
        missed(rt, ld.tenant, caller, filters)
    rows = govern_rows(rt, ld.tenant, caller, result.rows)
    if linking is None:
        docs = [
            render_entity(r.id, r.types, r.scope, r.attrs, ld.tm, view, r.created_at, r.modified_at, r.expires_at)
            for r in rows
        ]
    else:
        docs, linked = joined(rt, ld.tenant, caller, ld.tm, linking, rows, view)
        docs += linked
    headers = count_headers(result)
    # an entity that pick/omit leaves nothing of is not shown (NGSI-LD v1.8, clause 4.21)
    docs = [d for d in docs if d]
    if ld.accept == GEOJSON:  # Query Entities answers GeoJSON too (NGSI-LD v1.8, clause 6.3.15)
        features = [geojson_feature(d, geometry or "location", view.fmt) for d in docs]
        collection = {"type": "FeatureCollection", "features": features}
        return ld_response(ld, collection, headers=headers, entity_fmt=view.fmt)
    return ld_response(ld, docs, headers=headers, entity_fmt=view.fmt)


def _projection_member(body: dict[str, Any], member: str) -> str | None:
    """A Query's ``pick`` or ``omit`` (NGSI-LD v1.8, table 5.2.23-1) as the query parameter writes it: an array
    of member names, or one string of the projection language."""
    value = body.get(member)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return ",".join(value)
    raise BadRequestData(f"'{member}' must be a non-empty array of member names or a string such as \"name,speed\"")
