"""The demo's history retention: raw history of the types its devices drive for ``demo_raw_days``,
hourly rollups for ``demo_hourly_days``, compacted every ``demo_compact_minutes`` while it runs,
so that a demo left running for days stops growing at about its first days' size
(bench/demo_growth.py measures the rate)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from cityos.context import Policy, compact, core_term_map, retention_policies, set_policy
from cityos.runtime import Runtime

log = logging.getLogger(__name__)


def demo_retention(rt: Runtime, entity_types: Iterable[str]) -> list[Policy]:
    """Set the demo's policy (its settings) for each entity type (short names) in the default tenant.

    Set at every start, so that the settings a demo starts with are the ones it keeps (a policy left by
    an earlier start cannot be told from one a person set). Returns the policies set.
    """
    tenant = rt.settings.default_tenant
    tm = core_term_map()
    have = {p.entity_type: p for p in retention_policies(rt, tenant)}
    out = []
    for name in sorted(set(entity_types)):
        policy = Policy(tenant, tm.expand(name), rt.settings.demo_raw_days, rt.settings.demo_hourly_days, None)
        if have.get(policy.entity_type) != policy:
            set_policy(rt, policy)
        out.append(policy)
    return out


class Compactor:
    """Runs the retention policies every ``demo_compact_minutes`` in a thread of its own (a demo companion)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.every = rt.settings.demo_compact_minutes * 60
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.every <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="demo-compactor", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            began = time.monotonic()
            try:
                report = compact(self.rt, tenant=self.rt.settings.default_tenant)
                log.info("compacted the demo's history: %s raw instances rolled up", report.raw_rolled)
            except Exception:  # the next round tries again; a demo does not stop for it
                log.exception("compacting the demo's history failed")
            self.runs += 1
            if self._stop.wait(max(0.0, self.every - (time.monotonic() - began))):
                return

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
