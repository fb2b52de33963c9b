"""The district return's runner: every ``CITYOS_RETURN_EVERY_SECONDS`` it runs each standing return grant
incrementally. One process of a deployment runs it at a time (a lease, as a role is held)."""

from __future__ import annotations

import logging
import threading

from cityos.datahub.returns import run_standing
from cityos.runtime import Runtime

log = logging.getLogger(__name__)


class ReturnRunner:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.every = float(rt.settings.return_every_seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="datahub-returns", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.tick()

    def tick(self) -> None:
        """One round: every standing grant run; a failure is logged and the grants run again next round."""
        try:
            runs = run_standing(self.rt)
            log.info("district return: %d grants run, %d records written", len(runs), sum(r.touched for r in runs))
        except Exception:
            log.exception("the district return's round failed (it runs again in %s s)", self.every)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


class Idle:
    """The runner when ``CITYOS_RETURN_EVERY_SECONDS`` is 0: grants are run when asked."""

    def start(self) -> None: ...
    def close(self) -> None: ...
