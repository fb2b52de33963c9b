"""Identity and access as a component: its tables and the login routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.auth.routes import router

    return [router]


component = Component(name="auth", tables="cityos.auth.tables", routers=_routers)
