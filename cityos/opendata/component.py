"""The open data portal as a component: its routes (the CKAN Action API, the public pages), the de-identification
gate's releases table and the usage counts' writer. What is open is read from the data resource catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.opendata import application_routes, download_routes, pages, routes

    # the downloads first: /opendata/datasets/{name}.jsonld before the page at /opendata/datasets/{name}
    return [routes.router, download_routes.router, pages.router, application_routes.router]


def _usage(rt: Runtime) -> Runner:
    from cityos.opendata.usage import UsageFlusher

    return UsageFlusher(rt)


component = Component(name="opendata", tables="cityos.opendata.release_tables", routers=_routers, api=[_usage])
