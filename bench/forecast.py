"""Backtest of the vital-sign forecasts on the simulator's demo series. Prints figures; asserts nothing.

For --days of history (default 7 and 14), a demo series is sampled on a 5-minute grid from the
simulator's patterns (cityos.demo.patterns.reading, seeded noise, the `normal` scenario, so weekdays,
weekends and holidays as the calendar has them), summed or averaged over a few devices as the
indicator does: the Bund's people counted (the input of its crowd density), PM2.5 at one station and
averaged over a grid's three (pm25_grid), and traffic flow on one road. MASE
(cityos.vitals.forecast.mase: rolling origins, one-hour horizon, daily season) against seasonal naive
scaled in sample: below 1 beats seasonal naive. The method each origin chose is counted (Holt-Winters
once four seasons are stored and it beat the seasonal mean on the latest stretch, else the seasonal
mean moved to the latest level).

Run: .venv/bin/python bench/forecast.py [--days 7,14] [--origins 12]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np

from cityos.demo.patterns import reading
from cityos.vitals.forecast import forecast_values, mase

STEP = timedelta(minutes=5)
SEASON = 288  # 5-minute steps in a day
HORIZON = 12  # one hour
END = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
SERIES = {  # name -> (entity type, measure, devices, summed (else averaged))
    "bund people counted (5 min)": ("CrowdFlowObserved", "n", 8, True),
    "pm25 one station": ("AirQualityObserved", "pm25", 1, False),
    "pm25 grid average, 3 stations": ("AirQualityObserved", "pm25", 3, False),
    "traffic flow one road": ("TrafficFlowObserved", "q", 1, True),
}


def sample(entity_type: str, measure: str, devices: int, summed: bool, days: int) -> np.ndarray:
    rng = random.Random(17)
    start = END - timedelta(days=days)
    steps = days * SEASON
    out = np.zeros(steps)
    for i in range(steps):
        at = start + i * STEP
        out[i] = sum(
            float(reading(entity_type, f"HP-BENCH-{d:02d}", at, "normal", rng, spot="waitan").get(measure, 0.0))
            for d in range(devices)
        )
    return out if summed else out / devices


def methods(y: np.ndarray, origins: int) -> Counter[str]:
    first, last = 2 * SEASON, len(y) - HORIZON
    picks = sorted({int(x) for x in np.linspace(first, last, num=origins)})
    return Counter(forecast_values(y[:o], HORIZON, SEASON)[0] for o in picks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", default="7,14", help="days of history, comma-separated (default 7,14)")
    ap.add_argument("--origins", type=int, default=24, help="forecast origins per series (default 24)")
    args = ap.parse_args()
    print("cityos forecast backtest: 5-minute grid, one-hour horizon, daily season; MASE < 1 beats seasonal naive")
    for days in (int(d) for d in args.days.split(",")):
        for name, (entity_type, measure, devices, summed) in SERIES.items():
            y = sample(entity_type, measure, devices, summed, days)
            started = time.perf_counter()
            score = mase(y, HORIZON, SEASON, origins=args.origins)
            took = time.perf_counter() - started
            used = methods(y, args.origins)
            shown = "too short" if score is None else f"{score:.3f}"
            print(f"  {days:>2} days  {name:<30} MASE {shown:>9}   ({args.origins} origins in {took:.0f} s; "
                  f"methods {dict(used)})")  # fmt: skip


if __name__ == "__main__":
    main()
