"""The digital twin as a component: the /twin routes (it keeps no tables of its own)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.twin.routes import router

    return [router]


component = Component(name="twin", routers=_routers)
