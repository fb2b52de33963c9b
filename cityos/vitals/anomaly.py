"""Anomaly diagnosis (可诊断): is a value out of the ordinary, and is it the city or a sensor?

A value is compared with its seasonal baseline, the median of the same moment in the previous
seasons; the residual's robust z-score (distance from the residuals' median in units of their MAD,
scaled by 1.4826 to match a standard deviation) flags it at 3.5 or more (Iglewicz and Hoaglin). The
sensors feeding the indicator are scored the same way, and each is checked for the patterns of a
faulty sensor: stuck (the same reading over and over where it used to vary), drifting (a steady
one-way slide of its residual), or a lone outlier. When most sensors move together the anomaly is
an event in the city; when one sensor departs while the others stay calm, it is that sensor.

A baseline built from too little history (``too-short``) or from history that ends days ago, the
recent days missing (``too-old``: seed data of a demo, a sensor back from a long outage), says
nothing: such a value or sensor gets no z and no verdict, with the reason in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Z_FLAG = 3.5  # |robust z| from which a value is anomalous
Z_AGREE = 2.0  # |robust z| from which a sensor counts as moving with the anomaly
STUCK_READINGS = 6  # this many identical latest readings, where the history varies: stuck
MAD_SCALE = 1.4826  # MAD of a normal sample × this = its standard deviation
SEASONS = 4  # previous seasons the baseline is the median of
BASELINE_MIN_POINTS = 8  # earlier points (on the scoring grid) a baseline needs
BASELINE_RECENT_MS = 2 * 86_400_000  # ... within this long before now; with them only older: too old


@dataclass(frozen=True)
class Basis:
    """What a baseline is built from: ok, too-old or too-short, and why (中文, English)."""

    status: Literal["ok", "too-old", "too-short"] = "ok"
    reason_zh: str | None = None
    reason_en: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


OK = Basis()


@dataclass(frozen=True)
class Score:
    value: float
    baseline: float
    z: float | None  # None: too little history to say
    basis: Basis = OK


def basis(times: Sequence[int], now_ms: int, step_ms: int) -> Basis:
    """Whether the observations at ``times`` (epoch ms) give a baseline for the newest of them: at least
    BASELINE_MIN_POINTS earlier steps of ``step_ms``, enough of them in the last BASELINE_RECENT_MS."""
    steps = sorted({t // step_ms for t in times})[:-1]  # the newest is the value scored
    recent = [k for k in steps if k * step_ms + step_ms > now_ms - BASELINE_RECENT_MS]
    if len(recent) >= BASELINE_MIN_POINTS:
        return OK
    days = BASELINE_RECENT_MS // 86_400_000
    older = len(steps) - len(recent)
    if older:
        ago = (now_ms - (steps[older - 1] + 1) * step_ms) / 86_400_000
        return Basis(
            "too-old",
            f"基线过旧：近 {days} 天只有 {len(recent)} 个历史数据点（至少需要 {BASELINE_MIN_POINTS} 个），"
            f"其余数据截至 {ago:.1f} 天前，暂不判断是否异常",
            f"baseline too old: {len(recent)} earlier points in the last {days} days (at least "
            f"{BASELINE_MIN_POINTS} needed), the rest end {ago:.1f} days ago; no anomaly judged",
        )
    return Basis(
        "too-short",
        f"基线过短：只有 {len(steps)} 个历史数据点（至少需要 {BASELINE_MIN_POINTS} 个），暂不判断是否异常",
        f"baseline too short: {len(steps)} earlier points (at least {BASELINE_MIN_POINTS} needed); no anomaly judged",
    )


def unjudged(s: Score, b: Basis) -> Score:
    """The score without its z, when its baseline cannot say (``b`` not ok)."""
    return s if b.ok else Score(s.value, s.baseline, None, b)


@dataclass(frozen=True)
class SensorDiagnosis:
    entity: str
    score: Score
    pattern: str  # "normal", "stuck", "drifting", "outlier" or "unknown" (no baseline to judge by)


@dataclass(frozen=True)
class Diagnosis:
    score: Score
    anomalous: bool
    verdict: str  # "normal", "event", "sensor", "unclear" or "unknown" (no baseline to judge by)
    explanation: str
    sensors: list[SensorDiagnosis]


def scaled_mad(sample: np.ndarray) -> float:
    """The median absolute deviation from the median, scaled to a standard deviation's size."""
    return float(np.median(np.abs(sample - np.median(sample)))) * MAD_SCALE


def robust_z(x: float, sample: np.ndarray) -> float | None:
    """How far ``x`` lies from the sample's median in scaled MADs (None if the sample cannot say)."""
    sample = sample[np.isfinite(sample)]
    if len(sample) < 8:
        return None
    med = float(np.median(sample))
    mad = scaled_mad(sample)
    if mad <= 1e-12:
        spread = float(np.std(sample))
        if spread <= 1e-12:
            return 0.0 if abs(x - med) <= 1e-12 else float(np.sign(x - med) * np.inf)
        mad = spread  # more than half the sample is one value: the standard deviation stands in
    return (x - med) / mad


def baselines(y: np.ndarray, season: int | None) -> np.ndarray:
    """Each point's baseline: the median of the same moment over up to SEASONS previous seasons (NaN
    where there is none), or without a season the median of the whole series."""
    if not season or len(y) <= season:
        return np.full(len(y), float(np.nanmedian(y)) if len(y) else np.nan)
    out = np.full(len(y), np.nan)
    for i in range(season, len(y)):
        past = y[[i - k * season for k in range(1, SEASONS + 1) if i - k * season >= 0]]
        out[i] = float(np.nanmedian(past))
    return out


def score(y: np.ndarray, season: int | None) -> Score | None:
    """The latest point of a regular series against its seasonal baseline."""
    if len(y) == 0:
        return None
    base = baselines(y, season)
    resid = y - base
    known = resid[:-1][np.isfinite(resid[:-1])]
    last = float(resid[-1]) if np.isfinite(resid[-1]) else float(y[-1] - np.nanmedian(y))
    baseline = float(y[-1] - last)
    return Score(float(y[-1]), baseline, robust_z(last, known))


def pattern(raw: Sequence[float], y: np.ndarray, season: int | None, s: Score) -> str:
    """What a sensor's readings look like: stuck, drifting, a lone outlier, or normal.

    ``raw``: its latest readings as sent; ``y``: its series on the regular grid the score used."""
    history = np.asarray(raw[:-STUCK_READINGS], dtype=float)
    latest = raw[-STUCK_READINGS:]
    if len(latest) == STUCK_READINGS and len(set(latest)) == 1 and len(history) >= 8 and np.ptp(history) > 0:
        return "stuck"
    if not s.basis.ok:  # no baseline to depart from
        return "unknown"
    if _drifting(y, season):
        return "drifting"
    if s.z is not None and abs(s.z) >= Z_FLAG:
        return "outlier"
    return "normal"


def _drifting(y: np.ndarray, season: int | None) -> bool:
    """The residual of the latest season slides one way (Theil-Sen slope, its 95% interval clear of 0)
    by more than Z_FLAG residual spreads over the season, while the seasons before were steady."""
    from scipy.stats import theilslopes

    span = season or max(8, len(y) // 4)
    if len(y) < 2 * span:
        return False
    resid = y - baselines(y, season)
    recent, before = resid[-span:], resid[:-span]
    ok = np.isfinite(recent)
    before = before[np.isfinite(before)]
    if ok.sum() < 8 or len(before) < 8:
        return False
    slope, _, lo, hi = theilslopes(recent[ok], np.arange(span)[ok])
    spread = max(scaled_mad(before), 1e-9)
    return bool((lo > 0 or hi < 0) and abs(slope) * span > Z_FLAG * spread)


def diagnose(indicator: Score, sensors: list[SensorDiagnosis]) -> Diagnosis:
    """The verdict on an indicator's latest value from its own score and its sensors'."""
    z = indicator.z
    anomalous = z is not None and abs(z) >= Z_FLAG
    faulty = [s for s in sensors if s.pattern in ("stuck", "drifting")]
    ranked = sorted(sensors, key=lambda s: -abs(s.score.z or 0.0))
    if not indicator.basis.ok:
        return Diagnosis(indicator, False, "unknown", indicator.basis.reason_en or "", ranked)
    if not anomalous:
        note = f"; {len(faulty)} sensor(s) look faulty: {', '.join(s.entity for s in faulty[:3])}" if faulty else ""
        return Diagnosis(indicator, False, "normal", f"within its seasonal range (z {_fmt(z)}){note}", ranked)
    assert z is not None
    direction = np.sign(z)
    moving = [
        s for s in sensors if s.score.z is not None and np.sign(s.score.z) == direction and abs(s.score.z) >= Z_AGREE
    ]
    word = "above" if z > 0 else "below"
    if len(sensors) >= 3 and len(moving) >= 0.5 * len(sensors):
        return Diagnosis(indicator, True, "event", f"{word} its seasonal range (z {_fmt(z)}) and {len(moving)} of "
                         f"{len(sensors)} sensors move with it: a real change in the city", ranked)  # fmt: skip
    suspects = [s for s in moving if s.pattern != "normal"] or [s for s in faulty if s in ranked[:3]]
    if suspects and len(moving) <= max(1, len(sensors) // 4):
        top = suspects[0]
        return Diagnosis(indicator, True, "sensor", f"{word} its seasonal range (z {_fmt(z)}), but only {top.entity} "
                         f"departs ({top.pattern}) while the others are calm: check that sensor", ranked)  # fmt: skip
    return Diagnosis(indicator, True, "unclear", f"{word} its seasonal range (z {_fmt(z)}); {len(moving)} of "
                     f"{len(sensors)} sensors move with it", ranked)  # fmt: skip


def _fmt(z: float | None) -> str:
    return "n/a" if z is None else f"{z:+.1f}"
