"""The figures of 好差评 over a period, per item, department or channel: how many ratings, how many of each
level, the 好评率 and the 差评 answered on time.

好评率 (good rate) = ratings of 4 (满意) or 5 (非常满意) / all ratings of the period; None when there are none.
差评 answered on time = follow-ups whose first answer came within the first round's 15 working days and that were
never escalated (no round went past its limit) / follow-ups opened by the period's ratings (None when none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cityos.onestop import applications
from cityos.onestop import rating_store as store
from cityos.onestop.rating_workflow import GOOD, LEVELS
from cityos.onestop.ratings import ms
from cityos.runtime import Runtime

By = Literal["item", "department", "channel"]
BY: tuple[By, ...] = ("item", "department", "channel")


@dataclass
class Figures:
    """One group's figures (the whole period's when ``key`` is None)."""

    key: str | None = None
    name: str | None = None
    ratings: int = 0
    levels: dict[int, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    follow_ups: int = 0
    answered: int = 0
    answered_on_time: int = 0

    @property
    def good(self) -> int:
        return sum(n for level, n in self.levels.items() if level in GOOD)

    @property
    def good_rate(self) -> float | None:
        return None if self.ratings == 0 else self.good / self.ratings

    @property
    def on_time_rate(self) -> float | None:
        return None if self.follow_ups == 0 else self.answered_on_time / self.follow_ups

    def add(self, row: dict[str, Any]) -> None:
        n = int(row["n"])
        self.ratings += n
        self.levels[int(row["level"])] += n
        self.follow_ups += int(row["follow_ups"] or 0)
        self.answered += int(row["answered"] or 0)
        self.answered_on_time += int(row["on_time"] or 0)


@dataclass(frozen=True)
class Stats:
    since: datetime | None
    until: datetime | None
    by: By
    overall: Figures
    groups: list[Figures]
    open_follow_ups: int
    overdue_follow_ups: int


def _grouped(rows: Iterable[dict[str, Any]], by: By) -> list[Figures]:
    groups: dict[str, Figures] = {}
    for r in rows:
        key = str(r[by])
        name = r["item_name"] if by == "item" else None
        groups.setdefault(key, Figures(key=key, name=name)).add(r)
    return sorted(groups.values(), key=lambda f: (-f.ratings, f.key or ""))


def stats(rt: Runtime, tenant: str, *, by: By = "department", since: datetime | None = None,
          until: datetime | None = None, department: str | None = None) -> Stats:  # fmt: skip
    """The period's figures (``since`` included, ``until`` left out; None: unbounded), overall and per ``by``;
    ``department``: that department's ratings only. With the follow-ups that owe an answer now, and those past
    their limit."""
    now = applications.now_ms()
    with rt.db.connect() as conn:
        rows = store.grouped(conn, tenant, ms(since), ms(until))
        counts = store.follow_up_counts(conn, tenant, ms(now) or 0, department)
    if department is not None:
        rows = [r for r in rows if r["department"] == department]
    overall = Figures()
    for r in rows:
        overall.add(r)
    return Stats(since, until, by, overall, _grouped(rows, by), counts["open"], counts["overdue"])


def satisfaction_figures(rt: Runtime, tenant: str, *, since: datetime | None = None) -> dict[str, Any]:
    """The 好差评 figures since ``since`` (None: all time), for other packages (the plan indicators, the
    dashboard): ``ratings`` (count), ``good_rate`` (share rated 4 or 5; None when there are no ratings),
    ``levels`` (count per level 1–5), ``follow_ups``, ``answered_on_time``, ``on_time_rate`` (None when no
    follow-up), ``open_follow_ups`` and ``overdue_follow_ups`` (now, whatever ``since``)."""
    s = stats(rt, tenant, since=since)
    o = s.overall
    return {"ratings": o.ratings, "good_rate": o.good_rate, "levels": dict(o.levels), "follow_ups": o.follow_ups,
            "answered_on_time": o.answered_on_time, "on_time_rate": o.on_time_rate,
            "open_follow_ups": s.open_follow_ups, "overdue_follow_ups": s.overdue_follow_ups}  # fmt: skip
