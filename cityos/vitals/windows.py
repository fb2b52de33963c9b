"""Window arithmetic: the observations of one indicator in one scope group, and their aggregate.

Pure: no clock, no I/O. Times are epoch milliseconds of observation (event time). A sliding window
holds the observations of ``(t - duration, t]`` where t is the newest observation or the time the
engine advanced it to; a tumbling window holds ``[k·duration, (k+1)·duration)`` and yields its value
once, when a later observation or time closes it. Late observations for a closed tumbling window are
counted and left out.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Observation:
    at_ms: int
    source: str  # the entity observed
    value: float | None  # None for values that only count (text, booleans in a q-filtered count)


def _time(o: Observation) -> int:
    return o.at_ms


def aggregate(aggregation: str, obs: Sequence[Observation]) -> float | None:
    """The aggregate of observations in time order; None when there is nothing to aggregate."""
    if aggregation == "count":
        return float(len(obs))
    if aggregation == "distinct":
        return float(len({o.source for o in obs}))
    values = [o.value for o in obs if o.value is not None]
    if not values:
        return None
    if aggregation == "sum":
        return math.fsum(values)
    if aggregation == "avg":
        return math.fsum(values) / len(values)
    if aggregation == "min":
        return min(values)
    if aggregation == "max":
        return max(values)
    if aggregation == "p95":
        return percentile(values, 95)
    if aggregation == "rate":
        return rate_per_hour([o for o in obs if o.value is not None])
    raise ValueError(f"unknown aggregation {aggregation!r}")


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (the usual definition, numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def rate_per_hour(obs: Sequence[Observation]) -> float | None:
    """Change per hour from the first to the last observation; None with fewer than two instants."""
    if len(obs) < 2 or obs[-1].at_ms == obs[0].at_ms:
        return None
    assert obs[0].value is not None and obs[-1].value is not None
    return (obs[-1].value - obs[0].value) * HOUR_MS / (obs[-1].at_ms - obs[0].at_ms)


@dataclass
class Emission:
    at_ms: int  # the window's end: the newest observation (sliding) or the closing boundary (tumbling)
    value: float | None
    start_ms: int  # the window's start (exclusive for sliding, inclusive for tumbling)
    observations: int


@dataclass
class WindowState:
    kind: str  # "sliding" or "tumbling"
    duration_ms: int
    aggregation: str
    obs: list[Observation] = field(default_factory=list)  # in time order
    now_ms: int = 0  # sliding: the window's end, the newest time it was advanced to
    open_ms: int | None = None  # tumbling: the start of the window still open
    late: int = 0  # observations left out: older than the window they belong to

    def add(self, o: Observation) -> list[Emission]:
        """Take an observation in; returns what the window yields because of it. The same source at
        the same time again (a redelivered event, a replay after a restart) is taken once."""
        if self._holds(o):
            return []
        if self.kind == "sliding":
            if o.at_ms <= self.now_ms - self.duration_ms:
                self.late += 1
                return []
            bisect.insort(self.obs, o, key=_time)
            return self.advance(max(self.now_ms, o.at_ms), force=True)
        if self.open_ms is None:
            self.open_ms = o.at_ms - o.at_ms % self.duration_ms
        if o.at_ms < self.open_ms:
            self.late += 1
            return []
        out = self.advance(o.at_ms)
        bisect.insort(self.obs, o, key=_time)
        return out

    def _holds(self, o: Observation) -> bool:
        i = bisect.bisect_left(self.obs, o.at_ms, key=_time)
        while i < len(self.obs) and self.obs[i].at_ms == o.at_ms:
            if self.obs[i].source == o.source:
                return True
            i += 1
        return False

    def advance(self, now_ms: int, *, force: bool = False) -> list[Emission]:
        """Move the window's time on (the engine calls this as the clock passes); returns what it yields.

        A sliding window yields its value when observations left it, or when ``force`` is set. A
        tumbling window yields each window that closed; after a silence longer than a window it
        yields one empty window ending at the last boundary (count and distinct are 0 there, the
        others None), so that a count falls back to 0 without a flood of empty windows.
        """
        if self.kind == "sliding":
            if now_ms < self.now_ms:
                return []
            cut = now_ms - self.duration_ms
            keep = bisect.bisect_right(self.obs, cut, key=_time)
            del self.obs[:keep]
            self.now_ms = now_ms
            if not (keep or force):
                return []
            return [Emission(now_ms, aggregate(self.aggregation, self.obs), cut, len(self.obs))]
        if self.open_ms is None or now_ms < self.open_ms + self.duration_ms:
            return []
        end = self.open_ms + self.duration_ms
        out = [Emission(end, aggregate(self.aggregation, self.obs), self.open_ms, len(self.obs))]
        self.obs = []
        last_start = now_ms - now_ms % self.duration_ms
        if last_start > end:
            out.append(Emission(last_start, aggregate(self.aggregation, []), last_start - self.duration_ms, 0))
        self.open_ms = last_start
        return out

    def touch(self, at_ms: int) -> list[Emission]:
        """A source reported something this window leaves out (a q filter): time moves on, and a count
        of matching observations has a value (0) for this group even before the first match."""
        if self.kind == "sliding":
            return self.advance(max(self.now_ms, at_ms), force=True)
        if self.open_ms is None:
            self.open_ms = at_ms - at_ms % self.duration_ms
        return self.advance(at_ms)

    def current(self) -> float | None:
        """The value of what the window holds now (a tumbling window: so far)."""
        return aggregate(self.aggregation, self.obs)
