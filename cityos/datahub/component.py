"""The data resource system as a component: its tables and the /datahub routes (catalogue, grants, usage)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.datahub import catalogue_routes, grant_routes

    return [catalogue_routes.router, grant_routes.router]


component = Component(name="datahub", tables="cityos.datahub.tables", routers=_routers)
