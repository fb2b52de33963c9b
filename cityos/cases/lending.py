"""The working-day calendar lent to the data resource system: objections' time limits (数据异议的办理时限)
are counted on the same working days as cases' (cityos.datahub sits below cases and cannot import it)."""

from __future__ import annotations

from cityos import datahub
from cityos.cases.timelimits import DEFAULT_CALENDAR, WorkCalendar
from cityos.runtime import Runtime


class CalendarLender:
    """Installs the calendar in the runtime's data resource system while the API runs (a runner)."""

    def __init__(self, rt: Runtime, calendar: WorkCalendar = DEFAULT_CALENDAR) -> None:
        self.rt, self.calendar = rt, calendar

    def start(self) -> None:
        datahub.install_working_days(self.rt, self.calendar)

    def close(self) -> None:
        datahub.install_working_days(self.rt, None)
