"""The city vital signs as a component: their tables, the /vitals routes and the vitals role (the engine)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.vitals.routes import router

    return [router]


def _engine(rt: Runtime) -> Runner:
    from cityos.vitals.runner import VitalsRunner

    return VitalsRunner(rt)


component = Component(name="vitals", tables="cityos.vitals.tables", routers=_routers, roles={"vitals": _engine})
