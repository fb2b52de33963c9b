"""Anomaly diagnosis: robust z-scores against the seasonal baseline, and telling a faulty sensor from a
real event."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from cityos.vitals.anomaly import SensorDiagnosis, baselines, diagnose, pattern, robust_z, score

DAY = 96  # 15-minute steps in a day
DAYS = 5


def daily(seed: int, *, level: float = 40.0) -> list[float]:
    """Five days of a daily shape with noise, one value every 15 minutes."""
    rng = random.Random(seed)
    return [level + 15 * math.sin(2 * math.pi * i / DAY) + rng.gauss(0, 1.0) for i in range(DAYS * DAY)]


def sensor(name: str, values: list[float]) -> SensorDiagnosis:
    y = np.array(values)
    s = score(y, DAY)
    assert s is not None
    return SensorDiagnosis(name, s, pattern(values, y, DAY, s))


def mean_of(series: list[list[float]]) -> np.ndarray:
    return np.mean(np.array(series), axis=0)


def test_robust_z_is_the_distance_from_the_median_in_scaled_mads() -> None:
    sample = np.array([10.0, 11, 9, 10, 12, 8, 10, 11, 9, 10])
    med = 10.0
    mad = 1.4826 * float(np.median(np.abs(sample - med)))  # the MAD is 1 here
    assert robust_z(16.0, sample) == pytest.approx((16 - med) / mad)
    assert robust_z(16.0, sample[:5]) is None  # too small a sample to say
    flat = np.full(10, 3.0)
    assert robust_z(3.0, flat) == 0 and robust_z(4.0, flat) == math.inf


def test_the_baseline_is_the_median_of_the_same_moment_in_earlier_seasons() -> None:
    y = np.array([float(i % 4 + 10 * (i // 4)) for i in range(20)])  # seasons of 4, each 10 higher
    base = baselines(y, 4)
    assert np.isnan(base[:4]).all()
    assert base[4] == y[0] and base[9] == np.median([y[5], y[1]])
    assert base[19] == np.median([y[15], y[11], y[7], y[3]])


def test_an_ordinary_day_is_normal() -> None:
    sensors = [sensor(f"s{i}", daily(i)) for i in range(8)]
    own = score(mean_of([daily(i) for i in range(8)]), DAY)
    assert own is not None
    d = diagnose(own, sensors)
    assert (d.anomalous, d.verdict) == (False, "normal")
    assert all(s.pattern == "normal" for s in sensors)


def test_all_sensors_rising_together_is_an_event() -> None:
    series = [daily(i) for i in range(8)]
    for s in series:
        s[-1] += 25  # everyone sees it: a pollution episode
    own = score(mean_of(series), DAY)
    assert own is not None and own.z is not None and own.z > 3.5
    d = diagnose(own, [sensor(f"s{i}", s) for i, s in enumerate(series)])
    assert d.verdict == "event" and "8 of 8" in d.explanation


def test_one_stuck_sensor_is_told_apart_from_an_event() -> None:
    series = [daily(i) for i in range(8)]
    series[3][-8:] = [160.0] * 8  # reads the same high value again and again
    own = score(mean_of(series), DAY)
    assert own is not None and own.z is not None and own.z > 3.5
    sensors = [sensor(f"s{i}", s) for i, s in enumerate(series)]
    assert sensors[3].pattern == "stuck"
    d = diagnose(own, sensors)
    assert d.verdict == "sensor" and "s3" in d.explanation and "stuck" in d.explanation
    assert d.sensors[0].entity == "s3"  # the one departing most comes first


def test_a_drifting_sensor_is_told_apart_from_an_event() -> None:
    series = [daily(i) for i in range(8)]
    for k in range(DAY):  # over the last day its readings slide upwards, 0.6 a step
        series[5][-DAY + k] += 0.6 * k
    sensors = [sensor(f"s{i}", s) for i, s in enumerate(series)]
    assert sensors[5].pattern == "drifting"
    assert [s.pattern for i, s in enumerate(sensors) if i != 5] == ["normal"] * 7
    own = score(mean_of(series), DAY)
    assert own is not None
    d = diagnose(own, sensors)
    assert d.verdict == "sensor" and "s5" in d.explanation and "drifting" in d.explanation
