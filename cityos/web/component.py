"""The operations dashboard as a component: its page and live stream, the live hub of every API process,
and its static files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI


def _routers() -> Sequence[APIRouter]:
    from cityos.web.routes import router

    return [router]


def _live(rt: Runtime) -> Runner:
    from cityos.twin import sensor_value
    from cityos.web.live import LiveHub

    return LiveHub(rt.bus, sensor_value)


def _mount(app: FastAPI) -> None:
    from cityos.web.routes import mount_static

    mount_static(app)


component = Component(name="web", routers=_routers, api=[_live], mount=_mount)
