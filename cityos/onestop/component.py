"""One-stop services as a component: its tables (declared in :mod:`cityos.onestop.tables`), its routers and
its pages. Each part of the package adds its router here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.onestop import credential_pages, credential_routes

    return [credential_routes.router, credential_pages.router]


component = Component(name="onestop", tables="cityos.onestop.tables", routers=_routers)
