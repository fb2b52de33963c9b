"""The working-day calendar an objection's time limit is counted on (数据异议的办理时限, in working days).

The calendar is the one of the cases package (Chinese statutory holidays and adjusted working weekends,
``cityos.cases``), which sits above the data resource system in the layers: the datahub declares what it
needs of a calendar (:class:`WorkingDays`) and the cases component installs its own in every API process
(:func:`install_working_days`), as the data hub's read guard is installed by the datahub's component.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from cityos.datahub.errors import NoWorkingCalendar
from cityos.runtime import Runtime


class WorkingDays(Protocol):
    """What an objection needs of a working-day calendar: the instant a clock that runs on working days
    only (``unit`` "wd") has run ``amount`` from ``start`` on."""

    def advance(self, start: datetime, amount: timedelta, unit: Literal["h", "wd", "wh"]) -> datetime: ...


@dataclass
class Calendars:
    """The calendar installed in a runtime (a part of it)."""

    working_days: WorkingDays | None = None


def install_working_days(rt: Runtime, calendar: WorkingDays | None) -> None:
    """Count objections' time limits on ``calendar`` in this runtime from now on (None: none installed)."""
    rt.parts.get(Calendars, Calendars).working_days = calendar


def due_after(rt: Runtime, start: datetime, working_days: int) -> datetime:
    """The instant ``working_days`` working days after ``start`` (the installed calendar's count);
    NoWorkingCalendar (503) when no calendar is installed."""
    calendars = rt.parts.find(Calendars)
    if calendars is None or calendars.working_days is None:
        raise NoWorkingCalendar(
            "no working-day calendar is installed in this process: an objection's time limit is counted on the "
            "cases package's calendar, which its component installs; run the API with the cases component"
        )
    return calendars.working_days.advance(start, timedelta(days=working_days), "wd")
