"""New Year's Eve at the Bund: the simulator's crowd climbs through all four levels and back, and the
forecast's pre-warning of 橙 (orange) comes at least 15 minutes before the engine raises it.

The Bund's 88 crowd counters report every 2 minutes through the shipped indicators (``bund_people``, a
5-minute sliding sum, and ``bund_crowd_density``); the forecast runs every 5 minutes as the runner's
refresh does, on the stored history of the density (one value a minute)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cityos.context.jsonld import core_term_map
from cityos.core.timefmt import from_ms
from cityos.demo.district import BUND, build_district
from cityos.demo.patterns import BUND_UNIT, reading
from cityos.vitals.definitions import Catalogue, load_yaml
from cityos.vitals.engine import Engine
from cityos.vitals.forecast import forecast, pre_warnings
from cityos.vitals.service import SHIPPED, forecast_step

TM = core_term_map()
CROWD = [TM.expand("CrowdFlowObserved")]
PEOPLE = TM.expand("peopleCount")
ORANGE = 3
MIN_MS = 60_000
ROUND_MS = 2 * MIN_MS  # how often each counter reports
# 18:00 in Shanghai on the last day of the 2026 Spring Festival holiday: the week before is holidays too,
# so the seasonal history is of the same kind of day and only the countdown crowd departs from it.
EVENING = datetime(2026, 2, 22, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    shipped = load_yaml(SHIPPED)
    return Catalogue(shipped.by_id[i] for i in ("bund_people", "bund_crowd_density"))


@pytest.fixture(scope="module")
def counters() -> dict[str, dict[str, Any]]:
    """The Bund's crowd counters: entity id -> the attributes the engine places them by."""
    out = {}
    for e in build_district():
        if e["type"] == "CrowdFlowObserved" and e.get("refUnit", {}).get("object") == BUND:
            out[e["id"]] = {TM.expand(k): [e[k]] for k in ("refUnit", "refGrid", "location")}
    return out


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def density_history(catalogue: Catalogue, counters: dict[str, Any], days: int) -> list[tuple[int, float]]:
    """The stored density of the ``days`` before the evening (ordinary holiday days), every 5 minutes:
    one 5-minute reading of each counter is what the 5-minute window sums."""
    ind = catalogue.by_id["bund_crowd_density"]
    formula = catalogue.formulas[ind.id]
    rng = random.Random(11)
    out = []
    for step_n in range(days * 288):
        at = EVENING - timedelta(days=days) + timedelta(minutes=5 * step_n)
        people = sum(reading("CrowdFlowObserved", key(c), at, "normal", rng, hot_spot=True)["n"] for c in counters)
        value = formula.evaluate({**ind.constants, "bund_people": people})
        assert value is not None
        out.append((ms(at), value))
    return out


def key(entity_id: str) -> str:
    return entity_id.rsplit(":", 1)[-1]  # the simulator's device key is the entity's id part


def run_the_evening(catalogue: Catalogue, counters: dict[str, Any], history: list[tuple[int, float]]) -> dict:
    """Eight hours from 18:00, each counter reporting every 2 minutes, the counters spread over those
    minutes as the simulator's round does; the levels the engine raises and the first forecast (every
    5 minutes, on the density stored once a minute) that pre-warns of orange."""
    engine = Engine(catalogue, counters.get)
    density = catalogue.by_id["bund_crowd_density"]
    assert density.forecast is not None and density.thresholds is not None
    horizon_ms = int(density.forecast.horizon.total_seconds() * 1000)
    rng = random.Random(2014)
    series = list(history)
    changes, first_pre_warning = [], None
    ids = sorted(counters)
    spacing_ms = ROUND_MS // len(ids)
    for round_n in range(8 * 60 * MIN_MS // ROUND_MS):
        for i, entity_id in enumerate(ids):
            at_ms = ms(EVENING) + round_n * ROUND_MS + i * spacing_ms
            if at_ms % MIN_MS < spacing_ms:  # a minute began: store the value, and forecast every 5 minutes
                stored_at = at_ms - at_ms % MIN_MS
                series.append((stored_at, engine.latest.get((density.id, BUND)) or 0.0))
                held = engine.levels[(density.id, BUND)].level if (density.id, BUND) in engine.levels else 0
                if first_pre_warning is None and held < ORANGE and stored_at % (5 * MIN_MS) == 0:
                    fc = forecast(series, step_ms=forecast_step(horizon_ms), horizon_ms=horizon_ms,
                                  seasonality=density.forecast.seasonality, now_ms=stored_at)  # fmt: skip
                    ahead = [p for p in pre_warnings(fc, density.thresholds, held) if p.level >= ORANGE]
                    if ahead:
                        first_pre_warning = (stored_at, ahead[0], fc.method)
            n = reading("CrowdFlowObserved", key(entity_id), datetime.fromtimestamp(at_ms / 1000, UTC),
                        "bund-new-year", rng, hot_spot=True, spot=BUND, interval_s=ROUND_MS / 1000)["n"]  # fmt: skip
            _, ch = engine.observe(entity_id, CROWD, {PEOPLE: [{"type": "Property", "value": n,
                                                                "observedAt": from_ms(at_ms)}]})  # fmt: skip
            changes += [c for c in ch if c.indicator == density.id]
    return {"changes": changes, "pre_warning": first_pre_warning}


def test_the_scenario_singles_out_the_districts_bund() -> None:
    assert BUND_UNIT == BUND


@pytest.mark.parametrize("history_days", [7, 0], ids=["a-week-of-holidays-before", "no-history"])
def test_the_crowd_climbs_through_all_four_levels_and_back_and_orange_is_pre_warned_15_minutes_ahead(
    catalogue: Catalogue, counters: dict[str, Any], history_days: int
) -> None:
    history = density_history(catalogue, counters, history_days)
    run = run_the_evening(catalogue, counters, history)
    steps = [(c.change.kind, c.change.new) for c in run["changes"]]
    rising = [new for kind, new in steps if kind in ("raised", "escalated")]
    assert rising[:4] == [1, 2, 3, 4], steps  # blue, yellow, orange, red, in order
    assert steps[-1] == ("cleared", 0), steps  # dispersed by 02:00
    orange_at = next(c.change.at_ms for c in run["changes"] if c.change.new == ORANGE and c.change.old < ORANGE)
    assert run["pre_warning"] is not None, "no forecast pre-warned of orange"
    issued_ms, pre, method = run["pre_warning"]
    lead_min = (orange_at - issued_ms) / MIN_MS
    print(f"\nBund New Year's Eve ({history_days} days of history, {method}): orange pre-warned "
          f"{lead_min:.0f} min before the engine raised it, for {from_ms(pre.at_ms)}, "
          f"probability {pre.probability:.2f}")  # fmt: skip
    assert lead_min >= 15
    assert pre.at_ms > issued_ms
