"""Supervision figures (督办考核) per department and category: volume, timeliness, handling time, returns,
reopenings and the reporters' satisfaction.

Pure functions over :class:`CaseRecord` rows (the store's projection of each case); the current time is passed in
as ``now_ms``. Every rate whose denominator is empty is None, never a division error or a misleading 0.

Definitions:

- *done* at ``handled_at_ms`` (the department reported its result), else at ``closed_at_ms``.
- ``on_time_rate``: of the done cases with a due time, the share done by it (at the due instant counts as on time).
- ``overdue_open``: cases in an open state (not closed, cancelled, merged or split) with a due time at or before
  ``now_ms`` that were not done by it. A case handled on time and awaiting verification is not overdue: the
  verification is not the department's to do.
- handling time: created → done, in hours; ``p90_handling_h`` by linear interpolation between closest ranks.
- ``return_rate``: cases returned (退单) at least once / cases.
- ``reopen_rate``: cases reopened (重办) at least once / cases closed at least once. A reopened case was closed
  once even when it is open again now, so it counts in the denominator too and the rate never exceeds 1.
- ``satisfaction``: ratings of 4 (满意) or 5 (非常满意) / rated cases; ``mean_rating`` their mean.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from cityos.cases.workflow import OPEN, RATING_LABELS, State

# The five-level scale (5 非常满意 … 1 非常不满意), the workflow's own table under the name reports use.
RATINGS = RATING_LABELS
SATISFIED = 4  # a rating at or above this counts as satisfied (满意 or 非常满意)

GroupBy = Literal["department", "category", "department_category"]

_HOUR_MS = 3_600_000
_STATES = frozenset(s.value for s in State)
_OPEN = frozenset(s.value for s in OPEN)


@dataclass(frozen=True)
class CaseRecord:
    """One case as the supervision figures need it; times in epoch milliseconds.

    ``closed_at_ms`` is when the case was last closed (None while open: reopening clears it, as in the workflow);
    ``handled_at_ms`` when the department last reported its result; ``returns`` and ``reopened`` count 退单 and 重办.
    """

    case_id: str
    department: str
    category: str
    created_at_ms: int
    closed_at_ms: int | None = None
    handled_at_ms: int | None = None
    due_at_ms: int | None = None
    returns: int = 0
    reopened: int = 0
    rating: int | None = None
    state: str = State.REGISTERED.value

    def __post_init__(self) -> None:
        # A bad row would skew every figure of its department quietly; refuse it where it is made.
        if self.state not in _STATES:
            raise ValueError(f"case {self.case_id}: unknown state {self.state!r}")
        if self.rating is not None and self.rating not in RATINGS:
            raise ValueError(f"case {self.case_id}: rating {self.rating!r} is not 1 to 5")
        if self.returns < 0 or self.reopened < 0:
            raise ValueError(f"case {self.case_id}: returns and reopened must not be negative")
        for name in ("closed_at_ms", "handled_at_ms"):
            t = getattr(self, name)
            if t is not None and t < self.created_at_ms:
                raise ValueError(f"case {self.case_id}: {name} is before created_at_ms")

    @property
    def done_at_ms(self) -> int | None:
        """When the department finished: its result, else the closing."""
        return self.handled_at_ms if self.handled_at_ms is not None else self.closed_at_ms

    @property
    def is_open(self) -> bool:
        return self.state in _OPEN


@dataclass(frozen=True)
class Figures:
    """The supervision figures of one group of cases (see the module docstring for each definition)."""

    key: tuple[str, ...]
    cases: int
    closed: int
    on_time_rate: float | None
    overdue_open: int
    mean_handling_h: float | None
    p90_handling_h: float | None
    return_rate: float | None
    reopen_rate: float | None
    satisfaction: float | None
    mean_rating: float | None


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p`` quantile (0–1) by linear interpolation between closest ranks (NumPy's default); None when empty."""
    if not 0 <= p <= 1:
        raise ValueError(f"quantile {p!r} must be between 0 and 1")
    if not values:
        return None
    xs = sorted(values)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _figures(key: tuple[str, ...], records: Sequence[CaseRecord], now_ms: int) -> Figures:
    timed = [(done, due) for r in records if (done := r.done_at_ms) is not None and (due := r.due_at_ms) is not None]
    overdue = sum(
        1
        for r in records
        if r.is_open
        and r.due_at_ms is not None
        and r.due_at_ms <= now_ms  # at the due instant the clock already says overdue (timelimits.clock_state)
        and (r.done_at_ms is None or r.done_at_ms > r.due_at_ms)
    )
    hours = [(r.done_at_ms - r.created_at_ms) / _HOUR_MS for r in records if r.done_at_ms is not None]
    ever_closed = sum(1 for r in records if r.state == State.CLOSED or r.reopened > 0)
    ratings = [r.rating for r in records if r.rating is not None]
    return Figures(
        key=key,
        cases=len(records),
        closed=sum(1 for r in records if r.state == State.CLOSED),
        on_time_rate=_rate(sum(1 for done, due in timed if done <= due), len(timed)),
        overdue_open=overdue,
        mean_handling_h=sum(hours) / len(hours) if hours else None,
        p90_handling_h=percentile(hours, 0.9),
        return_rate=_rate(sum(1 for r in records if r.returns > 0), len(records)),
        reopen_rate=_rate(sum(1 for r in records if r.reopened > 0), ever_closed),
        satisfaction=_rate(sum(1 for x in ratings if x >= SATISFIED), len(ratings)),
        mean_rating=sum(ratings) / len(ratings) if ratings else None,
    )


def _key(r: CaseRecord, by: GroupBy) -> tuple[str, ...]:
    if by == "department":
        return (r.department,)
    if by == "category":
        return (r.category,)
    return (r.department, r.category)


def figures(records: Iterable[CaseRecord], by: GroupBy, now_ms: int) -> list[Figures]:
    """The figures of each department, category or (department, category) pair that has cases, sorted by key."""
    if by not in ("department", "category", "department_category"):
        raise ValueError(f"by {by!r}: group by 'department', 'category' or 'department_category'")
    groups: dict[tuple[str, ...], list[CaseRecord]] = defaultdict(list)
    for r in records:
        groups[_key(r, by)].append(r)
    return [_figures(key, groups[key], now_ms) for key in sorted(groups)]


def overall(records: Iterable[CaseRecord], now_ms: int) -> Figures:
    """The figures of all cases together, under the key ``("all",)``."""
    return _figures(("all",), list(records), now_ms)
