"""One-stop services as a component: its tables (declared in :mod:`cityos.onestop.tables`), its routers and
its pages. Each part of the package adds its router here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter

log = logging.getLogger(__name__)


def _routers() -> Sequence[APIRouter]:
    from cityos.onestop import (
        application_routes,
        assistant_routes,
        catalogue_routes,
        citizen_routes,
        credential_pages,
        credential_routes,
        decision_routes,
        evidence_routes,
        guide_pages,
        policy_routes,
        portal_routes,
        rating_routes,
    )

    return [
        catalogue_routes.router,
        guide_pages.router,
        citizen_routes.router,
        portal_routes.router,
        application_routes.router,
        decision_routes.router,
        evidence_routes.router,
        credential_routes.router,
        credential_pages.router,
        assistant_routes.router,
        rating_routes.router,
        policy_routes.router,
    ]


class _SeedItems:
    """Writes version 1 of the shipped service items the default tenant does not hold yet, at start, and
    installs the catalogue that submissions are resolved with."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def start(self) -> None:
        from cityos.onestop.application_catalogue import install_catalogue
        from cityos.onestop.items import seed_items
        from cityos.onestop.submitting import catalogue_resolver

        install_catalogue(self.rt, catalogue_resolver(self.rt))
        try:
            seed_items(self.rt)
        except SQLAlchemyError:  # not fatal: a lookup reads version 1 from the file until it is written
            log.warning("could not write the shipped service items' version 1 yet", exc_info=True)

    def close(self) -> None:
        from cityos.onestop.application_catalogue import install_catalogue

        install_catalogue(self.rt, None)


def _seed(rt: Runtime) -> Runner:
    return _SeedItems(rt)


def _role(rt: Runtime) -> Runner:
    from cityos.component import Runners
    from cityos.onestop.policy_runner import PolicyRunner
    from cityos.onestop.rating_runner import RatingsRunner

    return Runners([RatingsRunner(rt), PolicyRunner(rt)])


# the onestop role: case ratings recorded as 好差评, the follow-ups' reminders and escalation; the policy
# matching runs (政策找人), done in the background
component = Component(name="onestop", tables="cityos.onestop.tables", routers=_routers, api=[_seed],
                      roles={"onestop": _role})  # fmt: skip
