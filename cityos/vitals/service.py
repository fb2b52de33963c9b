"""Use cases of the vitals package: definitions, recording values and warning changes, reading them."""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import Any, Literal

import orjson

from cityos import context as hub
from cityos.bus import Event
from cityos.context import NgsiLdError, core_term_map, parse_entity
from cityos.core.places import place_of
from cityos.core.timefmt import from_ms, now_iso
from cityos.runtime import Runtime
from cityos.vitals import store
from cityos.vitals.definitions import CATEGORIES, Catalogue, Indicator, load_catalogue, load_yaml, validate
from cityos.vitals.engine import Attrs, IndicatorValue, LevelChange
from cityos.vitals.errors import IndicatorNotFound, InvalidDefinition, NoForecast, WarningNotFound
from cityos.vitals.forecast import (
    DAY_MS,
    Forecast,
    PreWarning,
    clipped,
    forecast,
    mase,
    pre_warnings,
    regular,
    season_steps,
)
from cityos.vitals.schemas import (
    BacktestRow,
    CategoryPublic,
    ExpectedLevel,
    ForecastPointPublic,
    ForecastPublic,
    GroupPublic,
    IndicatorSummaryPublic,
    OverviewPublic,
    PlacesPublic,
    PreWarningPublic,
    ValuePublic,
    WarningDetailPublic,
    WarningEventPublic,
    WarningPublic,
)

SHIPPED = Path(__file__).with_name("indicators.yaml")

# --- definitions -------------------------------------------------------------------------------------


def ensure_definitions(rt: Runtime, tenant: str, path: Path = SHIPPED) -> int:
    """Store the shipped definitions for a tenant that has none yet; returns how many were stored."""
    with rt.db.connect() as conn:
        if store.count_definitions(conn, tenant):
            return 0
    if not path.exists():
        return 0
    stamp = path.stat()
    docs = orjson.loads(_catalogue_file(path, stamp.st_mtime_ns, stamp.st_size))
    at = now_iso()
    rt.db.run_write(lambda conn: store.insert_definitions(conn, tenant, docs, at, "cityos"))
    return len(docs)


@functools.lru_cache(maxsize=4)
def _catalogue_file(path: Path, mtime_ns: int, size: int) -> bytes:
    """A catalogue file's indicators, checked, as JSON: read once a process for each version of the file (an
    app's start reads the shipped one, and the tests start an app for each test)."""
    return orjson.dumps([_doc(ind) for ind in load_yaml(path).by_id.values()])


def define_missing(rt: Runtime, tenant: str, docs: list[dict[str, Any]], by: str) -> list[str]:
    """Define the indicators of ``docs`` that the tenant has never had (one an operator changed or retired
    stays as they left it), after the shipped ones; checked with all the others. Returns the ids defined."""
    ensure_definitions(rt, tenant)
    with rt.db.connect() as conn:
        new = [d for d in docs if not store.newest_version(conn, tenant, str(d.get("id")))]
        current = store.live_definitions(conn, tenant)
    if not new:
        return []
    added = [_doc(validate({**d, "version": 1}, where="a new indicator")) for d in new]
    load_catalogue([*current, *added])  # the whole set must still hold together
    at = now_iso()
    rt.db.run_write(lambda conn: store.insert_definitions(conn, tenant, added, at, by))
    ids = [d["id"] for d in added]
    rt.bus.publish([Event("vitals.definitions.changed", ids[0], {"ids": ids, "version": 1}, tenant)])
    return ids


def catalogue(rt: Runtime, tenant: str) -> Catalogue:
    """The live definitions of a tenant."""
    with rt.db.connect() as conn:
        docs = store.live_definitions(conn, tenant)
    return load_catalogue(docs, where=f"stored definitions of tenant {tenant!r}")


def definition(cat: Catalogue, indicator: str) -> Indicator:
    """One indicator of a catalogue; IndicatorNotFound if it has none of that id."""
    ind = cat.by_id.get(indicator)
    if ind is None:
        raise IndicatorNotFound(f"there is no indicator {indicator!r}: GET /vitals/indicators lists them")
    return ind


def put_definition(rt: Runtime, tenant: str, indicator_id: str, doc: Any, by: str | None) -> Indicator:
    """A new version of an indicator (or a new indicator), checked with all the others.

    The version is the next one whatever the body says; the definition must name the same id.
    """
    if not isinstance(doc, dict):
        raise InvalidDefinition("the body must be one indicator definition (a JSON object)")
    if doc.get("id", indicator_id) != indicator_id:
        raise InvalidDefinition(f"the body's id {doc.get('id')!r} differs from the URL's {indicator_id!r}")
    with rt.db.connect() as conn:
        version = store.newest_version(conn, tenant, indicator_id) + 1
        current = store.live_definitions(conn, tenant)
    ind = validate({**doc, "id": indicator_id, "version": version})
    others = [d for d in current if d["id"] != indicator_id]
    load_catalogue([*others, _doc(ind)])  # the whole set must still hold together
    at = now_iso()
    rt.db.run_write(lambda conn: store.insert_definitions(conn, tenant, [_doc(ind)], at, by))
    rt.bus.publish(
        [Event("vitals.definitions.changed", indicator_id, {"id": indicator_id, "version": version}, tenant)]
    )
    return ind


def _doc(ind: Indicator) -> dict[str, Any]:
    return ind.model_dump(mode="json", exclude_none=True)


# --- recording --------------------------------------------------------------------------------------


def record(rt: Runtime, tenant: str, values: list[IndicatorValue], changes: list[LevelChange]) -> list[Event]:
    """Store values and apply changes of level to the warnings, in one transaction; returns the bus
    events to publish once it committed."""
    rows = [(v.indicator, v.scope, v.at_ms, v.value, v.level, v.filling) for v in values]
    events: list[Event] = []

    def job(conn: Any) -> None:
        store.insert_values(conn, tenant, rows)
        for c in changes:
            events.append(_apply_change(conn, tenant, c))

    rt.db.run_write(job)
    return events


def _apply_change(conn: Any, tenant: str, c: LevelChange) -> Event:
    at = from_ms(c.change.at_ms)
    ch = c.change
    active = store.active_warning(conn, tenant, c.indicator, c.scope)
    if active is None:  # raised (or a change after a restart lost the state: treat as raised)
        warning_id = str(uuid.uuid4())
        store.insert_warning(
            conn,
            {
                "id": warning_id,
                "tenant": tenant,
                "indicator": c.indicator,
                "scope": c.scope,
                "level": ch.new,
                "peak_level": ch.new,
                "value": c.value,
                "active": 1 if ch.new else 0,
                "raised_at": at,
                "updated_at": at,
                "cleared_at": None if ch.new else at,
            },
        )
        kind = "raised" if ch.new else "cleared"
    else:
        warning_id = active.id
        changes: dict[str, Any] = {"level": ch.new or active.level, "value": c.value, "updated_at": at}
        if ch.new == 0:
            changes.update(active=0, cleared_at=at)
        changes["peak_level"] = max(active.peak_level, ch.new)
        store.update_warning(conn, warning_id, **changes)
        kind = ch.kind
    store.add_event(
        conn, warning_id, {"at": at, "kind": kind, "old_level": ch.old, "new_level": ch.new, "value": c.value}
    )
    data = {
        "warningId": warning_id,
        "indicator": c.indicator,
        "scope": c.scope,
        "kind": kind,
        "oldLevel": ch.old,
        "newLevel": ch.new,
        "value": c.value,
        "at": at,
    }
    return Event(f"warning.{kind}", warning_id, data, tenant)


# --- indicator values as NGSI-LD entities --------------------------------------------------------------

KPI_TYPE = "KeyPerformanceIndicator"  # the Smart Data Model of an indicator's value


def kpi_id(indicator: str, scope: str) -> str:
    """``urn:ngsi-ld:KeyPerformanceIndicator:<indicator>:<scope type>:<scope id>`` (or ``:district``)."""
    parts = scope.split(":")
    local = ":".join(parts[2:]) if scope.startswith("urn:ngsi-ld:") and len(parts) > 3 else scope
    return f"urn:ngsi-ld:{KPI_TYPE}:{indicator}:{local}"


def mirror_values(rt: Runtime, tenant: str, cat: Catalogue, values: list[IndicatorValue]) -> None:
    """Write the latest stored value of each indicator and group to the data hub as a
    KeyPerformanceIndicator entity (its kpiValue history included), so that NGSI-LD queries,
    subscriptions and temporal clients see the vital signs as they see any city thing."""
    latest: dict[tuple[str, str], IndicatorValue] = {}
    for v in values:
        if v.value is not None:
            latest[(v.indicator, v.scope)] = v
    tm = core_term_map()
    now = now_iso()
    ops = []
    for (indicator, scope), v in sorted(latest.items()):
        ind = cat.by_id.get(indicator)
        if ind is None:
            continue
        body = _kpi_body(ind, scope, v)
        ops.append((body["id"], hub.m_append(parse_entity(body, tm, now=now), create=True)))
    if ops:
        hub.apply(rt, tenant, ops, creates=True)


def _kpi_body(ind: Indicator, scope: str, v: IndicatorValue) -> dict[str, Any]:
    at = from_ms(v.at_ms)
    formula = ind.formula or (f"{ind.aggregation} of {ind.source.attr}" if ind.source else "")
    body: dict[str, Any] = {
        "id": kpi_id(ind.id, scope),
        "type": KPI_TYPE,
        "name": {"type": "Property", "value": ind.name.en},
        "alternateName": {"type": "Property", "value": ind.name.zh},
        "category": {"type": "Property", "value": ["quantitative", ind.category]},
        "calculationMethod": {"type": "Property", "value": "automatic"},
        "calculationFormula": {"type": "Property", "value": formula},
        "kpiValue": {
            "type": "Property",
            "value": v.value,
            "observedAt": at,
            "unitText": {"type": "Property", "value": ind.unit},
        },
        "warningLevel": {"type": "Property", "value": v.level, "observedAt": at},
        "organization": {"type": "Property", "value": "cityos vitals"},
    }
    if v.start_ms is not None:
        body["calculationPeriod"] = {"type": "Property", "value": {"from": from_ms(v.start_ms), "to": at}}
    if scope.startswith("urn:"):
        body["refScope"] = {"type": "Relationship", "object": scope}
    return body


# --- warnings ----------------------------------------------------------------------------------------


def active_levels(rt: Runtime, tenant: str) -> list[Any]:
    """The active warnings (indicator, scope, level), to start an engine from."""
    with rt.db.connect() as conn:
        return store.active_warnings(conn, tenant)


def _warning_row(conn: Any, tenant: str, warning_id: str) -> Any:
    """The tenant's warning of that id; WarningNotFound if it has none."""
    row = store.get_warning(conn, warning_id)
    if row is None or row.tenant != tenant:
        raise WarningNotFound(f"there is no warning {warning_id!r}: GET /vitals/warnings lists them")
    return row


def get_warning(rt: Runtime, tenant: str, warning_id: str) -> WarningDetailPublic:
    """One warning with its history (level changes, acknowledgements, comments)."""
    with rt.db.connect() as conn:
        row = _warning_row(conn, tenant, warning_id)
        events = store.events_of(conn, warning_id)
    return WarningDetailPublic(**dict(_warning(row)), history=[_event(e) for e in events])


def list_warnings(
    rt: Runtime,
    tenant: str,
    *,
    active: bool | None = True,
    indicator: str | None = None,
    scope: str | None = None,
    min_level: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[WarningPublic], int]:
    """A page of the tenant's warnings, most severe first, and how many there are in all.
    ``active``: only active (True) or only cleared (False) ones, or both (None)."""
    with rt.db.connect() as conn:
        rows, total = store.list_warnings(conn, tenant, active=active, indicator=indicator, scope=scope,
                                          min_level=min_level, limit=limit, offset=offset)  # fmt: skip
    return [_warning(r) for r in rows], total


def acknowledge(rt: Runtime, tenant: str, warning_id: str, actor: str) -> WarningDetailPublic:
    """Note who acknowledged a warning and when (again: the first acknowledgement stays)."""
    at = now_iso()

    def job(conn: Any) -> None:
        row = _warning_row(conn, tenant, warning_id)
        if row.acknowledged_at is None:
            store.update_warning(conn, warning_id, acknowledged_by=actor, acknowledged_at=at)
        store.add_event(conn, warning_id, {"at": at, "kind": "acknowledged", "actor": actor})

    rt.db.run_write(job)
    rt.bus.publish([Event("warning.acknowledged", warning_id, {"warningId": warning_id, "by": actor}, tenant)])
    return get_warning(rt, tenant, warning_id)


def comment(rt: Runtime, tenant: str, warning_id: str, actor: str, text: str) -> WarningDetailPublic:
    """Add a comment to a warning's history."""
    at = now_iso()

    def job(conn: Any) -> None:
        _warning_row(conn, tenant, warning_id)
        store.add_event(conn, warning_id, {"at": at, "kind": "comment", "actor": actor, "text": text})

    rt.db.run_write(job)
    return get_warning(rt, tenant, warning_id)


def _warning(row: Any) -> WarningPublic:
    return WarningPublic(
        id=row.id,
        indicator=row.indicator,
        scope=row.scope,
        level=row.level,
        peak_level=row.peak_level,
        value=row.value,
        active=bool(row.active),
        raised_at=row.raised_at,
        updated_at=row.updated_at,
        cleared_at=row.cleared_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
    )


def _event(e: Any) -> WarningEventPublic:
    return WarningEventPublic(at=e.at, kind=e.kind, old_level=e.old_level, new_level=e.new_level, value=e.value,
                              actor=e.actor or None, text=e.text or None)  # fmt: skip


# --- propagation ------------------------------------------------------------------------------------


def places(rt: Runtime, tenant: str) -> PlacesPublic:
    """Each place's worst active warning level, its own or one below it: a unit's warning shows on
    its grid, its street and the district (units and grids name theirs by refGrid and refStreet)."""
    ups: dict[str, list[tuple[str, str]]] = {}

    def parents_of(place: str) -> list[tuple[str, str]]:
        if place not in ups:
            where = place_of(entity_attrs(rt, tenant, place) or {})
            ups[place] = [(kind, up) for kind, up in (("grids", where.grid), ("streets", where.street)) if up]
        return ups[place]

    cat = catalogue(rt, tenant)
    levels: dict[str, dict[str, int]] = {"units": {}, "grids": {}, "streets": {}}
    district = 0
    with rt.db.connect() as conn:
        rows = store.active_warnings(conn, tenant)
    for w in rows:
        district = max(district, w.level)
        ind = cat.by_id.get(w.indicator)
        kind = _KINDS.get(ind.scope.level) if ind else None
        if kind is None:  # district-wide or a polygon: the district's level only
            continue
        for k, place in [(kind, w.scope), *parents_of(w.scope)]:
            levels[k][place] = max(levels[k].get(place, 0), w.level)
    return PlacesPublic(district=district, units=levels["units"], grids=levels["grids"], streets=levels["streets"])


_KINDS = {"unit": "units", "grid": "grids", "street": "streets"}


def entity_attrs(rt: Runtime, tenant: str, entity_id: str) -> Attrs | None:
    """An entity's current attributes from the data hub, or None if it does not exist."""
    try:
        return hub.get_entity(rt, tenant, entity_id).attrs
    except NgsiLdError:
        return None


# --- reading values ----------------------------------------------------------------------------------


def history(
    rt: Runtime, tenant: str, indicator: str, scope: str | None, since_ms: int, limit: int
) -> list[ValuePublic]:
    """The newest ``limit`` stored values of an indicator since ``since_ms`` (of one group, or of all),
    oldest first."""
    with rt.db.connect() as conn:
        rows = store.value_history(conn, tenant, indicator, scope, since_ms, limit)
    return [ValuePublic(scope=r.scope, at=from_ms(r.at_ms), value=r.value, level=r.level, filling=r.filling)
            for r in reversed(rows)]  # fmt: skip


def overview(rt: Runtime, tenant: str, cat: Catalogue, *, sparkline: int = 24) -> OverviewPublic:
    """The district's vital signs by category: each indicator's groups with value, level, trend, sparkline."""
    with rt.db.connect() as conn:
        recent = store.recent_values(conn, tenant, sparkline)  # the newest values of every group, newest first
    by_indicator: dict[str, list[list[Any]]] = {}
    for (indicator, _scope), rows in recent.items():
        by_indicator.setdefault(indicator, []).append(rows)
    by_category: dict[str, list[IndicatorSummaryPublic]] = {c: [] for c in CATEGORIES}
    for ind_id in cat.order:
        ind = cat.by_id[ind_id]
        newest = sorted(by_indicator.get(ind_id, []), key=lambda rows: (-rows[0].level, rows[0].scope))
        groups = [_group(rows) for rows in newest]
        worst = max((g.level for g in groups), default=0)
        summary = IndicatorSummaryPublic(
            id=ind_id, name_zh=ind.name.zh, name_en=ind.name.en, unit=ind.unit, level=worst, groups=groups
        )
        by_category[ind.category].append(summary)
    return OverviewPublic(
        categories=[
            CategoryPublic(id=c, name_zh=zh, name_en=en, indicators=inds, level=max(i.level for i in inds))
            for c, (zh, en) in CATEGORIES.items()
            if (inds := by_category[c])
        ]
    )


def _group(rows: list[Any]) -> GroupPublic:
    """A group of the overview from its newest values, newest first. Values of windows still filling
    are left out of the trend and the sparkline: a window filling up is no rise."""
    r, series = rows[0], [x.value if x.filling is None else None for x in reversed(rows)]
    trend: Literal["up", "down", "steady", "filling"] = "filling" if r.filling is not None else _trend(series)
    return GroupPublic(scope=r.scope, value=r.value, at=from_ms(r.at_ms), level=r.level, trend=trend,
                       filling=r.filling, sparkline=series)  # fmt: skip


def _trend(series: list[float | None]) -> Literal["up", "down", "steady"]:
    """up, down or steady: the last value against the mean of the ones before it (±5%)."""
    vals = [v for v in series if v is not None]
    if len(vals) < 3:
        return "steady"
    before = sum(vals[:-1]) / (len(vals) - 1)
    if vals[-1] > before * 1.05 + 1e-9:
        return "up"
    if vals[-1] < before * 0.95 - 1e-9:
        return "down"
    return "steady"


# --- forecasts ----------------------------------------------------------------------------------------

HISTORY_DAYS = 28  # stored values a forecast or backtest reads


def series(rt: Runtime, tenant: str, indicator: str, scope: str, now_ms: int) -> list[tuple[int, float]]:
    """The stored values of one indicator in one group over the last HISTORY_DAYS, oldest first; values of
    windows that were still filling are left out (a window filling up is no rise to forecast)."""
    since = now_ms - HISTORY_DAYS * DAY_MS
    with rt.db.connect() as conn:
        rows = store.value_history(conn, tenant, indicator, scope, since, 1_000_000)
    return [(r.at_ms, r.value) for r in reversed(rows) if r.value is not None and r.filling is None]


def forecast_of(rt: Runtime, tenant: str, cat: Catalogue, indicator: str, scope: str, now_ms: int) -> ForecastPublic:
    """The forecast of an indicator in one group, with the pre-warnings it gives, if any."""
    fc, pws = _forecast(rt, tenant, cat, indicator, scope, now_ms)
    return ForecastPublic(
        indicator=indicator,
        scope=scope,
        method=fc.method,
        step_seconds=fc.step_ms // 1000,
        points=[
            ForecastPointPublic(at=from_ms(p.at_ms), mean=p.mean, lo80=p.lo80, hi80=p.hi80, lo95=p.lo95, hi95=p.hi95)
            for p in fc.points
        ],
        pre_warnings=[
            ExpectedLevel(level=pw.level, at=from_ms(pw.at_ms), probability=round(pw.probability, 3)) for pw in pws
        ],
    )


def _forecast(
    rt: Runtime, tenant: str, cat: Catalogue, indicator: str, scope: str, now_ms: int
) -> tuple[Forecast, list[PreWarning]]:
    ind = definition(cat, indicator)
    if ind.forecast is None:
        raise NoForecast(f"indicator {indicator!r} has no forecast settings: add forecast to its definition")
    horizon_ms = int(ind.forecast.horizon.total_seconds() * 1000)
    known = series(rt, tenant, indicator, scope, now_ms)
    raw = forecast(known, step_ms=forecast_step(horizon_ms),
                   horizon_ms=horizon_ms, seasonality=ind.forecast.seasonality, now_ms=now_ms)  # fmt: skip
    fc = clipped(raw, *ind.value_range())
    if ind.thresholds is None or not known:  # nothing from a full window yet: no pre-warning from nothing
        return fc, []
    with rt.db.connect() as conn:
        active = store.active_warning(conn, tenant, indicator, scope)
    return fc, pre_warnings(raw, ind.thresholds, active.level if active else 0)  # likelihoods from the uncut bands


def forecast_targets(rt: Runtime, tenant: str, cat: Catalogue) -> list[tuple[str, str, int]]:
    """(indicator, group, refresh interval in ms) of every group of an indicator with both a forecast and
    thresholds: the ones a pre-warning can come from. Refreshed once per forecast step."""
    out = []
    with rt.db.connect() as conn:
        for ind_id in cat.order:
            ind = cat.by_id[ind_id]
            if ind.forecast is None or ind.thresholds is None:
                continue
            step = forecast_step(int(ind.forecast.horizon.total_seconds() * 1000))
            out += [(ind_id, scope, step) for scope in store.scopes_of(conn, tenant, ind_id)]
    return out


def refresh_prewarnings(
    rt: Runtime, tenant: str, cat: Catalogue, indicator: str, scope: str, now_ms: int
) -> list[Event]:
    """Forecast one group again and keep its pre-warnings; the bus events of the levels that newly
    appear (``prewarning.raised``) or are no longer foreseen (``prewarning.cleared``), to publish."""
    fc, pws = _forecast(rt, tenant, cat, indicator, scope, now_ms)
    issued = from_ms(now_ms)
    rows: list[dict[str, Any]] = [
        {"level": pw.level, "expected_at": from_ms(pw.at_ms), "probability": round(pw.probability, 3),
         "method": fc.method, "issued_at": issued}
        for pw in pws
    ]  # fmt: skip
    before: dict[int, Any] = {}

    def job(conn: Any) -> None:
        before.update({r.level: r for r in store.prewarnings_of(conn, tenant, indicator, scope)})
        store.replace_prewarnings(conn, tenant, indicator, scope, rows)

    rt.db.run_write(job)
    events = []
    for r in rows:
        if r["level"] not in before:
            raised = PreWarningPublic(indicator=indicator, scope=scope, method=fc.method, issued_at=issued,
                                      level=r["level"], at=r["expected_at"], probability=r["probability"])  # fmt: skip
            events.append(Event("prewarning.raised", f"{indicator}|{scope}", raised.model_dump(), tenant))
    for level in sorted(set(before) - {r["level"] for r in rows}):
        data = {"indicator": indicator, "scope": scope, "level": level, "issuedAt": issued}
        events.append(Event("prewarning.cleared", f"{indicator}|{scope}", data, tenant))
    return events


def list_prewarnings(rt: Runtime, tenant: str, indicator: str | None = None) -> list[PreWarningPublic]:
    """The pre-warnings in force (of one indicator, or of all), most severe first."""
    with rt.db.connect() as conn:
        rows = store.prewarnings_of(conn, tenant, indicator)
    return [PreWarningPublic(indicator=r.indicator, scope=r.scope, method=r.method, issued_at=r.issued_at,
                             level=r.level, at=r.expected_at, probability=round(r.probability, 3))
            for r in rows]  # fmt: skip


def forecast_step(horizon_ms: int) -> int:
    """A twelfth of the horizon, rounded to whole minutes (at least one)."""
    return max(60_000, horizon_ms // 12 // 60_000 * 60_000)


def backtest(
    rt: Runtime, tenant: str, cat: Catalogue, indicator: str, scope: str | None, now_ms: int
) -> list[BacktestRow]:
    """MASE against seasonal naive over the stored history, per group (the groups with enough of it)."""
    ind = definition(cat, indicator)
    horizon_ms = int(ind.forecast.horizon.total_seconds() * 1000) if ind.forecast else 3_600_000
    seasonality = ind.forecast.seasonality if ind.forecast else ("daily",)
    step_ms = forecast_step(horizon_ms)
    with rt.db.connect() as conn:
        groups = store.scopes_of(conn, tenant, indicator)
    out = []
    for group in [scope] if scope else groups:
        _start, y = regular(series(rt, tenant, indicator, group, now_ms), step_ms, now_ms)
        season = season_steps(seasonality, step_ms, len(y)) or DAY_MS // step_ms
        score = mase(y, max(1, horizon_ms // step_ms), season)
        out.append(BacktestRow(scope=group, points=len(y), step_seconds=step_ms // 1000, mase=score))
    return out
