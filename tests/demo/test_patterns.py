"""Daily patterns of the demo sensors: in range, shaped like a day in Huangpu, deterministic."""

from __future__ import annotations

import math
import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.demo.patterns import DEVICE_PROFILES, SCENARIOS, SpotTally, bad_message, is_holiday, reading

WEDNESDAY = date(2026, 11, 18)  # an ordinary workday in November
TEXT_VALUES = {
    ("Streetlight", "ps"): {"on", "off"},
    ("Streetlight", "st"): {"ok", "defectiveLamp", "columnIssue"},
    ("ParkingSpot", "st"): {"free", "occupied"},
}
BATTERY_POWERED = {"ParkingSpot", "WasteContainer", "SmokeDetector", "BuildingTilt", "FloodMonitoring"}


def utc(day: date, hour: float) -> datetime:
    """The UTC instant of a Shanghai local time (UTC+8) on ``day``."""
    local = datetime(day.year, day.month, day.day) + timedelta(hours=hour)
    return (local - timedelta(hours=8)).replace(tzinfo=UTC)


def one(entity_type: str, key: str, at: datetime, scenario: str = "normal", seed: int = 7, hot: bool = False) -> dict:
    return reading(entity_type, key, at, scenario, random.Random(seed), hot_spot=hot)


def check_reading(entity_type: str, values: dict) -> None:
    measures = DEVICE_PROFILES[entity_type].measures
    assert set(values) == set(measures), entity_type
    for name, spec in measures.items():
        value = values[name]
        if spec.kind == "boolean":
            assert isinstance(value, bool), (entity_type, name, value)
        elif spec.kind == "text":
            assert value in TEXT_VALUES[entity_type, name], (entity_type, name, value)
        else:
            assert isinstance(value, int | float) and not isinstance(value, bool), (entity_type, name, value)
            assert math.isfinite(value)
            assert spec.min is not None and spec.max is not None
            assert spec.min <= value <= spec.max, (entity_type, name, value)


def test_profiles_cover_the_entity_types_with_smart_data_model_attributes() -> None:
    assert set(DEVICE_PROFILES) == {
        "Streetlight", "WasteContainer", "ParkingSpot", "TrafficFlowObserved", "CrowdFlowObserved",
        "AirQualityObserved", "NoiseLevelObserved", "FloodMonitoring", "OffStreetParking", "WaterQualityObserved",
        "WeatherObserved", "BuildingTilt", "SmokeDetector",
    }  # fmt: skip
    for entity_type, profile in DEVICE_PROFILES.items():
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", profile.device_type), profile.device_type
        assert profile.protocol in {"json", "ul"}
        assert profile.timeout_s >= 2 * profile.period_s > 0
        assert ("bat" in profile.measures) == ("rssi" in profile.measures) == (entity_type in BATTERY_POWERED)
        for spec in profile.measures.values():
            assert spec.kind in {"number", "text", "boolean"}
            if spec.kind == "number":
                assert spec.min is not None and spec.max is not None and spec.min < spec.max
    attrs = {(t, s.attr, s.unit_code) for t, p in DEVICE_PROFILES.items() for s in p.measures.values()}
    assert {
        ("AirQualityObserved", "pm25", "GQ"), ("NoiseLevelObserved", "LAeq", "2N"),
        ("FloodMonitoring", "currentLevel", "MTR"), ("WaterQualityObserved", "conductivity", "G42"),
        ("WeatherObserved", "windSpeed", "MTS"), ("BuildingTilt", "tiltX", "DD"),
        ("Streetlight", "powerConsumption", "WTT"), ("SmokeDetector", "batteryLevel", None),
    } <= attrs  # fmt: skip
    assert DEVICE_PROFILES["AirQualityObserved"].measures["pm25"].max == 1000
    assert DEVICE_PROFILES["ParkingSpot"].measures["rssi"].min == -140


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_readings_stay_in_range_over_a_week_at_ten_minute_steps(scenario: str) -> None:
    rng = random.Random(scenario)
    start = utc(date(2026, 9, 28), 0)  # a workday week running into Golden Week
    seen: dict[str, set] = {}
    for step in range(7 * 24 * 6):
        at = start + timedelta(minutes=10 * step)
        for entity_type in DEVICE_PROFILES:
            for key, hot in (("dev-a", False), ("dev-b", False), ("dev-c", True)):
                values = reading(entity_type, f"{entity_type}:{key}", at, scenario, rng, hot_spot=hot)
                check_reading(entity_type, values)
                seen.setdefault(entity_type, set()).add(repr(sorted(values.items())))
    # readings change over the week rather than repeating one value
    assert all(len(distinct) > 1 for distinct in seen.values())


@settings(max_examples=300, deadline=None)
@given(
    entity_type=st.sampled_from(sorted(DEVICE_PROFILES)),
    scenario=st.sampled_from(sorted(SCENARIOS)),
    key=st.text(max_size=30),
    at=st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)),
    seed=st.integers(0, 2**32),
    hot=st.booleans(),
)
def test_readings_stay_in_range_at_any_time(
    entity_type: str, scenario: str, key: str, at: datetime, seed: int, hot: bool
) -> None:
    check_reading(entity_type, reading(entity_type, key, at, scenario, random.Random(seed), hot_spot=hot))


def test_naive_datetimes_are_taken_as_utc() -> None:
    at = utc(WEDNESDAY, 8.5)
    assert one("TrafficFlowObserved", "k", at) == one("TrafficFlowObserved", "k", at.replace(tzinfo=None))


def test_holiday_evening_crowds_at_the_bund_exceed_twice_normal() -> None:
    at = utc(WEDNESDAY, 20.5)
    for key in ("bund-1", "bund-2", "nanjing-road-1"):
        normal = one("CrowdFlowObserved", key, at, hot=True)["n"]
        holiday = one("CrowdFlowObserved", key, at, "holiday-evening", hot=True)["n"]
        assert 2 * normal < holiday < 6 * normal, (key, normal, holiday)
        # the evening is the peak of the holiday, not the afternoon
        assert holiday > one("CrowdFlowObserved", key, utc(WEDNESDAY, 15), "holiday-evening", hot=True)["n"]
    # famous places draw far bigger crowds than an ordinary counter
    assert one("CrowdFlowObserved", "bund-1", at, hot=True)["n"] > 3 * one("CrowdFlowObserved", "lane-1", at)["n"]


def test_rush_hour_traffic_peaks_in_the_morning_and_slows_down() -> None:
    for key in ("yanan-rd", "henan-rd", "xizang-rd"):
        morning = one("TrafficFlowObserved", key, utc(WEDNESDAY, 8), "rush-hour")
        night = one("TrafficFlowObserved", key, utc(WEDNESDAY, 3), "rush-hour")
        evening = one("TrafficFlowObserved", key, utc(WEDNESDAY, 18), "rush-hour")
        assert morning["q"] > 3 * night["q"] and evening["q"] > 3 * night["q"]
        assert morning["v"] < night["v"] - 10 and morning["occ"] > night["occ"]
        assert morning["q"] > one("TrafficFlowObserved", key, utc(WEDNESDAY, 8))["q"]  # heavier than a normal day
        # road noise follows the traffic
        assert (
            one("NoiseLevelObserved", key, utc(WEDNESDAY, 8), "rush-hour")["laeq"]
            > one("NoiseLevelObserved", key, utc(WEDNESDAY, 3), "rush-hour")["laeq"]
        )


def test_streetlights_are_on_at_night_and_off_at_noon() -> None:
    for day in (WEDNESDAY, date(2026, 6, 17)):
        statuses = []
        for n in range(40):
            night = one("Streetlight", f"lamp-{n}", utc(day, 22))
            noon = one("Streetlight", f"lamp-{n}", utc(day, 12))
            statuses.append(night["st"])
            assert noon["ps"] == "off" and noon["lvl"] == 0 and noon["w"] < 5
            if night["st"] == "ok":
                assert night["ps"] == "on" and night["lvl"] == 1 and night["w"] > 50
        assert statuses.count("ok") >= 36
    # in November: still off at 17:00 local, on by 17:30, off again by 06:45
    lamps = [f"lamp-{n}" for n in range(20)]
    assert all(one("Streetlight", k, utc(WEDNESDAY, 17))["ps"] == "off" for k in lamps)
    assert sum(one("Streetlight", k, utc(WEDNESDAY, 17.5))["ps"] == "on" for k in lamps) >= 18
    assert all(one("Streetlight", k, utc(WEDNESDAY, 6.75))["ps"] == "off" for k in lamps)


def test_pm25_episode_climbs_above_150_and_is_worse_than_a_normal_day() -> None:
    for key in ("aq-1", "aq-2", "aq-3"):
        day = [utc(WEDNESDAY, h / 6) for h in range(24 * 6)]
        episode = [one("AirQualityObserved", key, at, "pm25-episode", seed=i) for i, at in enumerate(day)]
        normal = [one("AirQualityObserved", key, at, seed=i) for i, at in enumerate(day)]
        peak = max(r["pm25"] for r in episode)
        assert 150 < peak <= 260
        assert max(r["pm10"] for r in episode) > peak  # coarse particles rise with it
        assert max(r["pm25"] for r in normal) < 100
        # it builds up over hours: low at midnight, high by mid-morning
        assert episode[0]["pm25"] < 100 < episode[10 * 6]["pm25"]
        # on an ordinary day PM2.5 is worse in the morning than in the evening
        assert normal[7 * 6]["pm25"] > normal[19 * 6]["pm25"]


def test_rainstorm_raises_water_levels_one_to_three_hours_after_the_rain() -> None:
    steps = [utc(WEDNESDAY, h / 6) for h in range(24 * 6)]
    rain = [one("WeatherObserved", "ws-1", at, "rainstorm")["rain"] for at in steps]
    assert max(rain) > 20 and rain[0] == 0
    rain_peak = rain.index(max(rain))
    for key in ("gauge-1", "gauge-2", "gauge-3", "gauge-4", "gauge-5", "gauge-6"):
        # same seed per step in both scenarios, so the difference is the storm's doing
        rise = [
            one("FloodMonitoring", key, at, "rainstorm", seed=i)["lvl"] - one("FloodMonitoring", key, at, seed=i)["lvl"]
            for i, at in enumerate(steps)
        ]
        first_rain = next(i for i, mm in enumerate(rain) if mm > 0)
        assert max(abs(r) for r in rise[:first_rain]) < 0.01  # nothing before it rains
        assert max(rise) > 0.05
        lag = (rise.index(max(rise)) - rain_peak) * 10  # minutes
        assert 60 <= lag <= 180, lag


def test_the_same_seed_and_inputs_give_the_same_reading() -> None:
    at = utc(WEDNESDAY, 9.25)
    for entity_type in DEVICE_PROFILES:
        for scenario in SCENARIOS:
            first = reading(entity_type, "dev-42", at, scenario, random.Random(2026), hot_spot=True)
            again = reading(entity_type, "dev-42", at, scenario, random.Random(2026), hot_spot=True)
            assert first == again
    # devices differ from one another through their key, not through the rng
    assert one("OffStreetParking", "car-park-1", at) != one("OffStreetParking", "car-park-2", at)
    assert one("WaterQualityObserved", "probe-1", at)["ec"] != one("WaterQualityObserved", "probe-2", at)["ec"]


def test_is_holiday_knows_weekends_and_chinese_public_holidays() -> None:
    assert is_holiday(date(2026, 10, 2))  # National Day, Golden Week
    assert is_holiday(date(2026, 10, 7))
    assert is_holiday(date(2026, 11, 21))  # a Saturday
    assert is_holiday(date(2026, 11, 22))  # a Sunday
    assert is_holiday(date(2026, 2, 18))  # Spring Festival, a Wednesday
    assert is_holiday(date(2026, 5, 4)) and is_holiday(date(2026, 1, 2))
    assert not is_holiday(WEDNESDAY)
    assert not is_holiday(date(2026, 10, 8)) and not is_holiday(date(2026, 2, 24))
    assert not is_holiday(date(2026, 10, 10))  # a Saturday worked to make up for Golden Week
    assert is_holiday(date(2027, 10, 1))  # the fixed-date statutory days in other years


def test_daily_patterns_of_parking_waste_and_temperature() -> None:
    keys = [f"dev-{n}" for n in range(5)]
    for key in keys:
        business = one("OffStreetParking", key, utc(WEDNESDAY, 11))
        night = one("OffStreetParking", key, utc(WEDNESDAY, 3))
        assert business["occ"] > 0.7 > 0.4 > night["occ"]
        assert business["used"] + business["free"] == night["used"] + night["free"]  # same capacity
        # waste containers are emptied in the early morning and fill during the day
        assert (
            one("WasteContainer", key, utc(WEDNESDAY, 6))["fill"]
            < one("WasteContainer", key, utc(WEDNESDAY, 21))["fill"]
        )
        # afternoons are warmer than the small hours
        assert (
            one("WeatherObserved", key, utc(WEDNESDAY, 14))["t"]
            > one("WeatherObserved", key, utc(WEDNESDAY, 4))["t"] + 3
        )
    spots = [one("ParkingSpot", f"spot-{n}", utc(WEDNESDAY, 11))["st"] for n in range(60)]
    spots_night = [one("ParkingSpot", f"spot-{n}", utc(WEDNESDAY, 3))["st"] for n in range(60)]
    assert spots.count("occupied") > 2 * spots_night.count("occupied")


def test_faults_bring_lamp_failures_drifting_tilt_and_smoke_alarms() -> None:
    at = utc(WEDNESDAY, 22)
    lamps = [f"lamp-{n}" for n in range(200)]
    broken = sum(one("Streetlight", k, at, "faults")["st"] != "ok" for k in lamps)
    assert broken > 3 * sum(one("Streetlight", k, at)["st"] != "ok" for k in lamps) and broken >= 15
    # a lamp's fault lasts the whole night
    assert [one("Streetlight", k, at, "faults")["st"] for k in lamps] == [
        one("Streetlight", k, at + timedelta(hours=3), "faults")["st"] for k in lamps
    ]

    def tilt_growth(key: str, scenario: str) -> float:
        return (
            one("BuildingTilt", key, at + timedelta(hours=12), scenario)["tx"]
            - one("BuildingTilt", key, at, scenario)["tx"]
        )

    sensors = [f"tilt-{n}" for n in range(60)]
    growth = {k: tilt_growth(k, "faults") for k in sensors}
    drifting = [k for k, g in growth.items() if g > 0.1]
    assert 2 <= len(drifting) <= 15
    assert all(0.2 < growth[k] < 0.3 for k in drifting)  # about 0.02° an hour
    # the others hold still, apart from at most one drifting sensor just re-levelled by maintenance
    assert sum(abs(g) > 0.05 for k, g in growth.items() if k not in drifting) <= 1
    assert all(abs(tilt_growth(k, "normal")) < 0.05 for k in sensors)

    rng = random.Random(5)
    alarms = [reading("SmokeDetector", f"sd-{n % 20}", at, "faults", rng) for n in range(1000)]
    fired = [r for r in alarms if r["smoke"]]
    assert 3 <= len(fired) <= 60 and all(r["t"] >= 45 for r in fired)
    assert not any(reading("SmokeDetector", f"sd-{n % 20}", at, "normal", rng)["smoke"] for n in range(1000))


def test_bad_message_picks_every_kind_with_a_description() -> None:
    rng = random.Random(3)
    picks = [bad_message(rng) for _ in range(300)]
    kinds = {kind for kind, _ in picks}
    assert kinds == {
        "unparseable",
        "out-of-range",
        "unknown-measure",
        "future-timestamp",
        "unknown-device",
        "wrong-apikey",
    }
    assert all(isinstance(text, str) and len(text) > 10 for _, text in picks)
    assert [bad_message(random.Random(9)) for _ in range(3)] == [bad_message(random.Random(9))] * 3


def test_unknown_entity_types_and_scenarios_are_refused() -> None:
    with pytest.raises(ValueError, match="Bridge"):
        reading("Bridge", "b-1", utc(WEDNESDAY, 12), "normal", random.Random(0))
    with pytest.raises(ValueError, match="typhoon"):
        reading("Streetlight", "l-1", utc(WEDNESDAY, 12), "typhoon", random.Random(0))


def test_the_spot_tally_counts_what_every_spots_reading_says() -> None:
    keys = [f"HP-PS-{n:05d}" for n in range(40)]
    tally = SpotTally(keys)
    start = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    for k in range(0, 24 * 12, 7):  # a day, every 35 minutes: slots change in between
        at = start + timedelta(minutes=5 * k)
        said = [reading("ParkingSpot", key, at, "normal", random.Random(k))["st"] for key in keys]
        assert tally.occupied(at) == said.count("occupied")
