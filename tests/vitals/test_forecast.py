"""Forecasts, pre-warnings and the MASE backtest on series whose shape is known."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np

from cityos.demo.patterns import reading
from cityos.vitals.definitions import Thresholds
from cityos.vitals.forecast import clipped, forecast, mase, pre_warnings, regular, season_steps

MIN = 60_000
FRUIN = Thresholds(direction="above", blue=2, yellow=3, orange=4, red=5, hysteresis=0.2, minDuration="2m")


def test_regular_grid_means_per_step_and_carries_gaps() -> None:
    start, y = regular([(0, 1.0), (30_000, 3.0), (3 * MIN, 5.0)], MIN, 3 * MIN)
    assert start == 0 and list(y) == [2.0, 2.0, 2.0, 5.0]


def test_a_short_series_gives_the_last_value() -> None:
    fc = forecast([(0, 4.0), (MIN, 5.0)], step_ms=MIN, horizon_ms=10 * MIN, seasonality=["daily"], now_ms=MIN)
    assert fc.method == "last-value" and fc.points[0].mean == 5.0 and len(fc.points) == 10


def test_a_climbing_crowd_is_pre_warned_well_before_orange() -> None:
    # density rising from 1 to 5.5 persons/m² over three hours, with noise: orange (4) at 2 h
    rng = random.Random(3)
    t0 = int(datetime(2026, 12, 31, 10, 0, tzinfo=UTC).timestamp() * 1000)
    series = [(t0 + k * MIN, 1.0 + 1.5 * k / 60 + rng.gauss(0, 0.05)) for k in range(181)]
    crossing = next(t for t, v in series if v >= 4.0)
    warned_at = None
    for now_k in range(60, 181, 5):  # the forecast is refreshed every 5 minutes
        now = t0 + now_k * MIN
        seen = [(t, v) for t, v in series if t <= now]
        held = 0
        for _, v in seen:
            held = max(held, 0 if v < 2 else 1 if v < 3 else 2 if v < 4 else 3)
        fc = forecast(seen, step_ms=MIN, horizon_ms=60 * MIN, seasonality=["daily"], now_ms=now)
        pw = next((w for w in pre_warnings(fc, FRUIN, held) if w.level == 3), None)
        if pw is not None and pw.probability >= 0.5:
            warned_at = now
            assert pw.at_ms > now and abs(pw.at_ms - crossing) <= 20 * MIN  # says when, about right
            break
    assert warned_at is not None and crossing - warned_at >= 15 * MIN


def test_intervals_widen_with_the_horizon_and_hold_the_mean() -> None:
    rng = random.Random(1)
    series = [(k * MIN, 10 + rng.gauss(0, 1)) for k in range(120)]
    fc = forecast(series, step_ms=MIN, horizon_ms=30 * MIN, seasonality=[], now_ms=119 * MIN)
    widths = [p.hi95 - p.lo95 for p in fc.points]
    assert all(p.lo95 <= p.lo80 <= p.mean <= p.hi80 <= p.hi95 for p in fc.points)
    assert widths[-1] >= widths[0] > 0


def test_backtest_beats_seasonal_naive_on_the_demo_crowd_pattern() -> None:
    # four days of a hot-spot crowd counter at 30-minute steps: a daily shape with noise
    rng = random.Random(7)
    start = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)  # Monday 00:00 in Shanghai
    at = [start + timedelta(minutes=30 * k) for k in range(4 * 48)]
    y = np.array([reading("CrowdFlowObserved", "HP-CF-00001", t, "normal", rng, hot_spot=True)["n"] for t in at])
    score = mase(y, horizon=2, season=48, origins=12)
    assert score is not None and math.isfinite(score) and score < 1.0


SHARE = Thresholds(direction="above", blue=0.85, yellow=0.9, orange=0.95, hysteresis=0.02, minDuration="10m")


def test_a_forecast_near_a_shares_ceiling_is_not_certain() -> None:
    # a share sitting near 1.0: the band cut at 1.0 (clipped) says nothing of the spread; the likelihood of
    # orange comes from the forecast before the cut, and the spread is at least the series' own noise
    rng = random.Random(5)
    series = [(k * 10 * MIN, min(1.0, 0.97 + rng.gauss(0, 0.02))) for k in range(200)]
    fc = forecast(series, step_ms=10 * MIN, horizon_ms=120 * MIN, seasonality=[], now_ms=199 * 10 * MIN)
    cut = clipped(fc, 0.0, 1.0)
    assert all(p.hi95 <= 1.0 for p in cut.points)
    noise = float(np.std(np.diff([v for _, v in series]))) / math.sqrt(2)
    assert all(p.hi95 - p.mean >= 1.96 * noise * 0.99 for p in fc.points)
    orange = next(w for w in pre_warnings(fc, SHARE, 0) if w.level == 3)
    assert 0.5 <= orange.probability < 0.999


def test_the_season_is_the_longest_the_history_covers() -> None:
    step = 10 * MIN
    assert season_steps(["daily", "weekly"], step, 7 * 144) == 7 * 144  # a week: the weekly season
    assert season_steps(["daily", "weekly"], step, 3 * 144) == 144  # three days: the days' season
    assert season_steps(["daily", "weekly"], step, 100) == 144  # less than a day: the shortest asked for
    assert season_steps([], step, 5000) is None
    # a day and a half of a daily pattern asked for with a weekly one too: forecast by its days, not a trend
    series = [(k * step, 5 + math.sin(2 * math.pi * k / 144)) for k in range(216)]
    fc = forecast(series, step_ms=step, horizon_ms=120 * MIN, seasonality=["daily", "weekly"], now_ms=215 * step)
    assert fc.method == "seasonal-mean"
