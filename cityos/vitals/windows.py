"""Window arithmetic: the observations of one indicator in one scope group, and their aggregate.

Pure: no clock, no I/O. Times are epoch milliseconds of observation (event time). A sliding window
holds the observations of ``(t - duration, t]`` where t is the newest observation or the time the
engine advanced it to; a tumbling window holds ``[k·duration, (k+1)·duration)`` and yields its value
once, when a later observation or time closes it. Late observations for a closed tumbling window are
counted and left out.

A window is *filling* until it has covered its whole span since its first observation (or since the
time the engine knows it has seen everything from: :meth:`WindowState.cover`): its value then sums or
averages only part of the span, so it is marked with how full it is (``Emission.filling``, 0..1) and
says nothing about warning levels or trends.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

HOUR_MS = 3_600_000
AGGREGATIONS = ("avg", "sum", "min", "max", "count", "p95", "rate", "distinct")


@dataclass(frozen=True)
class Observation:
    at_ms: int
    source: str  # the entity observed
    value: float | None  # None for values that only count (text, booleans in a q-filtered count)
    times: int = 1  # how many equal reports it stands for (a replay's tally of many devices): counts count it so often


def aggregate(aggregation: str, obs: Sequence[Observation]) -> float | None:
    """The aggregate of observations in time order; None when there is nothing to aggregate."""
    if aggregation == "count":
        return float(sum(o.times for o in obs))
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
    return _ranked(sorted(values), p)


def _ranked(ordered: Sequence[float], p: float) -> float:
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
    filling: float | None = None  # how much of the span the window has seen (0..1); None: all of it


def fill_of(first_ms: int | None, start_ms: int, end_ms: int) -> float | None:
    """How much of the span ``start_ms``..``end_ms`` lies after ``first_ms`` (0..1); None when all of it
    does (the window is full)."""
    if end_ms <= start_ms:
        return None
    if first_ms is None:
        return 0.0
    seen = end_ms - max(first_ms, start_ms)
    if seen >= end_ms - start_ms:
        return None
    return round(max(0.0, seen / (end_ms - start_ms)), 3)


class Running:
    """The aggregate of what a window holds, kept up to date as observations come and go, so that a
    window's value costs O(log n) per observation instead of a pass over all it holds."""

    __slots__ = ("aggregation", "counted", "ordered", "removed", "sources", "total", "valued")

    def __init__(self, aggregation: str) -> None:
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {aggregation!r}")
        self.aggregation = aggregation
        self.total = 0.0  # sum, avg: the running sum of the values
        self.valued = 0  # observations with a value
        self.removed = 0  # values taken off the running sum since it was last summed exactly
        self.ordered: list[float] = []  # min, max, p95: the values in order
        self.sources: Counter[str] = Counter()  # distinct
        self.counted = 0  # count: the reports held (an observation may stand for several)

    def add(self, o: Observation) -> None:
        self.counted += o.times
        if self.aggregation == "distinct":
            self.sources[o.source] += 1
        if o.value is None:
            return
        self.valued += 1
        if self.aggregation in ("sum", "avg"):
            self.total += o.value
        elif self.aggregation in ("min", "max", "p95"):
            bisect.insort(self.ordered, o.value)

    def remove(self, o: Observation) -> None:
        self.counted -= o.times
        if self.aggregation == "distinct":
            left = self.sources[o.source] - 1
            if left:
                self.sources[o.source] = left
            else:
                del self.sources[o.source]
        if o.value is None:
            return
        self.valued -= 1
        if self.aggregation in ("sum", "avg"):
            self.total -= o.value
            self.removed += 1
        elif self.aggregation in ("min", "max", "p95"):
            del self.ordered[bisect.bisect_left(self.ordered, o.value)]

    def value(self, obs: Sequence[Observation]) -> float | None:
        """The aggregate; ``obs`` is what the window holds, in time order."""
        a = self.aggregation
        if a == "count":
            return float(self.counted)
        if a == "distinct":
            return float(len(self.sources))
        if not self.valued:
            self.total, self.removed = 0.0, 0
            return None
        if a in ("sum", "avg"):
            if self.removed > self.valued:  # re-sum now and then: subtracting lets rounding errors pile up
                self.total = math.fsum(o.value for o in obs if o.value is not None)
                self.removed = 0
            return self.total if a == "sum" else self.total / self.valued
        if a == "min":
            return self.ordered[0]
        if a == "max":
            return self.ordered[-1]
        if a == "p95":
            return _ranked(self.ordered, 95)
        return rate_per_hour(_ends_with_values(obs))


def _ends_with_values(obs: Sequence[Observation]) -> list[Observation]:
    first = next((o for o in obs if o.value is not None), None)
    last = next((o for o in reversed(obs) if o.value is not None), None)
    return [] if first is None or last is None else [first, last]


@dataclass
class WindowState:
    kind: str  # "sliding" or "tumbling"
    duration_ms: int
    aggregation: str
    obs: list[Observation] = field(default_factory=list)  # in time order
    now_ms: int = 0  # sliding: the window's end, the newest time it was advanced to
    open_ms: int | None = None  # tumbling: the start of the window still open
    late: int = 0  # observations left out: older than the window they belong to
    times: list[int] = field(default_factory=list)  # the observations' times, for bisecting without a key
    first_ms: int | None = None  # from when the window has seen everything: its first observation, or cover()
    running: Running = field(init=False)
    _newest: set[str] = field(default_factory=set)  # the sources observed at the newest time held

    def __post_init__(self) -> None:
        self.running = Running(self.aggregation)

    def cover(self, since_ms: int) -> None:
        """The window has seen everything since ``since_ms`` (e.g. refilled from a longer history)."""
        if self.first_ms is None or since_ms < self.first_ms:
            self.first_ms = since_ms

    def _seen(self, at_ms: int) -> None:
        if self.first_ms is None:
            self.first_ms = at_ms

    def add(self, o: Observation) -> list[Emission]:
        """Take an observation in; returns what the window yields because of it. The same source at
        the same time again (a redelivered event, a replay after a restart) is taken once."""
        if self.kind == "sliding":
            return [self.emission()] if self.take(o) else []
        if self._holds(o):
            return []
        if self.open_ms is None:
            self.open_ms = o.at_ms - o.at_ms % self.duration_ms
            self._seen(o.at_ms)
        if o.at_ms < self.open_ms:
            self.late += 1
            return []
        out = self.advance(o.at_ms)
        self._insert(o)
        return out

    def take(self, o: Observation) -> bool:
        """Sliding windows: take an observation in without computing the value (the engine asks for
        it once per round with :meth:`emission`); False if it was a repeat or too late."""
        if self._holds(o):
            return False
        if o.at_ms <= self.now_ms - self.duration_ms:
            self.late += 1
            return False
        self._seen(o.at_ms)
        self._insert(o)
        self._slide(max(self.now_ms, o.at_ms))
        return True

    def emission(self) -> Emission:
        """A sliding window's value now."""
        start = self.now_ms - self.duration_ms
        return Emission(self.now_ms, self.current(), start, len(self.obs), fill_of(self.first_ms, start, self.now_ms))

    def _insert(self, o: Observation) -> None:
        if not self.times or self.times[-1] <= o.at_ms:  # the usual case: observations arrive in time order
            if not self.times or self.times[-1] < o.at_ms:
                self._newest.clear()
            self._newest.add(o.source)
            self.obs.append(o)
            self.times.append(o.at_ms)
        else:
            i = bisect.bisect_right(self.times, o.at_ms)
            self.obs.insert(i, o)
            self.times.insert(i, o.at_ms)
        self.running.add(o)

    def _holds(self, o: Observation) -> bool:
        if not self.times or o.at_ms > self.times[-1]:
            return False
        if o.at_ms == self.times[-1]:
            return o.source in self._newest
        i = bisect.bisect_left(self.times, o.at_ms)
        while i < len(self.times) and self.times[i] == o.at_ms:
            if self.obs[i].source == o.source:
                return True
            i += 1
        return False

    def _slide(self, now_ms: int) -> int:
        """Move a sliding window's end to ``now_ms``; returns how many observations left it."""
        keep = bisect.bisect_right(self.times, now_ms - self.duration_ms)
        if keep:
            for o in self.obs[:keep]:
                self.running.remove(o)
            del self.obs[:keep]
            del self.times[:keep]
            if not self.times:
                self._newest.clear()
        self.now_ms = now_ms
        return keep

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
            left = self._slide(now_ms)
            return [self.emission()] if left or force else []
        if self.open_ms is None or now_ms < self.open_ms + self.duration_ms:
            return []
        end = self.open_ms + self.duration_ms
        out = [Emission(end, self.current(), self.open_ms, len(self.obs), fill_of(self.first_ms, self.open_ms, end))]
        self.obs, self.times = [], []
        self._newest.clear()
        self.running = Running(self.aggregation)
        last_start = now_ms - now_ms % self.duration_ms
        if last_start > end:
            empty = aggregate(self.aggregation, [])
            out.append(Emission(last_start, empty, last_start - self.duration_ms, 0))  # after the first: full
        self.open_ms = last_start
        return out

    def touch(self, at_ms: int) -> list[Emission]:
        """A source reported something this window leaves out (a q filter): time moves on, and a count
        of matching observations has a value (0) for this group even before the first match."""
        self._seen(at_ms)
        if self.kind == "sliding":
            return self.advance(max(self.now_ms, at_ms), force=True)
        if self.open_ms is None:
            self.open_ms = at_ms - at_ms % self.duration_ms
        return self.advance(at_ms)

    def current(self) -> float | None:
        """The value of what the window holds now (a tumbling window: so far)."""
        return self.running.value(self.obs)
