"""The data hub as a component: its tables, the NGSI-LD routers and the schemas of the bodies they read, and
the notify role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI


def _routers() -> Sequence[APIRouter]:
    from cityos.context.api import batch, contexts, csources, entities, info, subscriptions, temporal, types

    return [
        entities.router,
        batch.router,
        types.router,
        contexts.router,
        temporal.router,
        subscriptions.router,
        csources.router,
        info.router,
    ]


def _schemas() -> Mapping[str, dict[str, Any]]:
    from cityos.context.api import schemas

    return schemas.schemas()


def _edge(app: FastAPI) -> None:
    from cityos.context.api.edge import NgsiLdEdge

    app.add_middleware(NgsiLdEdge)  # added last, so outermost: the 411 comes before any body is read


def _notifier(rt: Runtime) -> Runner:
    from cityos.context.subscriptions.notify import Notifier

    return Notifier(rt)


component = Component(
    name="context",
    tables="cityos.context.tables",
    routers=_routers,
    roles={"notify": _notifier},
    schemas=_schemas,
    mount=_edge,
)
