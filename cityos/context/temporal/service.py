"""Use cases of the temporal API and of other packages reading the history: plain functions over the runtime.

The routes (``cityos.context.api.temporal``) and the vital signs (windows refilled after a restart,
anomaly diagnosis) call these; none of them opens a connection itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cityos.context import store
from cityos.context.entity import TermMap
from cityos.context.errors import NotYourEntity, ResourceNotFound
from cityos.context.governance import Sight
from cityos.context.render import View
from cityos.context.service import CITY, Writer, check_tenant_for_read, merge_instance
from cityos.context.store import EntityRow
from cityos.context.temporal.history import SCOPE_IRI, replace_instance
from cityos.context.temporal.params import TimeRange, parse_aggregation
from cityos.context.temporal.reads import (
    Instances,
    aggregate,
    cut_pages,
    delete_history,
    fetch_instances,
    find_instance,
    render_aggregated,
    render_temporal,
)
from cityos.context.temporal.scopes import ScopeTest, ScopeTimeline
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime


def attribute_history(
    rt: Runtime,
    tenant: str,
    entity_ids: list[str],
    attrs: list[str] | None,
    start_ms: int | None,
    end_ms: int | None,
    *,
    last_n: int | None = None,
) -> Instances:
    """The stored instances of these entities' attributes (expanded IRIs; None: all) observed in
    [start_ms, end_ms), oldest first, the last ``last_n`` of each series when given: ``{(entity id,
    attribute): [Stored(datasetId, epoch ms, instance, key), …]}``."""
    with rt.db.connect() as conn:
        found = fetch_instances(conn, tenant, entity_ids, attrs, TimeRange(start_ms, end_ms), last_n)
    # the instances recording a deletion hold no reading
    return {k: [i for i in items if "deletedAt" not in i.instance] for k, items in found.items()}


@dataclass(frozen=True)
class TemporalAnswer:
    """The temporal representation of some entities; ``cut``: the history goes on past this time (epoch ms),
    the answer holding only up to it (forward in time, or back in time with lastN); ``first``: the time the
    answer starts from; ``size``: how many instances per attribute were asked for (lastN), None if all."""

    docs: list[dict[str, Any]]
    cut: int | None = None
    first: int | None = None
    size: int | None = None


def temporal_evolution(
    rt: Runtime,
    tenant: str,
    rows: list[EntityRow],
    tm: TermMap,
    view: View,
    attrs: list[str] | None,
    rng: TimeRange,
    *,
    last_n: int | None = None,
    temporal_values: bool = False,
    aggr_methods: str | None = None,
    aggr_period: str | None = None,
    aggregated: bool = False,
    sights: Mapping[str, Sight] | None = None,
    drop_empty: bool = False,
    scope_q: ScopeTest | None = None,
) -> TemporalAnswer:
    """The temporal evolution (or, ``aggregated``, the aggregated values) of ``rows``' attributes ``attrs``
    (as written, expanded with ``tm``; None: all) in ``rng``. Without ``last_n`` a series holds at most
    ``temporal_max_instances``; a longer history is cut (see :class:`TemporalAnswer`).

    ``sights`` (by entity id): what the reader may see of each entity (cityos.context.governance): every
    instance of an attribute it may not see is left out, of one it sees masked is masked; the aggregated
    values of a masked attribute are left out (a minimum or a sum of masked values is not masked).

    ``drop_empty`` (a query with a time range): an entity with no instance in the range is left out of the
    answer (NGSI-LD v1.8 clause 5.7.4; ETSI 021_13, 021_18_07).

    ``scope_q`` (a query's scopeQ): only the instances of a time at which the entity's scope matches are kept
    (clauses 4.18, 4.19 and 5.7.4.4), and entities left with none are left out."""
    seen = sights or {}
    ids = [r.id for r in rows]
    attr_iris = [tm.expand(a) for a in attrs] if attrs else None
    if aggregated:
        aggr = parse_aggregation(aggr_methods, aggr_period, rng)
        with rt.db.connect() as conn:
            aggregates = aggregate(conn, tenant, ids, attr_iris, rng, aggr)
        if seen:
            aggregates = {k: v for k, v in aggregates.items() if _sees_whole(seen.get(k[0]), k[1])}
        docs = []
        if drop_empty:
            having = {entity_id for entity_id, _attr in aggregates}
            rows = [r for r in rows if r.id in having]
        for r in rows:
            kinds = {a: (insts[0].get("type", "Property") if insts else "Property") for a, insts in r.attrs.items()}
            docs.append(render_aggregated(r.id, r.types, aggregates, kinds, tm, aggr.methods, view))
        return TemporalAnswer(docs)
    cap = rt.settings.temporal_max_instances
    if last_n is not None and last_n <= cap:
        cap_read: int | None = None  # the answer holds every instance asked for
    else:
        cap_read = cap
    with rt.db.connect() as conn:
        instances = fetch_instances(conn, tenant, ids, attr_iris, rng, last_n, cap=cap_read)
        if scope_q is not None:
            instances = _in_scope(conn, tenant, rows, instances, scope_q)
            drop_empty = True
    if seen:
        instances = _as_seen(instances, seen)
    if drop_empty:
        having = {entity_id for (entity_id, _attr), items in instances.items() if items}
        rows = [r for r in rows if r.id in having]
    recent = last_n is not None
    cut = cut_pages(instances, cap, recent=recent) if cap_read is not None else None
    docs = [
        render_temporal(r.id, r.types, instances, tm, view, temporal_values=temporal_values, prop=rng.prop)
        for r in rows
    ]
    if cut is None:
        return TemporalAnswer(docs)
    # Content-Range runs from where the answer starts to the cut: forward from timeAt (or the first instance);
    # with lastN back from the range's end (before: timeAt, between: endTimeAt) or the most recent instance
    # (NGSI-LD v1.8 clause 6.3.10; ETSI 020_13, 021_15)
    if recent:
        first = rng.end if rng.end is not None else _time_of(instances, max)
        return TemporalAnswer(docs, cut, first, last_n)
    first = rng.start if rng.start is not None else _time_of(instances, min)
    return TemporalAnswer(docs, cut, first)


def _in_scope(conn: Any, tenant: str, rows: list[EntityRow], instances: Instances, test: ScopeTest) -> Instances:
    """The instances observed while their entity's scope matched ``test``."""
    history = fetch_instances(conn, tenant, [r.id for r in rows], [SCOPE_IRI], TimeRange())
    timelines = {}
    for r in rows:
        changes = [(i.ts, _scopes(i.instance.get("value"))) for i in history.get((r.id, SCOPE_IRI), [])]
        timelines[r.id] = ScopeTimeline(changes, r.scope)
    return {
        (eid, attr): [i for i in items if test(timelines[eid].at(i.ts))]
        for (eid, attr), items in instances.items()
        if eid in timelines
    }


def _scopes(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []


def _sees_whole(sight: Sight | None, attr: str) -> bool:
    return sight is None or (sight.sees(attr) and not sight.masks(attr))


def _as_seen(instances: Instances, sights: Mapping[str, Sight]) -> Instances:
    """The instances as the reader sees them: of attributes it may not see left out, masked ones masked."""
    out: Instances = {}
    for (entity_id, attr), items in instances.items():
        sight = sights.get(entity_id)
        if sight is None:
            out[(entity_id, attr)] = items
            continue
        shown = sight.instances(attr, [item.instance for item in items])
        if shown is not None:
            out[(entity_id, attr)] = [item._replace(instance=i) for item, i in zip(items, shown, strict=True)]
    return out


def _time_of(instances: Instances, which: Any) -> int:
    """The first (``min``) or last (``max``) time of the instances kept."""
    return int(which((item.ts for items in instances.values() for item in items), default=0))


def _check_keeper(conn: Any, tenant: str, entity_id: str, writer: Writer, *, changes: bool) -> None:
    """A department changes the history of its own entities only; that of a deleted entity is the city's.
    ``changes`` says whether the write found history to change: where it found none the caller answers
    404, as it would to anyone, and the department is told nothing of whose history it would have been."""
    if not writer.own_only or not changes:
        return
    row = store.fetch_one(conn, tenant, entity_id)
    if row is None:
        raise NotYourEntity(
            f"entity {entity_id} no longer exists, so its history is kept by the city: an operator can change it",
            instance=entity_id,
        )
    refused = writer.refusal(row, entity_id)
    if refused is not None:
        raise refused


def delete_entity_history(
    rt: Runtime, tenant: str, entity_id: str, what: str, *, writer: Writer = CITY, **where: Any
) -> None:
    """Delete the history of an entity (``attr``, ``dataset_id`` narrow it); ResourceNotFound when there is none."""
    check_tenant_for_read(rt, tenant)

    def job(conn: Any) -> int:
        deleted = delete_history(conn, tenant, entity_id, **where)
        _check_keeper(conn, tenant, entity_id, writer, changes=deleted > 0)  # a refusal rolls the delete back
        return deleted

    if not rt.db.run_write(job):
        raise ResourceNotFound(f"there is no history of {what}", instance=entity_id)


def _no_instance(attr: str, entity_id: str, instance_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"attribute {attr} of {entity_id} has no instance {instance_id}", instance=entity_id)


def modify_instance(
    rt: Runtime,
    tenant: str,
    entity_id: str,
    attr: str,
    attr_iri: str,
    instance_id: str,
    fragment: dict[str, Any],
    *,
    writer: Writer = CITY,
) -> None:
    """Merge ``fragment`` into one stored instance of the history (its time and datasetId stay)."""
    check_tenant_for_read(rt, tenant)

    def job(conn: Any) -> bool:
        found = find_instance(conn, tenant, entity_id, attr_iri, instance_id)
        _check_keeper(conn, tenant, entity_id, writer, changes=found is not None)
        if found is None:
            return False
        kept = {k: v for k, v in fragment.items() if k not in ("observedAt", "datasetId")}
        key = (found.dataset_id, *found.key)
        replace_instance(conn, tenant, entity_id, attr_iri, key, merge_instance(found.instance, kept), now_iso())
        return True

    if not rt.db.run_write(job):
        raise _no_instance(attr, entity_id, instance_id)


def delete_instance(
    rt: Runtime, tenant: str, entity_id: str, attr: str, attr_iri: str, instance_id: str, *, writer: Writer = CITY
) -> None:
    """Delete one stored instance of the history."""
    check_tenant_for_read(rt, tenant)

    def job(conn: Any) -> int:
        found = find_instance(conn, tenant, entity_id, attr_iri, instance_id)
        _check_keeper(conn, tenant, entity_id, writer, changes=found is not None)
        if found is None:
            return 0
        return delete_history(conn, tenant, entity_id, attr=attr_iri, dataset_id=found.dataset_id, instance=found.key)

    if not rt.db.run_write(job):
        raise _no_instance(attr, entity_id, instance_id)
