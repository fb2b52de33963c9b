"""Time limits of incident cases on the Chinese working-day calendar.

A time limit is ``<N>h`` (calendar hours), ``<N>wd`` (working days) or ``<N>wh`` (working hours, the
工作时 of digital city management: office hours on working days, 09:00–12:00 and 13:00–18:00 by default).

Each unit is a *clock* that runs only at certain times, in Asia/Shanghai local time:

* ``h``  runs always;
* ``wd`` runs all day on working days and stands still on rest days, so ``N wd`` is ``N × 24`` hours of
  running time. A case opened on a working day is due on the Nth working day after it at the same time
  of day (Friday 16:00 + 1wd → Monday 16:00). A case opened on a rest day starts its clock at 00:00 of
  the next working day and is due at the end (24:00) of the Nth working day, as hotline offices count
  (节假日受理的顺延至下一工作日起算); that instant reads as 00:00 of the following calendar day;
* ``wh`` runs during office hours on working days.

Working days come from ``chinese_calendar`` (statutory holidays off, adjusted working weekends on),
overridden by a city's own dates, and fall back to Monday–Friday for years the package does not know;
:meth:`WorkCalendar.approximate` and :attr:`SlaClock.approximate` make that fallback visible.

The reminder, the remaining time, suspension and escalation are all measured on the same clock, so a
reminder at 80 % of a working-day limit never lands in the middle of the Spring Festival.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Literal, overload
from zoneinfo import ZoneInfo

import chinese_calendar

from cityos.cases.errors import InvalidCasesConfig

TZ = ZoneInfo("Asia/Shanghai")
Unit = Literal["h", "wd", "wh"]
ClockState = Literal["on-time", "reminded", "overdue"]

REMINDER_SHARE = 0.8
ESCALATION = ("grid", "street", "district", "city")
OFFICE_HOURS = ("09:00-12:00", "13:00-18:00")

_DAY = timedelta(days=1)
_LIMIT_RE = re.compile(r"^\s*(\d{1,4})\s*(h|wd|wh)\s*$")
_WINDOW_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_MAX_REST_RUN = 366  # a calendar with no working day for a year is a configuration mistake, not a holiday


# ---------------------------------------------------------------------------------------------
# Time limits


@dataclass(frozen=True)
class TimeLimit:
    """A time limit: ``amount`` units of one clock."""

    amount: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def running_time(self) -> timedelta:
        """How long the limit's clock must run: N hours, or N × 24 hours for working days."""
        return timedelta(days=self.amount) if self.unit == "wd" else timedelta(hours=self.amount)


def parse_time_limit(text: str, *, where: str = "time limit") -> TimeLimit:
    """Parse ``"4h"``, ``"3wd"`` or ``"8wh"``; ``where`` names the entry and field in the error message."""
    m = _LIMIT_RE.match(text) if isinstance(text, str) else None
    if m is None or int(m.group(1)) == 0:
        raise InvalidCasesConfig(
            f"{where}: {text!r} is not a time limit; write <N>h (calendar hours), <N>wd (working days) "
            "or <N>wh (working hours) with 1 ≤ N ≤ 9999, e.g. '2h', '3wd', '8wh'"
        )
    return TimeLimit(int(m.group(1)), m.group(2))  # type: ignore[arg-type]


def parse_window(text: str, *, where: str = "time window") -> tuple[time, time | None]:
    """Parse ``"HH:MM-HH:MM"`` into (start, end); an end of ``24:00`` is returned as None (end of day)."""
    m = _WINDOW_RE.match(text) if isinstance(text, str) else None
    parts = [int(g) for g in m.groups()] if m else []
    if not parts or parts[0] > 23 or parts[1] > 59 or parts[2] > 24 or parts[3] > 59 or (parts[2] == 24 and parts[3]):
        raise InvalidCasesConfig(f"{where}: {text!r} is not a time window; write HH:MM-HH:MM, e.g. '22:00-06:00'")
    start, end = time(parts[0], parts[1]), None if parts[2] == 24 else time(parts[2], parts[3])
    if start == end:
        raise InvalidCasesConfig(f"{where}: {text!r} is empty; start and end must differ")
    return start, end


# ---------------------------------------------------------------------------------------------
# Working-day calendar


@lru_cache(maxsize=64)
def calendar_known(year: int) -> bool:
    """Whether the installed ``chinese_calendar`` has the State Council holiday notice for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=8192)
def _official_workday(d: date) -> bool:
    # cached: chinese_calendar scans its whole holiday table on every call to check the year
    return chinese_calendar.is_workday(d)


@dataclass(frozen=True)
class Day:
    """One local date of the calendar; ``approximate`` when it is a Monday–Friday guess."""

    date: date
    working: bool
    approximate: bool
    source: Literal["override", "official", "weekday"]


class WorkCalendar:
    """Working days in Asia/Shanghai, with a city's overrides and office hours.

    ``overrides`` maps a date (or ``"YYYY-MM-DD"``) to True (working) or False (rest); it wins over the
    package, so a city can enter next year's notice before the package is updated. ``known_years`` marks
    years whose notice the overrides cover in full, so that they no longer count as approximate.
    """

    def __init__(
        self,
        overrides: Mapping[date | str, bool] | None = None,
        *,
        known_years: Iterable[int] = (),
        office_hours: Iterable[str] = OFFICE_HOURS,
        where: str = "calendar",
    ) -> None:
        self.overrides = _parse_overrides(overrides or {}, where)
        self.known_years = frozenset(known_years)
        self.office_hours = _parse_office_hours(office_hours, where)
        self._working: dict[date, bool] = {}  # kept: every clock started walks the same days again

    def day(self, d: date) -> Day:
        """The working status of a local date and where it came from."""
        if d in self.overrides:
            return Day(d, self.overrides[d], False, "override")
        if calendar_known(d.year):
            return Day(d, _official_workday(d), False, "official")
        return Day(d, d.weekday() < 5, d.year not in self.known_years, "weekday")

    def is_working_day(self, d: date) -> bool:
        working = self._working.get(d)
        if working is None:
            if len(self._working) >= 8192:
                self._working.clear()
            working = self._working[d] = self.day(d).working
        return working

    def known(self, year: int) -> bool:
        """Whether working days of ``year`` are official (package data, or declared known in config)."""
        return year in self.known_years or calendar_known(year)

    def approximate(self, start: datetime, end: datetime) -> bool:
        """Whether any year between two instants falls back to the Monday–Friday guess."""
        a, b = sorted((_local(start).year, _local(end).year))
        return not all(self.known(y) for y in range(a, b + 1))

    # The clock engine: every unit is a sequence of running intervals.

    def _windows(self, unit: Unit) -> tuple[tuple[timedelta, timedelta], ...]:
        return ((timedelta(0), _DAY),) if unit == "wd" else self.office_hours

    def running(self, start: datetime, unit: Unit) -> Iterator[tuple[datetime, datetime]]:
        """The intervals, from ``start`` on, during which a ``unit`` clock runs (not for ``h``: it always runs)."""
        local = _local(start)
        windows = self._windows(unit)
        d, rest_run = local.date(), 0
        while True:
            if self.is_working_day(d):
                rest_run = 0
                midnight = datetime.combine(d, time(0), TZ)
                for a, b in windows:
                    if midnight + b > local:
                        yield max(midnight + a, local), midnight + b
            else:
                rest_run += 1
                if rest_run > _MAX_REST_RUN:
                    raise InvalidCasesConfig(f"calendar: no working day in the year after {d - _DAY * rest_run}")
            d += _DAY

    def advance(self, start: datetime, amount: timedelta, unit: Unit) -> datetime:
        """The instant at which a ``unit`` clock started at ``start`` has run for ``amount``."""
        if unit == "h":
            return _local(start) + amount
        left = amount
        for a, b in self.running(start, unit):
            if left <= b - a:
                return a + left
            left -= b - a
        raise AssertionError("unreachable: running() is endless")

    def elapsed(self, start: datetime, end: datetime, unit: Unit) -> timedelta:
        """Running time of a ``unit`` clock between two instants; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.elapsed(end, start, unit)
        if unit == "h":
            return end - start
        total = timedelta(0)
        for a, b in self.running(start, unit):
            if a >= end:
                break
            total += min(b, end) - a
        return total


def _local(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"time {t.isoformat()} has no time zone; case clocks need aware datetimes")
    return t.astimezone(TZ)


def _parse_overrides(raw: Mapping[date | str, bool], where: str) -> dict[date, bool]:
    out: dict[date, bool] = {}
    for key, value in raw.items():
        try:
            d = key if isinstance(key, date) else date.fromisoformat(str(key))
        except ValueError:
            raise InvalidCasesConfig(f"{where}.overrides: {key!r} is not a date; write YYYY-MM-DD") from None
        if not isinstance(value, bool):
            raise InvalidCasesConfig(
                f"{where}.overrides[{d.isoformat()}]: {value!r} must be true (working day) or false (rest day)"
            )
        out[d] = value
    return out


def _parse_office_hours(raw: Iterable[str], where: str) -> tuple[tuple[timedelta, timedelta], ...]:
    windows = []
    for text in raw:
        a, b = parse_window(text, where=f"{where}.office_hours")
        start, end = _since_midnight(a), _DAY if b is None else _since_midnight(b)
        if end <= start:
            raise InvalidCasesConfig(f"{where}.office_hours: {text!r} must not wrap midnight")
        windows.append((start, end))
    windows.sort()
    if not windows or any(p[1] > n[0] for p, n in pairwise(windows)):
        raise InvalidCasesConfig(f"{where}.office_hours: give one or more windows that do not overlap")
    return tuple(windows)


def _since_midnight(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute)


DEFAULT_CALENDAR = WorkCalendar()


# ---------------------------------------------------------------------------------------------
# Case clocks


def deadline(start: datetime, limit: TimeLimit, calendar: WorkCalendar | None = None) -> datetime:
    """When a case opened at ``start`` with ``limit`` is due, in Asia/Shanghai time (see the module docstring)."""
    return (calendar or DEFAULT_CALENDAR).advance(start, limit.running_time, limit.unit)


def reminder_at(
    start: datetime,
    due: datetime,
    unit: Unit = "h",
    calendar: WorkCalendar | None = None,
    *,
    share: float = REMINDER_SHARE,
) -> datetime:
    """The instant when ``share`` (80 %) of the running time between ``start`` and ``due`` has passed.

    Measured on the limit's own clock: for ``3wd`` that is 80 % of 72 working-day hours, not 80 % of a
    calendar span that may hold a week of holidays.
    """
    cal = calendar or DEFAULT_CALENDAR
    return cal.advance(start, cal.elapsed(start, due, unit) * share, unit)


def remaining(now: datetime, due: datetime, unit: Unit = "h", calendar: WorkCalendar | None = None) -> timedelta:
    """Running time left until ``due``; negative (running time since ``due``) once overdue."""
    return (calendar or DEFAULT_CALENDAR).elapsed(now, due, unit)


def clock_state(now: datetime, due: datetime, remind_at: datetime) -> ClockState:
    """Where a case stands against its limit."""
    if now >= due:
        return "overdue"
    return "reminded" if now >= remind_at else "on-time"


def suspend(
    instant: datetime,
    paused_at: datetime,
    resumed_at: datetime,
    unit: Unit = "h",
    calendar: WorkCalendar | None = None,
) -> datetime:
    """Shift a due (or reminder) instant by a pause of the clock from ``paused_at`` to ``resumed_at``.

    The running time left at the pause is kept and resumes at ``resumed_at`` (挂起/恢复). An instant already
    passed when the pause began stays where it is: pausing an overdue case does not make it on time.
    """
    cal = calendar or DEFAULT_CALENDAR
    if resumed_at < paused_at:
        raise ValueError("a suspension must resume after it was paused")
    if instant <= paused_at:
        return _local(instant)
    return cal.advance(resumed_at, cal.elapsed(paused_at, instant, unit), unit)


def extend(due: datetime, extra: TimeLimit, calendar: WorkCalendar | None = None) -> datetime:
    """A due instant after an approved extension (延期) of ``extra`` more time on the extension's own clock."""
    return deadline(due, extra, calendar)


@dataclass(frozen=True)
class SlaClock:
    """The clock of one case: when it is due, when to remind, and whether the calendar was a guess."""

    limit: TimeLimit
    start: datetime
    due: datetime
    remind_at: datetime
    approximate: bool

    def state(self, now: datetime) -> ClockState:
        return clock_state(now, self.due, self.remind_at)


def start_clock(start: datetime, limit: TimeLimit, calendar: WorkCalendar | None = None) -> SlaClock:
    """Due time, reminder time and the ``approximate`` flag of a case opened at ``start``."""
    cal = calendar or DEFAULT_CALENDAR
    due = deadline(start, limit, cal)
    approximate = limit.unit != "h" and cal.approximate(start, due)
    return SlaClock(limit, _local(start), due, reminder_at(start, due, limit.unit, cal), approximate)


def ms(t: datetime) -> int:
    """A time as the epoch milliseconds a case's projection row keeps."""
    return int(t.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    """Epoch milliseconds as a time in Shanghai."""
    return datetime.fromtimestamp(value / 1000, TZ)


@overload
def iso(value: int) -> str: ...
@overload
def iso(value: None) -> None: ...
def iso(value: int | None) -> str | None:
    """Epoch milliseconds as the API shows a time: ISO 8601 in Shanghai, to the second."""
    return None if value is None else from_ms(value).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# Escalation


def next_level(level: str) -> str | None:
    """The level above ``level`` (grid → street → district → city), None at the top."""
    if level not in ESCALATION:
        raise ValueError(f"unknown level {level!r}; levels are {', '.join(ESCALATION)}")
    i = ESCALATION.index(level)
    return ESCALATION[i + 1] if i + 1 < len(ESCALATION) else None


def escalations_due(
    now: datetime, due: datetime, level: str, limit: TimeLimit, calendar: WorkCalendar | None = None
) -> list[str]:
    """The levels an open case should have been escalated to by ``now``, in order.

    ``level`` is the level that held the case when its clock started. Overdue → the next level at once;
    still open one more full ``limit`` later → the next again, and so on up to the city.
    """
    levels: list[str] = []
    current, threshold = level, due
    while (up := next_level(current)) is not None and now >= threshold:
        levels.append(up)
        current, threshold = up, deadline(threshold, limit, calendar)
    return levels
