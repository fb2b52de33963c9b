"""The plans' main indicators as a component: the /plans routes and the plans role (the figures runner)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.plans.routes import router

    return [router]


def _figures(rt: Runtime) -> Runner:
    from cityos.plans.runner import PlanFiguresRunner

    return PlanFiguresRunner(rt)


component = Component(name="plans", routers=_routers, roles={"plans": _figures})
