"""Service functions of anomaly diagnosis: an indicator's stored values and its sensors' history, scored
by :mod:`cityos.vitals.anomaly`."""

from __future__ import annotations

import numpy as np

from cityos.context import EntityQuery, attribute_history, core_term_map, query_entities
from cityos.core.places import REF_TERMS
from cityos.runtime import Runtime
from cityos.vitals import service
from cityos.vitals.anomaly import Diagnosis, Score, SensorDiagnosis, basis, diagnose, pattern, score, unjudged
from cityos.vitals.definitions import Catalogue, Indicator
from cityos.vitals.forecast import DAY_MS, regular
from cityos.vitals.schemas import BaselineReason, DiagnosisPublic, NoDiagnosisPublic, SensorDiagnosisPublic

STEP_MS = 15 * 60_000  # the grid values and readings are put on for scoring
DAY_STEPS = DAY_MS // STEP_MS
MAX_SENSORS = 60  # sensors scored per diagnosis, in id order
READINGS = 1500  # latest readings read per sensor
SHOWN = 10  # sensors in the answer: those that depart most


def diagnosis(
    rt: Runtime, tenant: str, cat: Catalogue, indicator: str, scope: str, now_ms: int
) -> DiagnosisPublic | NoDiagnosisPublic:
    """Is the indicator's latest value in this group anomalous, and is it the city or a sensor?"""
    ind = service.definition(cat, indicator)
    own = _indicator_score(rt, tenant, indicator, scope, now_ms)
    sensors: list[SensorDiagnosis] = []
    for base in _bases(cat, ind):
        sensors += _sensor_scores(rt, tenant, base, scope, now_ms)
    if own is None:
        shown = [_public_sensor(s) for s in sensors[:SHOWN]]
        return NoDiagnosisPublic(indicator=indicator, scope=scope, verdict="unknown", anomalous=False,
                                 explanation="no stored values yet", sensors=shown)  # fmt: skip
    return _public(indicator, scope, diagnose(own, sensors))


def _indicator_score(rt: Runtime, tenant: str, indicator: str, scope: str, now_ms: int) -> Score | None:
    known = service.series(rt, tenant, indicator, scope, now_ms)
    _, y = regular(known, STEP_MS, now_ms)
    s = score(y, DAY_STEPS) if len(y) else None
    return None if s is None else unjudged(s, basis([t for t, _ in known], now_ms, STEP_MS))


def _bases(cat: Catalogue, ind: Indicator) -> list[Indicator]:
    """The base indicators an indicator reads, itself if it is one."""
    if ind.source is not None:
        return [ind]
    out: list[Indicator] = []
    for name in cat.inputs_of(ind.id):
        out += [b for b in _bases(cat, cat.by_id[name]) if b not in out]
    return out


def _sensor_scores(rt: Runtime, tenant: str, ind: Indicator, scope: str, now_ms: int) -> list[SensorDiagnosis]:
    """Each source entity of the group scored on its own history of the indicator's attribute."""
    assert ind.source is not None
    tm = core_term_map()
    ref = REF_TERMS.get(ind.scope.level)
    q = f'{ref}=="{scope}"' if ref else None
    rows = query_entities(rt, tenant, EntityQuery(type=ind.source.entityType, q=q, limit=MAX_SENSORS), tm).rows
    attr = tm.expand(ind.source.attr)
    found = attribute_history(rt, tenant, [r.id for r in rows], [attr], None, now_ms + 1, last_n=READINGS)
    out = []
    for (entity, _attr), items in sorted(found.items()):
        raw = [(i.ts, float(i.instance["value"])) for i in items if isinstance(i.instance.get("value"), int | float)]
        if len(raw) < 2:
            continue
        _, y = regular(raw, STEP_MS, now_ms)
        season = DAY_STEPS if len(y) > 2 * DAY_STEPS else None  # without a day and more: no daily baseline
        s = score(y, season)
        if s is not None:
            s = unjudged(s, basis([t for t, _ in raw], now_ms, STEP_MS))
            out.append(SensorDiagnosis(entity, s, pattern([v for _, v in raw], y, season, s)))
    return out


def _public(indicator: str, scope: str, d: Diagnosis) -> DiagnosisPublic:
    return DiagnosisPublic(
        indicator=indicator,
        scope=scope,
        value=d.score.value,
        baseline=d.score.baseline,
        z=_round(d.score.z),
        baseline_status=d.score.basis.status,
        baseline_reason=_reason(d.score),
        anomalous=d.anomalous,
        verdict=d.verdict,
        explanation=d.explanation,
        sensors=[_public_sensor(s) for s in d.sensors[:SHOWN]],  # ranked: those that depart most first
    )


def _public_sensor(s: SensorDiagnosis) -> SensorDiagnosisPublic:
    return SensorDiagnosisPublic(entity=s.entity, value=s.score.value, baseline=s.score.baseline,
                                 z=_round(s.score.z), pattern=s.pattern, baseline_status=s.score.basis.status,
                                 baseline_reason=_reason(s.score))  # fmt: skip


def _reason(s: Score) -> BaselineReason | None:
    b = s.basis
    return None if b.ok else BaselineReason(zh=b.reason_zh or b.status, en=b.reason_en or b.status)


def _round(z: float | None) -> float | None:
    return None if z is None or not np.isfinite(z) else round(z, 2)
