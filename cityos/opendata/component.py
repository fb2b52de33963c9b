"""The open data portal as a component: its routes (the CKAN Action API) and the de-identification gate's
releases table. What is open is read from the data resource catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.opendata import application_routes, routes

    return [routes.router, application_routes.router]


component = Component(name="opendata", tables="cityos.opendata.release_tables", routers=_routers)
