"""The data hub as a component: its tables, the NGSI-LD routers and the schemas of the bodies they read, and
the notify role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.context.api import batch, contexts, csources, entities, subscriptions, temporal, types

    routers = [entities.router, batch.router, types.router, contexts.router, temporal.router, subscriptions.router]
    return [*routers, csources.router]


def _schemas() -> Mapping[str, dict[str, Any]]:
    from cityos.context.api import schemas

    return schemas.schemas()


def _notifier(rt: Runtime) -> Runner:
    from cityos.context.subscriptions.notify import Notifier

    return Notifier(rt)


component = Component(
    name="context",
    tables="cityos.context.tables",
    routers=_routers,
    roles={"notify": _notifier},
    schemas=_schemas,
)
