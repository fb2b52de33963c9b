"""One-stop services as a component: its tables (declared in :mod:`cityos.onestop.tables`), its routers and
its pages. Each part of the package adds its router here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.onestop import application_routes, citizen_routes, evidence_routes, portal_routes

    return [citizen_routes.router, portal_routes.router, application_routes.router, evidence_routes.router]


component = Component(name="onestop", tables="cityos.onestop.tables", routers=_routers)
