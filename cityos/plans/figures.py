"""Reading the plans' figures from the packages that own the data, and writing them to the data hub as one
entity (urn:ngsi-ld:PlanFigures:district), whose attributes the vital-signs engine's plan indicators aggregate."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence, Sized
from datetime import datetime, timedelta
from typing import Any

from cityos import context as hub
from cityos.core.timefmt import format_ts
from cityos.plans.definitions import ENTITY_ID, ENTITY_TYPE, Figure, PlanIndicator
from cityos.runtime import Runtime

log = logging.getLogger(__name__)


def pick(answer: Any, path: str | None) -> float | None:
    """The number at ``path`` (dotted attributes or keys) of a face function's answer; a collection counts its
    members; None stays None (a rate with nothing to divide)."""
    found = answer
    for part in path.split(".") if path else ():
        found = found.get(part) if isinstance(found, Mapping) else getattr(found, part)
    if found is None:
        return None
    if isinstance(found, bool):
        return 1.0 if found else 0.0
    if isinstance(found, int | float):
        return float(found)
    if isinstance(found, Sized) and not isinstance(found, str):
        return float(len(found))
    raise TypeError(f"{path or 'the answer'} is a {type(found).__name__}, not a number or a collection")


def _call(rt: Runtime, tenant: str, figure: Figure, now: datetime) -> Any:
    f = figure.function()
    return f(rt, tenant, since=now - timedelta(days=figure.days)) if figure.days else f(rt, tenant)


def read_figures(rt: Runtime, tenant: str, entries: Sequence[PlanIndicator], now: datetime) -> dict[str, float]:
    """Each figure now, by indicator id: one call per function and period, however many figures read its answer.
    A figure whose package fails is left out (logged) and the others are still read; one that is None (a
    rate of nothing yet) is left out too."""
    answers: dict[tuple[str, int | None], Any] = {}
    out: dict[str, float] = {}
    for e in entries:
        figure = e.figure
        if figure is None:
            continue
        key = (figure.call, figure.days)
        try:
            if key not in answers:
                answers[key] = _call(rt, tenant, figure, now)
            value = pick(answers[key], figure.value)
        except Exception:
            log.exception("plan figure %s (%s) could not be read", e.indicator.id, figure.call)
            continue
        if value is not None:
            out[e.indicator.id] = value
    return out


def write_figures(rt: Runtime, tenant: str, figures: Mapping[str, float], now: datetime) -> None:
    """The figures as the attributes of the PlanFigures entity, observed now (their history is the data hub's)."""
    if not figures:
        return
    at = format_ts(now)
    body: dict[str, Any] = {"id": ENTITY_ID, "type": ENTITY_TYPE}
    body.update({name: {"type": "Property", "value": v, "observedAt": at} for name, v in figures.items()})
    tm = hub.core_term_map()
    parsed = hub.parse_entity(body, tm, now=at)
    hub.apply(rt, tenant, [(ENTITY_ID, hub.m_append(parsed, create=True))], creates=True)
