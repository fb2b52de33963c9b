"""The data resource system as a component: its tables and the /datahub routes (catalogue, datasets, grants,
usage, audit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.datahub import (
        audit_routes,
        catalogue_routes,
        dataset_routes,
        feed_conflict_routes,
        feed_routes,
        grant_routes,
        objection_routes,
        quality_routes,
        resolution_routes,
        return_routes,
    )

    return [catalogue_routes.router, dataset_routes.router, grant_routes.router, audit_routes.router,
            objection_routes.router, feed_routes.router, feed_conflict_routes.router, return_routes.router,
            resolution_routes.router, quality_routes.router]  # fmt: skip


def _guard(rt: Runtime) -> Runner:
    from cityos.datahub.hubguard import GuardRunner

    return GuardRunner(rt)


def _keeper(rt: Runtime) -> Runner:
    from cityos.datahub.keeper import AuditKeeper

    return AuditKeeper(rt)


def _returns(rt: Runtime) -> Runner:
    from cityos.component import RoleHolder
    from cityos.datahub.return_runner import Idle, ReturnRunner

    if not rt.settings.return_every_seconds:
        return Idle()
    return RoleHolder(rt, "datahub-returns", ReturnRunner)  # one process of a deployment runs the standing grants


def _quality(rt: Runtime) -> Runner:
    from cityos.datahub.quality_keeper import QualitySchedule

    return QualitySchedule(rt)


def _feed_quality(rt: Runtime) -> Runner:
    from cityos.datahub.feed_quality import TakeUp

    return TakeUp(rt)


# the guard governs the NGSI-LD reads of department tokens, and the notifications of their subscriptions, in
# every process (an API's, or a worker's that notifies); the keeper of every API process indexes the audit
# chain's subjects and seals it on time; the returns runner re-runs the standing return grants on a period;
# the quality schedule re-checks every dataset with rules; the take-up makes the feed quality runs left pending
# by a process that stopped (each claimed by one process)
component = Component(
    name="datahub",
    tables="cityos.datahub.tables",
    routers=_routers,
    every=(_guard,),
    api=(_keeper, _returns, _quality, _feed_quality),
)
