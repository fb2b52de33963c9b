"""Incident cases as a component: their tables, the /cases and Open311 routes, the classifier loaded by every
API process when it starts, the working-day calendar lent to the data resource system (objections' time
limits), and the cases role (cases opened by warnings and alerts, time-limit reminders
and escalation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.cases import open311_routes, routes

    return [routes.router, routes.public_router, open311_routes.router]


def _classifier(rt: Runtime) -> Runner:
    from cityos.cases.classifying import ClassifierLoader

    return ClassifierLoader(rt)


def _calendar(rt: Runtime) -> Runner:
    from cityos.cases.lending import CalendarLender

    return CalendarLender(rt)


def _cases(rt: Runtime) -> Runner:
    from cityos.cases.runner import CasesRunner

    return CasesRunner(rt)


component = Component(
    name="cases",
    tables="cityos.cases.tables",
    routers=_routers,
    # the classifier loads in the background (no request waits for its training); the calendar is lent to datahub
    api=[_classifier, _calendar],
    roles={"cases": _cases},
)
