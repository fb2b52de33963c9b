"""City operations closed loop (一网统管 · 高效处置一件事): incident cases from sensors, the 12345 hotline,
grid inspectors and Open311; classified, routed, handled, verified and closed within their time limits.

Other packages use cases through what this module exports.
"""

from cityos.cases.component import component
from cityos.cases.lending import CalendarLender
from cityos.cases.reads import on_time_rate
from cityos.cases.schemas import CaseView, NewCase, Reported
from cityos.cases.service import Retrained, report, retrain, search
from cityos.cases.timelimits import DEFAULT_CALENDAR, ClockState, WorkCalendar, clock_state, suspend
from cityos.cases.workflow import OPEN, State

__all__ = [
    "DEFAULT_CALENDAR",
    "OPEN",
    "CalendarLender",
    "CaseView",
    "ClockState",
    "NewCase",
    "Reported",
    "Retrained",
    "State",
    "WorkCalendar",
    "clock_state",
    "component",
    "on_time_rate",
    "report",
    "retrain",
    "search",
    "suspend",
]
