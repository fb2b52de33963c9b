"""Duplicate reports: distances, the time window, categories, open states, the nearest match, per-category overrides,
the bounding-box prefilter and config validation."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.cases.duplicates import (
    EARTH_RADIUS_M,
    OPEN_STATES,
    Candidate,
    DuplicatePolicy,
    bounding_box,
    distance_m,
    find_duplicate,
    policy_from_config,
)
from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.workflow import State

# On the Bund (外滩), which runs north–south: a meridian degree is R·π/180 = 111,195 m, so 0.00036° ≈ 40 m and
# 0.00108° ≈ 120 m due north of the report.
BUND = (121.4900, 31.2400)
LAT_40M = 31.2400 + 0.00036
LAT_120M = 31.2400 + 0.00108
HOUR_MS = 3_600_000
AT = 1_767_225_600_000  # 2026-01-01 08:00 Asia/Shanghai
POLICY = DuplicatePolicy()


def cand(
    case_id: str = "c1",
    *,
    category: str = "garbage-uncollected",
    main: str = "city-appearance",
    lat: float = LAT_40M,
    lon: float = BUND[0],
    ago_ms: int = HOUR_MS,
    state: str = "registered",
) -> Candidate:
    return Candidate(case_id, category, main, lon, lat, AT - ago_ms, state)


def find(
    *candidates: Candidate,
    policy: DuplicatePolicy = POLICY,
    category: str = "garbage-uncollected",
    main: str = "city-appearance",
) -> Candidate | None:
    return find_duplicate(policy, category, main, BUND[0], BUND[1], AT, candidates)


# --- distance -----------------------------------------------------------------------------------------------


def test_distance_matches_a_known_figure() -> None:
    # Rosetta Code's haversine task: Nashville BNA → Los Angeles LAX is 2887.26 km on a 6372.8 km sphere, so
    # 2886.44 km on the mean radius; the figure agrees within 0.5 % either way.
    d = distance_m(-86.67, 36.12, -118.40, 33.94)
    assert d == pytest.approx(2_887_260, rel=0.005)
    assert d == pytest.approx(2_887_260 * EARTH_RADIUS_M / 6_372_800, rel=1e-6)


def test_distance_on_the_bund() -> None:
    assert distance_m(*BUND, BUND[0], LAT_40M) == pytest.approx(40.03, rel=0.005)
    assert distance_m(*BUND, BUND[0], LAT_120M) == pytest.approx(120.09, rel=0.005)
    assert distance_m(*BUND, *BUND) == 0.0
    # symmetric
    assert distance_m(121.49, 31.24, 121.5, 31.25) == pytest.approx(distance_m(121.5, 31.25, 121.49, 31.24))


def test_distance_of_antipodes_is_half_the_circumference() -> None:
    assert distance_m(0, 0, 180, 0) == pytest.approx(math.pi * EARTH_RADIUS_M)


# --- matching -----------------------------------------------------------------------------------------------


def test_inside_the_distance_is_a_duplicate_outside_is_not() -> None:
    near = cand("near", lat=LAT_40M)
    far = cand("far", lat=LAT_120M)
    assert find(near) == near
    assert find(far) is None
    assert find(far, near) == near


def test_distance_edge_is_inclusive() -> None:
    lat = BUND[1] + math.degrees(49.999 / EARTH_RADIUS_M)
    assert find(cand(lat=lat)) is not None
    lat = BUND[1] + math.degrees(50.001 / EARTH_RADIUS_M)
    assert find(cand(lat=lat)) is None


def test_time_window_edges() -> None:
    day_ms = 24 * HOUR_MS
    assert find(cand(ago_ms=day_ms)) is not None  # exactly 24 h before: still inside
    assert find(cand(ago_ms=day_ms + 1)) is None  # 1 ms more: outside
    assert find(cand(ago_ms=0)) is not None  # at the same instant
    assert find(cand(ago_ms=-1)) is None  # reported after the new report: not something it repeats


def test_other_category_is_not_a_duplicate() -> None:
    other = cand(category="garbage-sorting")
    assert find(other) is None
    # same main category counts only with same_main_only
    assert find(other, policy=DuplicatePolicy(same_main_only=True)) == other
    other_main = cand(category="pothole", main="facilities")
    assert find(other_main, policy=DuplicatePolicy(same_main_only=True)) is None


@pytest.mark.parametrize("state", ["closed", "cancelled", "merged", "split"])
def test_closed_and_final_cases_are_ignored(state: str) -> None:
    assert find(cand(state=state)) is None


def test_every_other_state_counts_as_open() -> None:
    assert {State(s) for s in OPEN_STATES} == set(State) - {State.CLOSED, State.CANCELLED, State.MERGED, State.SPLIT}
    for state in OPEN_STATES:
        assert find(cand(state=state)) is not None


def test_nearest_wins_then_the_earlier_report() -> None:
    lat_20m = BUND[1] + 0.00018
    a = cand("a", lat=LAT_40M, ago_ms=HOUR_MS)
    b = cand("b", lat=lat_20m, ago_ms=2 * HOUR_MS)
    assert find(a, b) == b
    assert find(b, a) == b
    older = cand("older", lat=lat_20m, ago_ms=3 * HOUR_MS)
    assert find(a, b, older) == older
    assert find(older, b, a) == older


def test_nothing_to_compare_with() -> None:
    assert find() is None


def test_per_category_overrides() -> None:
    policy = DuplicatePolicy(overrides={"water-main-burst": (200.0, timedelta(hours=6))})
    burst = cand(category="water-main-burst", main="emergencies", lat=LAT_120M, ago_ms=5 * HOUR_MS)
    assert find(burst, policy=policy, category="water-main-burst", main="emergencies") == burst
    # 120 m away: a duplicate under the 200 m override, not under the default 50 m
    assert find(burst, category="water-main-burst", main="emergencies") is None
    # but only six hours back
    stale = replace(burst, reported_at_ms=AT - 7 * HOUR_MS)
    assert find(stale, policy=policy, category="water-main-burst", main="emergencies") is None
    # other categories keep the default
    assert find(cand(lat=LAT_120M), policy=policy) is None


def test_sub_category_override_wins_over_main() -> None:
    policy = DuplicatePolicy(
        overrides={"emergencies": (500.0, timedelta(hours=2)), "water-main-burst": (200.0, timedelta(hours=6))}
    )
    assert policy.limits("water-main-burst", "emergencies") == (200.0, timedelta(hours=6))
    assert policy.limits("road-collapse", "emergencies") == (500.0, timedelta(hours=2))
    assert policy.limits("pothole", "facilities") == (50.0, timedelta(hours=24))


def test_policy_is_frozen_and_its_overrides_read_only() -> None:
    raw = {"water-main-burst": (200.0, timedelta(hours=6))}
    policy = DuplicatePolicy(overrides=raw)
    raw["pothole"] = (10.0, timedelta(hours=1))
    assert "pothole" not in policy.overrides
    with pytest.raises(TypeError):
        policy.overrides["pothole"] = (10.0, timedelta(hours=1))  # type: ignore[index]
    hash(policy)


# --- bounding box -------------------------------------------------------------------------------------------


def _destination(lon: float, lat: float, bearing_deg: float, meters: float) -> tuple[float, float]:
    """The point ``meters`` from (lon, lat) along ``bearing_deg`` on the same sphere."""
    p1, l1, b, r = math.radians(lat), math.radians(lon), math.radians(bearing_deg), meters / EARTH_RADIUS_M
    p2 = math.asin(math.sin(p1) * math.cos(r) + math.cos(p1) * math.sin(r) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(r) * math.cos(p1), math.cos(r) - math.sin(p1) * math.sin(p2))
    return (math.degrees(l2) + 540) % 360 - 180, math.degrees(p2)


def _inside(box: tuple[float, float, float, float], lon: float, lat: float) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


@pytest.mark.parametrize(("lon", "lat", "meters"), [(*BUND, 50.0), (*BUND, 5000.0), (10.0, 70.0, 5000.0)])
def test_bounding_box_contains_the_circle(lon: float, lat: float, meters: float) -> None:
    box = bounding_box(lon, lat, meters)
    for bearing in range(0, 360, 5):
        p = _destination(lon, lat, bearing, meters)
        assert distance_m(lon, lat, *p) == pytest.approx(meters, rel=1e-9)
        assert _inside(box, *p), (bearing, p, box)
    # and is not much wider than it: the four sides touch the circle
    north = _destination(lon, lat, 0, meters)
    assert box[3] == pytest.approx(north[1], abs=1e-9)


def test_bounding_box_near_a_pole_or_the_antimeridian_takes_every_longitude() -> None:
    assert bounding_box(0.0, 89.99, 5000.0)[0::2] == (-180.0, 180.0)
    assert bounding_box(179.9999, 0.0, 5000.0)[0::2] == (-180.0, 180.0)
    with pytest.raises(ValueError):
        bounding_box(*BUND, -1.0)


@given(
    bearing=st.floats(0, 360),
    frac=st.floats(0, 1),
    meters=st.floats(1, 5000),
    lon=st.floats(-170, 170),
    lat=st.floats(-80, 80),
)
def test_bounding_box_holds_every_point_within_the_distance(
    bearing: float, frac: float, meters: float, lon: float, lat: float
) -> None:
    p = _destination(lon, lat, bearing, meters * frac)
    assert _inside(bounding_box(lon, lat, meters), *p)


# --- config -------------------------------------------------------------------------------------------------


def test_policy_from_config() -> None:
    policy = policy_from_config(
        {
            "distance_m": 80,
            "within": "12h",
            "same_main_only": True,
            "overrides": {"water-main-burst": {"distance_m": 200, "within": "6h"}, "pothole": {"within": "7d"}},
        }
    )
    assert policy.distance_m == 80.0
    assert policy.within == timedelta(hours=12)
    assert policy.same_main_only is True
    assert policy.overrides == {
        "water-main-burst": (200.0, timedelta(hours=6)),
        "pothole": (80.0, timedelta(days=7)),  # the missing distance comes from the policy
    }
    assert policy_from_config({"within": "30m"}).within == timedelta(minutes=30)
    assert policy_from_config(None) == DuplicatePolicy()
    assert policy_from_config({}) == DuplicatePolicy()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"distance_m": 0}, "distance_m"),
        ({"distance_m": -5}, "distance_m"),
        ({"distance_m": 5000.1}, "distance_m"),
        ({"distance_m": "50"}, "distance_m"),
        ({"distance_m": True}, "distance_m"),
        ({"within": "0m"}, "within"),
        ({"within": "59s"}, "within"),
        ({"within": "31d"}, "within"),
        ({"within": 24}, "within"),
        ({"within": "a day"}, "within"),
        ({"same_main_only": "yes"}, "same_main_only"),
        ({"radius": 50}, "radius"),
        ({"overrides": ["water-main-burst"]}, "overrides"),
        ({"overrides": {"water-main-burst": {"distance_m": 6000}}}, "overrides[water-main-burst].distance_m"),
        ({"overrides": {"water-main-burst": {"within": "45d"}}}, "overrides[water-main-burst].within"),
        ({"overrides": {"water-main-burst": {"radius": 200}}}, "radius"),
        ({"overrides": {"water-main-burst": {}}}, "overrides[water-main-burst]"),
        ({"overrides": {"water-main-burst": 200}}, "overrides[water-main-burst]"),
    ],
)
def test_bad_config_is_refused_with_the_field_named(raw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidCasesConfig, match=rf"duplicates\.{re.escape(field)}|'{re.escape(field)}'"):
        policy_from_config(raw)


def test_config_edges_are_allowed() -> None:
    assert policy_from_config({"distance_m": 5000, "within": "1m"}).distance_m == 5000.0
    assert policy_from_config({"within": "30d"}).within == timedelta(days=30)


def test_override_for_an_unknown_category_is_refused_when_categories_are_given() -> None:
    raw = {"overrides": {"water-main-bust": {"distance_m": 200}}}
    assert policy_from_config(raw).overrides  # without a list of codes nothing to check against
    with pytest.raises(InvalidCasesConfig, match=r"overrides\[water-main-bust\].*unknown category"):
        policy_from_config(raw, categories={"water-main-burst"})


def test_policy_built_directly_is_checked_too() -> None:
    with pytest.raises(InvalidCasesConfig, match="distance_m"):
        DuplicatePolicy(distance_m=0)
    with pytest.raises(InvalidCasesConfig, match="within"):
        DuplicatePolicy(within=timedelta(seconds=10))
    with pytest.raises(InvalidCasesConfig, match=r"overrides\[x\]\.distance_m"):
        DuplicatePolicy(overrides={"x": (9000.0, timedelta(hours=1))})


# --- property -----------------------------------------------------------------------------------------------

CATEGORIES = [("garbage-uncollected", "city-appearance"), ("garbage-sorting", "city-appearance"),
              ("pothole", "facilities")]  # fmt: skip

candidates_st = st.lists(
    st.builds(
        lambda i, cat, dlon, dlat, ago, state: Candidate(
            f"c{i}", cat[0], cat[1], BUND[0] + dlon, BUND[1] + dlat, AT - ago, state
        ),
        st.integers(0, 10_000),
        st.sampled_from(CATEGORIES),
        # coarse steps so that equal distances and equal times (the tie rules) do come up
        st.integers(-20, 20).map(lambda k: k * 0.0001),
        st.integers(-20, 20).map(lambda k: k * 0.0001),
        st.integers(-4, 40).map(lambda k: k * HOUR_MS),
        st.sampled_from([s.value for s in State]),
    ),
    max_size=25,
)
policies_st = st.builds(
    DuplicatePolicy,
    distance_m=st.sampled_from([30.0, 50.0, 150.0, 300.0]),
    within=st.sampled_from([timedelta(hours=6), timedelta(hours=24)]),
    same_main_only=st.booleans(),
    overrides=st.sampled_from([{}, {"pothole": (250.0, timedelta(hours=30))}]),
)


@given(policy=policies_st, cat=st.sampled_from(CATEGORIES), candidates=candidates_st)
def test_found_candidate_qualifies_and_none_nearer_does(
    policy: DuplicatePolicy, cat: tuple[str, str], candidates: list[Candidate]
) -> None:
    category, main = cat
    max_m, within = policy.limits(category, main)
    within_ms = within // timedelta(milliseconds=1)

    def qualifies(c: Candidate) -> bool:
        same = c.category == category or (policy.same_main_only and c.main_category == main)
        return (
            c.state not in {"closed", "cancelled", "merged", "split"}
            and same
            and 0 <= AT - c.reported_at_ms <= within_ms
            and distance_m(*BUND, c.lon, c.lat) <= max_m
        )

    found = find_duplicate(policy, category, main, BUND[0], BUND[1], AT, candidates)
    qualifying = [c for c in candidates if qualifies(c)]
    if found is None:
        assert qualifying == []
        return
    assert qualifies(found)
    d = distance_m(*BUND, found.lon, found.lat)
    for c in qualifying:
        dc = distance_m(*BUND, c.lon, c.lat)
        assert dc >= d
        if dc == d:
            assert c.reported_at_ms >= found.reported_at_ms
