"""NGSI-LD temporal API under /ngsi-ld/v1/temporal: the history of entities' attributes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from cityos.context import service as svc
from cityos.context.entity import check_entity_id
from cityos.context.http import Ld, LdRequest, ld_response, parse_view
from cityos.context.query import EntityQuery, check_paging, parse_int, query_entities, split_list
from cityos.context.store import EntityRow
from cityos.context.temporal import aggregate, fetch_instances, render_aggregated, render_temporal
from cityos.context.temporal_params import TimeRange, parse_aggregation, parse_last_n, parse_time_range

router = APIRouter(prefix="/ngsi-ld/v1/temporal", tags=["NGSI-LD temporal"])

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
) -> Response:
    rt = ld.rt
    view = parse_view(rest, None, None, None, None, ld.tm)
    ids = [r.id for r in rows]
    attr_iris = [ld.tm.expand(a) for a in attrs] if attrs else None
    docs: list[dict[str, Any]]
    with rt.db.connect() as conn:
        if "aggregatedValues" in temporal:
            aggr = parse_aggregation(aggr_methods, aggr_period, rng)
            aggregates = aggregate(conn, ld.tenant, ids, attr_iris, rng, aggr)
            docs = []
            for r in rows:
                kinds = {a: (insts[0].get("type", "Property") if insts else "Property") for a, insts in r.attrs.items()}
                docs.append(render_aggregated(r.id, r.types, aggregates, kinds, ld.tm, aggr.methods))
        else:
            instances = fetch_instances(conn, ld.tenant, ids, attr_iris, rng, last_n)
            docs = [
                render_temporal(r.id, r.types, instances, ld.tm, view, temporal_values="temporalValues" in temporal)
                for r in rows
            ]
    if single:
        return ld_response(ld, docs[0], headers=headers)
    return ld_response(ld, docs, headers=headers)


@router.get("/entities/{entity_id}", summary="Retrieve the temporal evolution of an entity")
def get_temporal_entity(
    entity_id: str,
    ld: Ld,
    attrs: str | None = None,
    timerel: str | None = None,
    timeAt: str | None = None,
    endTimeAt: str | None = None,
    timeproperty: str | None = None,
    lastN: str | None = None,
    options: str | None = None,
    aggrMethods: str | None = None,
    aggrPeriodDuration: str | None = None,
) -> Response:
    ld.allow("entities:read")
    check_entity_id(entity_id)
    rng = parse_time_range(timerel, timeAt, endTimeAt, timeproperty)
    temporal, rest = _options(options)
    row = svc.get_entity(ld.rt, ld.tenant, entity_id)
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
    )


@router.get("/entities", summary="Query the temporal evolution of entities")
def query_temporal_entities(
    ld: Ld,
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
) -> Response:
    ld.allow("entities:read")
    rng = parse_time_range(timerel, timeAt, endTimeAt, timeproperty)
    temporal, rest = _options(options)
    lim, off = check_paging(ld.rt, parse_int(limit, "limit"), parse_int(offset, "offset"))
    attr_list = split_list(attrs)
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
        limit=lim,
        offset=off,
        count=count,
    )
    result = query_entities(ld.rt, ld.tenant, query, ld.tm)
    headers = {"NGSILD-Results-Count": str(result.total)} if result.total is not None else None
    return _answer(
        ld,
        result.rows,
        attr_list,
        rng,
        parse_last_n(lastN),
        temporal,
        rest,
        aggrMethods,
        aggrPeriodDuration,
        headers=headers,
    )
