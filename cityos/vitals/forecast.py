"""Trend prediction (趋势智能研判): forecasts with prediction intervals, pre-warnings, and their backtest.

A series is put on a regular grid of ``step`` (the mean of the values in each step; gaps carried
forward). With four seasons of history or more, an additive ETS model (Holt-Winters: damped trend,
daily or weekly season) from statsmodels forecasts it with 80% and 95% intervals; with one to four,
the mean of the same moment over the last seasons plus the latest departure from it, carried forward
with a damped trend; with less than a season, a damped-trend model; with a handful of points, the
last value. A pre-warning says
when the forecast first reaches a level above the one held, and how likely the value is to be there
by then (normal approximation from the interval). MASE compares forecasts with seasonal-naive ones
over the stored history.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cityos.vitals.definitions import Thresholds
from cityos.vitals.levels import level_of

DAY_MS = 86_400_000
MIN_POINTS = 8  # fewer: the last value is the forecast
ETS_SEASONS = 4  # seasons of history before Holt-Winters; with one to four, the seasonal mean
DEPARTURE_STEPS = 36  # the recent stretch whose departure from the seasonal mean is carried forward
_Z80, _Z95 = 1.2816, 1.96


@dataclass(frozen=True)
class ForecastPoint:
    at_ms: int
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


@dataclass(frozen=True)
class Forecast:
    method: str  # "ets-seasonal", "seasonal-mean", "ets-trend" or "last-value"
    step_ms: int
    points: list[ForecastPoint]


@dataclass(frozen=True)
class PreWarning:
    level: int  # the level the forecast reaches
    at_ms: int  # when it first reaches it
    probability: float  # how likely the value is at or past the threshold then (0..1)


def regular(series: Sequence[tuple[int, float]], step_ms: int, end_ms: int) -> tuple[int, np.ndarray]:
    """(first step's start, values) of the series on a regular grid of ``step_ms`` up to ``end_ms``."""
    pts = sorted((t, v) for t, v in series if v is not None and math.isfinite(v))
    if not pts:
        return end_ms, np.array([])
    start = pts[0][0] - pts[0][0] % step_ms
    n = max(1, (end_ms - start) // step_ms + 1)
    sums, counts = np.zeros(n), np.zeros(n)
    for t, v in pts:
        i = min(n - 1, (t - start) // step_ms)
        sums[i] += v
        counts[i] += 1
    out = np.full(n, np.nan)
    out[counts > 0] = sums[counts > 0] / counts[counts > 0]
    for i in range(1, n):  # carry the last value over gaps
        if np.isnan(out[i]):
            out[i] = out[i - 1]
    return start, out


def season_steps(seasonality: Sequence[str], step_ms: int, points: int | None = None) -> int | None:
    """The longest season asked for that ``points`` steps of history cover once at least, in steps (weekly,
    else daily: a week-old history of a quantity with both seasons still has its days); the shortest asked
    for when none is covered yet (None: no season asked for)."""
    asked = [n * DAY_MS // step_ms for name, n in (("weekly", 7), ("daily", 1)) if name in seasonality]
    covered = [s for s in asked if points is None or points >= s]
    return covered[0] if covered else asked[-1] if asked else None


def forecast_values(y: np.ndarray, horizon: int, season: int | None) -> tuple[str, np.ndarray, np.ndarray]:
    """(method, means, standard deviations) of the next ``horizon`` steps of ``y``. No spread is below the
    series' own step-to-step noise (:func:`noise_floor`): a model that fits the recent past closely (a flat
    stretch, a clean ramp) is not thereby certain of the next hours."""
    if len(y) < MIN_POINTS:
        return "last-value", *_last_value(y, horizon)
    method, mean, sd = _model(y, horizon, season)
    return method, mean, np.maximum(sd, noise_floor(y, horizon))


def noise_floor(y: np.ndarray, horizon: int) -> np.ndarray:
    """The least spread a forecast of ``y`` can honestly claim at each of the next ``horizon`` steps: the noise
    of its recent values (the spread of their step-to-step changes over the last 288 points, DEPARTURE_STEPS
    at least, over √2), and never below a thousandth of the series' typical size."""
    recent = y[-max(DEPARTURE_STEPS, min(len(y), 288)) :]
    changes = np.diff(recent)
    spread = float(np.std(changes)) / math.sqrt(2) if len(changes) > 1 else 0.0
    scale = float(np.mean(np.abs(recent))) if len(recent) else 0.0
    return np.full(horizon, max(spread, 1e-3 * scale))


def _model(y: np.ndarray, horizon: int, season: int | None) -> tuple[str, np.ndarray, np.ndarray]:
    seasonal = season is not None and season >= 2
    if seasonal and season is not None and len(y) >= season:
        if len(y) < ETS_SEASONS * season:
            return "seasonal-mean", *_seasonal_mean(y, horizon, season)
        # Holt-Winters if it beat the seasonal mean on the last stretch of the history, else that
        check = min(season, max(4 * horizon, 8))
        ets = _ets(y[:-check], check, season)
        baseline, _ = _seasonal_mean(y[:-check], check, season)
        actual = y[-check:]
        if ets is not None and np.mean(np.abs(actual - ets[0])) < np.mean(np.abs(actual - baseline)):
            full = _ets(y, horizon, season)
            if full is not None:
                return "ets-seasonal", *full
        return "seasonal-mean", *_seasonal_mean(y, horizon, season)
    trend = _ets(y, horizon, None)
    if trend is not None:
        return "ets-trend", *trend
    return "last-value", *_last_value(y, horizon)


def _last_value(y: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The last value, its spread growing like a random walk's from the step-to-step changes."""
    last = float(y[-1]) if len(y) else 0.0
    spread = float(np.std(np.diff(y))) if len(y) > 2 else abs(last) * 0.1
    return np.full(horizon, last), spread * np.sqrt(np.arange(1, horizon + 1))


def _ets(y: np.ndarray, horizon: int, season: int | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Means and standard deviations from an additive ETS model with damped trend (and a season)."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    # With a season, the initial states come from the first cycles (heuristic): estimating a day of 5-minute
    # seasonal states with the smoothing parameters takes the optimiser minutes; this takes a tenth of a second.
    kwargs = {"seasonal": "add", "seasonal_periods": season, "initialization_method": "heuristic"} if season else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsmodels warns about convergence; the fit is still usable
            model = ETSModel(pd.Series(y.astype(float)), error="add", trend="add", damped_trend=True, **kwargs)
            fit = model.fit(disp=False, maxiter=200)
            frame = fit.get_prediction(start=len(y), end=len(y) + horizon - 1).summary_frame(alpha=0.05)
    except (ValueError, np.linalg.LinAlgError):
        return None
    mean = frame["mean"].to_numpy()
    sd = (frame["pi_upper"].to_numpy() - mean) / _Z95
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))):
        return None
    return mean, np.maximum(sd, 0.0)


def _seasonal_mean(y: np.ndarray, horizon: int, season: int, most: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the same moment over the last few seasons (up to ``most``), plus the latest departure
    from it carried forward with a damped trend: a crowd building faster than on other evenings is seen
    coming, while on an ordinary day the departure is noise and its trend stays near zero. The spread
    from the season-to-season differences, widened by the departure's own forecast uncertainty."""
    seasons = max(1, min(most, len(y) // season))

    def profile(at: np.ndarray) -> np.ndarray:  # the mean of the values whole seasons before ``at``
        out = np.empty(len(at))
        for n, a in enumerate(at):
            back = [a - j * season for j in range(1, seasons + 1)]
            past = [y[b] for b in back if 0 <= b < len(y)]
            if not past:  # further ahead than a season: the latest season stands for it
                past = [y[len(y) - season + (a - len(y)) % season]]
            out[n] = float(np.mean(past))
        return out

    ahead = len(y) + np.arange(horizon)
    diffs = y[season:] - y[:-season]
    spread = float(np.std(diffs)) / math.sqrt(2) if len(diffs) > 1 else abs(float(y[-1])) * 0.1
    steps = np.arange(1, horizon + 1)
    sd = spread * np.sqrt(1 + 1 / seasons + np.ceil(steps / season) - 1)
    recent = np.arange(max(len(y) - max(DEPARTURE_STEPS, 2 * horizon), season), len(y))
    departure = y[recent] - profile(recent)
    if len(departure) >= MIN_POINTS and np.ptp(departure) > 0:
        trend = _ets(departure, horizon, None)
        if trend is not None:
            return profile(ahead) + trend[0], np.sqrt(sd**2 + trend[1] ** 2)
    shift = float(np.mean(departure)) if len(departure) else 0.0
    return profile(ahead) + shift, sd


def forecast(
    series: Sequence[tuple[int, float]], *, step_ms: int, horizon_ms: int, seasonality: Sequence[str], now_ms: int
) -> Forecast:
    """The forecast of a series from ``now_ms`` on, over ``horizon_ms``, at ``step_ms`` resolution."""
    start, y = regular(series, step_ms, now_ms)
    horizon = max(1, horizon_ms // step_ms)
    method, mean, sd = forecast_values(y, horizon, season_steps(seasonality, step_ms, len(y)))
    first = start + len(y) * step_ms
    points = [
        ForecastPoint(
            first + k * step_ms,
            float(m),
            float(m - _Z80 * s),
            float(m + _Z80 * s),
            float(m - _Z95 * s),
            float(m + _Z95 * s),
        )
        for k, (m, s) in enumerate(zip(mean, sd, strict=True))
    ]
    return Forecast(method, step_ms, points)


def clipped(fc: Forecast, lo: float | None, hi: float | None) -> Forecast:
    """The forecast with its means and intervals kept within the values the quantity can take (a crowd
    density's band does not go below 0 persons/m², a share's not above 1)."""
    if lo is None and hi is None:
        return fc

    def c(x: float) -> float:
        if lo is not None:
            x = max(lo, x)
        return x if hi is None else min(hi, x)

    points = [ForecastPoint(p.at_ms, c(p.mean), c(p.lo80), c(p.hi80), c(p.lo95), c(p.hi95)) for p in fc.points]
    return Forecast(fc.method, fc.step_ms, points)


def pre_warnings(fc: Forecast, thresholds: Thresholds, held: int) -> list[PreWarning]:
    """Each level above ``held`` the forecast's mean reaches within its horizon: when it first does,
    and how likely the value is to be at or past that threshold then; least severe first. ``fc`` is the
    forecast before :func:`clipped`: a band cut at the quantity's limit (a share's 1.0) no longer says how
    wide the forecast is, and would make a mean near the limit look certain."""
    out: list[PreWarning] = []
    limits = dict(thresholds.levels())
    for p in fc.points:
        level = level_of(p.mean, thresholds, held)
        for n in sorted(limits):
            if held < n <= level and all(w.level != n for w in out):
                sd = max((p.hi95 - p.mean) / _Z95, 1e-9)
                gap = p.mean - limits[n] if thresholds.direction == "above" else limits[n] - p.mean
                out.append(PreWarning(n, p.at_ms, 0.5 * (1 + math.erf(gap / sd / math.sqrt(2)))))
    return out


def mase(y: np.ndarray, horizon: int, season: int, *, origins: int = 20) -> float | None:
    """Mean absolute scaled error of the forecasts from rolling origins over ``y``, scaled by the
    in-sample seasonal-naive error (Hyndman and Koehler, 2006); below 1 beats seasonal naive."""
    first = max(MIN_POINTS, 2 * season)
    if len(y) < first + horizon:
        return None
    last = len(y) - horizon
    picks = sorted({int(x) for x in np.linspace(first, last, num=min(origins, last - first + 1))})
    errors: list[float] = []
    scales: list[float] = []
    for o in picks:
        train, test = y[:o], y[o : o + horizon]
        _, mean, _ = forecast_values(train, horizon, season)
        errors.extend(np.abs(test - mean[: len(test)]))
        scale = np.mean(np.abs(train[season:] - train[:-season]))
        if scale > 0:
            scales.append(float(scale))
    if not scales:
        return None
    return float(np.mean(errors) / np.mean(scales))
