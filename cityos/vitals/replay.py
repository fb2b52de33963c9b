"""Indicator values computed from a past stretch of observations (a demo's warm start, a backfill).

The engine runs quietly (no warnings) over time-ordered steps of observations; at the end of each
step every group's value is stored, unless its window is still filling. The observations may come
from a sample of a type's entities (a few per place instead of thousands): values of counts, distinct
counts and sums are then scaled by how many entities of the type the group holds over how many of them
the sample has there, so that a group's history matches what all its entities give. A sum is the
caller's to weight (each sampled value times how many entities it stands for), since a derived indicator
reads the sum inside the engine; averages, extremes and ratios of two counts need neither. A type
whose observations are a tally of all its entities (each observation standing for how many of them
reported the same, ``Observed``'s last member) is not scaled: its counts are whole already.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from cityos.context import EntityQuery, core_term_map, query_entities
from cityos.core.places import Place
from cityos.runtime import Runtime
from cityos.vitals import service, store
from cityos.vitals.definitions import Indicator
from cityos.vitals.diagnose import STEP_MS as DIAGNOSIS_STEP_MS
from cityos.vitals.engine import POLYGON, Attrs, Engine

# (entity id, entity type IRI, attributes: attribute IRI -> instances with observedAt, how many equal reports
# it stands for: 1 for one device's reading, more for a tally of a place's devices that reported the same)
Observed = tuple[str, str, Attrs, int]
SCALED = ("count", "distinct")  # aggregations of how many entities: scaled to the whole group
PAGE = 1000
BATCH = 50_000  # value rows per write


@dataclass
class ReplayReport:
    steps: int = 0
    observations: int = 0
    values: int = 0
    sampled: dict[str, int] = field(default_factory=dict)  # type IRI -> entities observed


def newest_value_ms(rt: Runtime, tenant: str) -> int | None:
    """When the newest stored indicator value of the tenant was computed (None: none stored)."""
    with rt.db.connect() as conn:
        return store.newest_value_ms(conn, tenant)


def replay(
    rt: Runtime,
    tenant: str,
    steps: Iterable[tuple[int, list[Observed]]],
    *,
    keep_from_ms: int,
    count_weights: Mapping[str, float] | None = None,
    tallied: Collection[str] = (),
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Run the tenant's indicators over ``steps`` ((step end in ms, its observations), in time order) and store
    each group's value at each step end from ``keep_from_ms`` on (every :func:`history_step_ms`); start the
    steps a longest window before it, so that the windows are full by then. ``count_weights``: type IRI ->
    how many readings each one observed stands for in a count of readings (its entities were made to report
    less often than they do). ``tallied``: type IRIs whose observations tally every entity of the type (their
    counts are not scaled). A value stored already for a group and time is left alone."""
    service.ensure_definitions(rt, tenant)
    cat = service.catalogue(rt, tenant)
    engine = Engine(cat, partial(service.entity_attrs, rt, tenant))
    engine.quiet = True  # the past is told, not warned about
    population = _population(rt, tenant, engine)
    every = {ind_id: history_step_ms(ind) for ind_id, ind in cat.by_id.items()}
    seen: dict[str, set[str]] = {}
    factors: dict[tuple[str, str], float] = {}
    report = ReplayReport()
    rows: list[tuple[str, str, int, float, int]] = []
    for at_ms, observed in steps:
        for entity_id, type_iri, attrs, times in observed:
            seen.setdefault(type_iri, set()).add(entity_id)
            engine.take(entity_id, [type_iri], attrs, times=times)
        engine.advance(at_ms)
        report.steps += 1
        report.observations += len(observed)
        if at_ms >= keep_from_ms:
            for key, value in engine.latest.items():
                if at_ms % every[key[0]] or value is None or engine.filling.get(key) is not None:
                    continue
                factor = factors.get(key)
                if factor is None:
                    ind = cat.by_id[key[0]]
                    factor = _factor(ind, key[1], population, seen, tallied)
                    if ind.aggregation == "count" and ind.source is not None and count_weights:
                        factor *= count_weights.get(core_term_map().expand(ind.source.entityType), 1.0)
                    factors[key] = factor
                rows.append((key[0], key[1], at_ms, value * factor, 0))
        if len(rows) >= BATCH:
            report.values += _store(rt, tenant, rows)
            rows = []
        if progress is not None:
            progress(1)
    report.values += _store(rt, tenant, rows)
    report.sampled = {t: len(ids) for t, ids in seen.items()}
    return report


def history_step_ms(ind: Indicator) -> int:
    """How often a replayed history keeps an indicator's value: the step of its forecast, or the grid its
    anomaly baseline is scored on (the coarser of the two is enough for both; the live engine stores a
    value a minute)."""
    step = DIAGNOSIS_STEP_MS
    if ind.forecast is not None:
        step = min(step, service.forecast_step(int(ind.forecast.horizon.total_seconds() * 1000)))
    return step


def _store(rt: Runtime, tenant: str, rows: list[tuple[str, str, int, float, int]]) -> int:
    if rows:
        rt.db.run_write(lambda conn: store.insert_values(conn, tenant, rows))
    return len(rows)


def _population(rt: Runtime, tenant: str, engine: Engine) -> dict[str, dict[str, Place]]:
    """Every entity of the types the indicators read, with its place (the engine learns them too)."""
    tm = core_term_map()
    out: dict[str, dict[str, Place]] = {}
    for type_iri in sorted(engine.types):
        offset = 0
        while True:
            rows = query_entities(rt, tenant, EntityQuery(type=type_iri, limit=PAGE, offset=offset), tm).rows
            for row in rows:
                engine.prime(row.id, row.attrs)
                out.setdefault(type_iri, {})[row.id] = engine.places[row.id]
            if len(rows) < PAGE:
                break
            offset += PAGE
    return out


def _factor(
    ind: Indicator, group: str, population: dict[str, dict[str, Place]], seen: dict[str, set[str]],
    tallied: Collection[str],
) -> float:  # fmt: skip
    """How many of the group's entities each sampled one stands for, for a count or distinct count."""
    if ind.source is None or ind.aggregation not in SCALED or ind.scope.level == POLYGON:
        return 1.0
    type_iri = core_term_map().expand(ind.source.entityType)
    if type_iri in tallied:
        return 1.0
    places = population.get(type_iri, {})
    level = ind.scope.level
    everyone = sum(1 for p in places.values() if p.key(level) == group)
    sampled = sum(1 for e in seen.get(type_iri, ()) if e in places and places[e].key(level) == group)
    return everyone / sampled if sampled and everyone else 1.0
