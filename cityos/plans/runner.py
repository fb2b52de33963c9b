"""The plans role: defines the plan indicators in the vital-signs engine of a tenant that lacks them, then reads
the plans' figures every few minutes and writes them to the data hub, where the engine aggregates them like any
city thing's attributes (windows, targets as thresholds, warnings, stored values and their trend)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from cityos import vitals
from cityos.plans.definitions import PlanIndicator, shipped
from cityos.plans.figures import read_figures, write_figures
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
PERIOD_SECONDS = 300.0  # the figures are totals over hours and days: every five minutes is fresh enough
DEFINED_BY = "cityos plans"


def install(rt: Runtime, tenant: str, entries: tuple[PlanIndicator, ...] | None = None) -> list[str]:
    """Define the plan indicators the tenant's vital signs have never had; returns their ids."""
    docs = [e.indicator.model_dump(mode="json", exclude_none=True) for e in entries or shipped()]
    return vitals.define_missing(rt, tenant, docs, DEFINED_BY)


def round_once(rt: Runtime, tenant: str, now: datetime | None = None) -> dict[str, float]:
    """Read every figure and write them; returns what was written."""
    now = now or datetime.now(UTC)
    figures = read_figures(rt, tenant, shipped(), now)
    write_figures(rt, tenant, figures, now)
    return figures


class PlanFiguresRunner:
    def __init__(self, rt: Runtime, tenant: str | None = None, period: float = PERIOD_SECONDS) -> None:
        self.rt = rt
        self.tenant = tenant or rt.settings.default_tenant
        self.period = period
        self.rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        install(self.rt, self.tenant)
        self._thread = threading.Thread(target=self._run, name="plans", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                round_once(self.rt, self.tenant)
                self.rounds += 1
            except Exception:
                log.exception("plan figures round failed")
            self._stop.wait(self.period)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
