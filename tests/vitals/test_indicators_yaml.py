"""The shipped indicator catalogue: it loads, covers the categories, reads only what the demo sensors send,
scopes only places that exist, and its crowd density gives plausible values for the simulated inflow."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from cityos.context.jsonld import core_term_map
from cityos.context.qeval import eval_q
from cityos.context.qlang import QAnd, QExpr, QOr, parse_q
from cityos.demo.district import BUND, HOT_SPOTS, build_district
from cityos.demo.patterns import DEVICE_PROFILES, reading
from cityos.vitals.definitions import CATEGORIES, Catalogue, Indicator, Source, load_yaml

PATH = Path(__file__).parents[2] / "cityos" / "vitals" / "indicators.yaml"
SATURDAY_AFTERNOON = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
SCOPE_TYPES = {"unit": "ManagementUnit", "grid": "Grid", "street": "Street"}
EXPAND = core_term_map().expand


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_yaml(PATH)


@pytest.fixture(scope="module")
def district() -> list[dict[str, Any]]:
    return build_district()


def _sent(entity_type: str) -> set[str]:
    """The attributes the simulator sends for an entity type."""
    return {m.attr for m in DEVICE_PROFILES[entity_type].measures.values()}


def _bases(catalogue: Catalogue) -> list[Indicator]:
    return [i for i in catalogue.by_id.values() if i.source is not None]


def _source(ind: Indicator) -> Source:
    assert ind.source is not None, f"{ind.id} is derived"
    return ind.source


def _q_attrs(expr: QExpr) -> Iterator[str]:
    if isinstance(expr, QAnd | QOr):
        for item in expr.items:
            yield from _q_attrs(item)
    else:
        yield expr.path.attr


def _view(values: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Attributes as the engine's q filters see them: expanded names, lists of instances."""
    return {EXPAND(k): [v if isinstance(v, dict) else {"type": "Property", "value": v}] for k, v in values.items()}


def _entity_view(entity: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return _view({k: v for k, v in entity.items() if isinstance(v, dict) and "type" in v})


def _density(catalogue: Catalogue, bund_people: float) -> float:
    ind = catalogue.by_id["bund_crowd_density"]
    value = catalogue.formulas[ind.id].evaluate({**ind.constants, "bund_people": bund_people})
    assert value is not None
    return value


def _bund_inflow(district: list[dict[str, Any]], at: datetime) -> float:
    """What bund_people sums over 5 minutes: one reading from each of the Bund's crowd counters."""
    rng = random.Random(7)
    counters = [e for e in district if e["type"] == "CrowdFlowObserved" and e.get("refUnit", {}).get("object") == BUND]
    assert len(counters) >= 10
    total = 0
    for e in counters:
        device = e["refDevice"]["object"].rsplit(":", 1)[-1]  # the simulator's device key
        total += reading("CrowdFlowObserved", device, at, "normal", rng, hot_spot=True)["n"]
    return total


def test_the_shipped_file_loads_with_enough_indicators_and_categories(catalogue: Catalogue) -> None:
    assert len(catalogue) >= 32
    categories = {i.category for i in catalogue.by_id.values()}
    assert len(categories) >= 9
    assert categories <= set(CATEGORIES)
    for ind in catalogue.by_id.values():
        assert ind.name.zh.strip() and ind.name.en.strip() and ind.unit.strip(), ind.id
        assert ind.description and len(ind.description) >= 40, f"{ind.id}: say what it measures"


def test_the_bund_density_has_fruins_thresholds_and_a_forecast(catalogue: Catalogue) -> None:
    people, density = catalogue.by_id["bund_people"], catalogue.by_id["bund_crowd_density"]
    assert people.source is not None and people.window is not None
    assert (people.source.entityType, people.source.attr, people.aggregation) == (
        "CrowdFlowObserved",
        "peopleCount",
        "sum",
    )
    assert (people.window.kind, people.window.duration) == ("sliding", timedelta(minutes=5))
    assert people.scope.level == density.scope.level == "unit"
    assert people.scope.ids == density.scope.ids == (BUND,)
    assert catalogue.inputs_of("bund_crowd_density") == ["bund_people"]
    assert "bund_walkable_area" in density.constants
    t = density.thresholds
    assert t is not None
    assert (t.direction, t.blue, t.yellow, t.orange, t.red) == ("above", 2, 3, 4, 5)
    assert t.hysteresis == 0.2
    assert t.minDuration == timedelta(minutes=2)
    assert density.forecast is not None
    assert density.forecast.horizon == timedelta(hours=1)
    assert set(density.forecast.seasonality) == {"daily", "weekly"}


def test_the_bund_walkable_area_is_the_districts(catalogue: Catalogue, district: list[dict[str, Any]]) -> None:
    bund = next(e for e in district if e["id"] == BUND)
    assert catalogue.by_id["bund_crowd_density"].constants["bund_walkable_area"] == bund["walkableArea"]["value"]


def test_every_source_is_an_attribute_the_simulator_sends(catalogue: Catalogue) -> None:
    bases = _bases(catalogue)
    assert len(bases) >= 25
    for ind in bases:
        assert ind.source is not None
        assert ind.source.entityType in DEVICE_PROFILES, f"{ind.id}: no sensor sends {ind.source.entityType}"
        assert ind.source.attr in _sent(ind.source.entityType), f"{ind.id}: {ind.source.attr} is never sent"


def test_q_filters_read_sent_or_stored_attributes(catalogue: Catalogue, district: list[dict[str, Any]]) -> None:
    filtered = [i for i in _bases(catalogue) if i.source is not None and i.source.q]
    assert len(filtered) >= 5
    for ind in filtered:
        assert ind.source is not None and ind.source.q is not None
        of_type = [e for e in district if e["type"] == ind.source.entityType]
        for attr in _q_attrs(parse_q(ind.source.q)):
            stored = all(attr in e for e in of_type)
            assert attr in _sent(ind.source.entityType) or stored, f"{ind.id}: q reads {attr}, which nothing has"


def test_no_indicator_invents_an_elevator_sensor(catalogue: Catalogue) -> None:
    for ind in _bases(catalogue):
        assert ind.source is not None
        assert "elevator" not in (ind.source.entityType + ind.source.attr).lower()
    comments = [line for line in PATH.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("#")]
    assert any("elevator" in line.lower() for line in comments)


def test_scope_ids_exist_in_the_district(catalogue: Catalogue, district: list[dict[str, Any]]) -> None:
    types = {e["id"]: e["type"] for e in district}
    scoped = [i for i in catalogue.by_id.values() if i.scope.ids]
    assert scoped
    for ind in scoped:
        for place in ind.scope.ids or ():
            assert types.get(place) == SCOPE_TYPES[ind.scope.level], f"{ind.id}: {place} is not in the district"
    assert set(catalogue.by_id["hotspot_people"].scope.ids or ()) == set(HOT_SPOTS)


def test_the_density_is_plausible_for_a_saturday_afternoon(
    catalogue: Catalogue, district: list[dict[str, Any]]
) -> None:
    inflow = _bund_inflow(district, SATURDAY_AFTERNOON)
    typical = _density(catalogue, inflow)
    assert 0.5 <= typical <= 2.0
    assert _density(catalogue, 2.5 * inflow) >= 5  # red
    # the value only grows with the inflow, stays positive and finite past the promenade's capacity
    values = [_density(catalogue, inflow * k / 4) for k in range(41)]
    assert values[0] == 0
    assert all(a <= b for a, b in pairwise(values))
    assert values[-1] == catalogue.by_id["bund_crowd_density"].constants["max_density"]


def test_required_forecasts(catalogue: Catalogue) -> None:
    for ind_id in (
        "bund_people",
        "bund_crowd_density",
        "hotspot_people",
        "pm25_grid",
        "pm25_district",
        "huangpu_river_level",
        "suzhou_creek_level",
        "offstreet_parking_occupancy",
        "onstreet_parking_occupancy",
    ):
        assert catalogue.by_id[ind_id].forecast is not None, ind_id


def test_pm25_uses_the_aqi_band_edges(catalogue: Catalogue) -> None:
    for ind_id, level in (("pm25_grid", "grid"), ("pm25_district", "district")):
        ind = catalogue.by_id[ind_id]
        assert ind.source is not None and ind.window is not None and ind.thresholds is not None
        assert (ind.source.entityType, ind.source.attr, ind.aggregation) == ("AirQualityObserved", "pm25", "avg")
        assert (ind.window.kind, ind.window.duration, ind.scope.level) == ("sliding", timedelta(hours=1), level)
        assert ind.thresholds.levels() == [(1, 75), (2, 115), (3, 150), (4, 250)]


@pytest.mark.parametrize(
    ("ind_id", "alert_level", "danger_level"),
    [("huangpu_river_level", "yellow", "red"), ("road_waterlogging_depth", "orange", "red")],
)
def test_water_levels_pick_their_gauges_and_use_their_levels(
    catalogue: Catalogue, district: list[dict[str, Any]], ind_id: str, alert_level: str, danger_level: str
) -> None:
    ind = catalogue.by_id[ind_id]
    assert ind.source is not None and ind.source.q is not None and ind.thresholds is not None
    q = parse_q(ind.source.q)
    gauges = [e for e in district if e["type"] == "FloodMonitoring" and eval_q(q, _entity_view(e), EXPAND)]
    assert gauges
    assert {e["alertLevel"]["value"] for e in gauges} == {getattr(ind.thresholds, alert_level)}
    assert {e["dangerLevel"]["value"] for e in gauges} == {getattr(ind.thresholds, danger_level)}


def test_the_gauge_filters_do_not_overlap(catalogue: Catalogue, district: list[dict[str, Any]]) -> None:
    gauges = [e for e in district if e["type"] == "FloodMonitoring"]
    picked: dict[str, set[str]] = {}
    for ind_id in ("huangpu_river_level", "suzhou_creek_level", "road_waterlogging_depth"):
        source = catalogue.by_id[ind_id].source
        assert source is not None and source.q is not None
        q = parse_q(source.q)
        picked[ind_id] = {e["id"] for e in gauges if eval_q(q, _entity_view(e), EXPAND)}
    assert all(picked.values())
    assert sum(len(s) for s in picked.values()) == len(set().union(*picked.values())) == len(gauges)


def test_streetlight_faults_catch_every_fault_status_the_simulator_sends(catalogue: Catalogue) -> None:
    rng = random.Random(3)
    night = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
    statuses = {reading("Streetlight", f"HP-SL-{n:05d}", night, "faults", rng)["st"] for n in range(400)}
    assert {"ok", "defectiveLamp", "columnIssue"} <= statuses
    for ind_id in ("streetlight_faults", "streetlight_faults_district"):
        ind = catalogue.by_id[ind_id]
        assert ind.source is not None and ind.source.q is not None and ind.aggregation == "distinct"
        q = parse_q(ind.source.q)
        for status in statuses:
            assert eval_q(q, _view({"status": status}), EXPAND) == (status != "ok"), (ind_id, status)
    assert catalogue.by_id["streetlight_faults"].scope.level == "street"
    assert catalogue.by_id["streetlight_faults_district"].scope.level == "district"


def test_smoke_alarms_count_alarm_readings_only(catalogue: Catalogue) -> None:
    ind = catalogue.by_id["smoke_alarms"]
    assert ind.source is not None and ind.source.q is not None and ind.window is not None
    assert (ind.aggregation, ind.scope.level, ind.window.duration) == ("count", "grid", timedelta(minutes=10))
    q = parse_q(ind.source.q)
    assert eval_q(q, _view({"smoke": True}), EXPAND)
    assert not eval_q(q, _view({"smoke": False}), EXPAND)


def test_building_tilt_takes_the_largest_lean_either_way(catalogue: Catalogue) -> None:
    formula = catalogue.formulas["building_tilt"]
    inputs = [catalogue.by_id[i] for i in catalogue.inputs_of("building_tilt")]
    assert {(_source(i).entityType, _source(i).attr, i.aggregation) for i in inputs} == {
        ("BuildingTilt", "tiltX", "max"),
        ("BuildingTilt", "tiltX", "min"),
        ("BuildingTilt", "tiltY", "max"),
        ("BuildingTilt", "tiltY", "min"),
    }
    values = {"building_tilt_x_max": 0.1, "building_tilt_x_min": -0.45, "building_tilt_y_max": 0.2}
    assert formula.evaluate({**values, "building_tilt_y_min": -0.05}) == pytest.approx(0.45)
    assert formula.evaluate(values) is None  # an input missing: no value, no warning


def test_shares_divide_counts_of_the_same_window_and_scope(catalogue: Catalogue) -> None:
    for ind_id in ("streetlight_fault_share", "waste_full_share", "onstreet_parking_occupancy"):
        inputs = [catalogue.by_id[i] for i in catalogue.inputs_of(ind_id)]
        assert len(inputs) == 2, ind_id
        assert len({(i.window, i.scope, _source(i).entityType, _source(i).attr) for i in inputs}) == 1, ind_id
        assert catalogue.formulas[ind_id].evaluate(dict.fromkeys(catalogue.inputs_of(ind_id), 0.0)) is None
