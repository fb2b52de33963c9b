"""Forecasts and their intervals stay within the values an indicator can take: a declared physicalRange,
or what its unit says (counts and densities ≥ 0, shares 0..1)."""

from __future__ import annotations

import math
import random
import time
from typing import Any

import pytest
from conftest import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityos.runtime import Runtime
from cityos.vitals import service, store
from cityos.vitals.definitions import validate
from cityos.vitals.errors import InvalidDefinition
from cityos.vitals.forecast import Forecast, ForecastPoint, clipped, forecast

BUND = "urn:ngsi-ld:ManagementUnit:waitan"
MIN = 60_000


def base(**extra: Any) -> dict[str, Any]:
    return {
        "id": "xx",
        "name": {"zh": "某", "en": "Something"},
        "category": "crowds",
        "unit": "persons/m²",
        "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"},
        "aggregation": "avg",
        "window": {"duration": "5m"},
        "scope": {"level": "district"},
        **extra,
    }


@pytest.mark.parametrize(
    ("unit", "aggregation", "expected"),
    [
        ("persons/m²", "avg", (0.0, None)),
        ("persons/5 min", "sum", (0.0, None)),
        ("share (0–1)", "avg", (0.0, 1.0)),
        ("bins", "sum", (0.0, None)),
        ("µg/m³", "avg", (0.0, None)),
        ("pH", "avg", (0.0, 14.0)),
        ("°C", "max", (None, None)),  # temperatures go below zero
        ("m", "avg", (None, None)),  # a water level against a datum may too
        ("°C", "count", (0.0, None)),  # whatever it counts, a count is not negative
    ],
)
def test_the_range_is_inferred_from_the_unit_when_not_declared(
    unit: str, aggregation: str, expected: tuple[float | None, float | None]
) -> None:
    assert validate(base(unit=unit, aggregation=aggregation)).value_range() == expected


def test_a_declared_range_wins_and_is_checked() -> None:
    assert validate(base(physicalRange={"min": 0, "max": 8})).value_range() == (0.0, 8.0)
    assert validate(base(unit="°C", physicalRange={"min": -273.15})).value_range() == (-273.15, None)
    with pytest.raises(InvalidDefinition, match=r"physicalRange.*min .* must be below max"):
        validate(base(physicalRange={"min": 1, "max": 0}))
    with pytest.raises(InvalidDefinition, match="give min, max or both"):
        validate(base(physicalRange={}))
    with pytest.raises(InvalidDefinition, match="physicalRange"):
        validate(base(physicalRange={"low": 0}))


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(finite, st.floats(min_value=0, max_value=1e5)), min_size=1, max_size=20),
       st.one_of(st.none(), finite), st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)))  # fmt: skip
def test_clipping_keeps_every_point_inside_and_in_order(
    points: list[tuple[float, float]], lo: float | None, width: float | None
) -> None:
    hi = None if width is None else (lo or 0.0) + width + 1e-3
    made = [ForecastPoint(k, m, m - s, m + s, m - 2 * s, m + 2 * s) for k, (m, s) in enumerate(points)]
    fc = Forecast("x", MIN, made)
    for p in clipped(fc, lo, hi).points:
        ordered = [p.lo95, p.lo80, p.mean, p.hi80, p.hi95]
        assert ordered == sorted(ordered)
        assert lo is None or min(ordered) >= lo
        assert hi is None or max(ordered) <= hi


@pytest.mark.settings(roles="ingest,notify")  # no engine: the test stores the values itself
def test_a_forecast_of_a_series_near_zero_never_goes_below_zero(api: Api, rt: Runtime) -> None:
    service.ensure_definitions(rt, "default")
    now = int(time.time() * 1000)
    rng = random.Random(3)
    quiet = [(now - (120 - k) * MIN, max(0.0, 0.05 - 0.0004 * k + rng.gauss(0, 0.02))) for k in range(121)]
    rows = [("bund_crowd_density", BUND, t, v, 0) for t, v in quiet]  # a quiet night: a few people, falling
    rt.db.run_write(lambda conn: store.insert_values(conn, "default", rows))
    raw = forecast(quiet, step_ms=5 * MIN, horizon_ms=60 * MIN, seasonality=("daily",), now_ms=now)
    assert min(p.lo95 for p in raw.points) < 0  # the model alone would say less than nobody
    r = api.get("/vitals/indicators/bund_crowd_density/forecast", params={"scope": BUND})
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    assert points and all(p["lo95"] >= 0 and p["lo80"] >= 0 and p["mean"] >= 0 for p in points)
    assert all(p["hi95"] <= 8 for p in points)  # its declared ceiling
    assert any(math.isclose(p["lo95"], 0.0) for p in points)
