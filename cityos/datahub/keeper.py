"""The audit chain's keeper (a runner of every API process): every few seconds it brings the subjects index
up to the chain's head (reads append their records without it, see ``audit.index_subjects``) and seals the
head when a seal is due by time, so that a chain with no new reads is sealed on time too."""

from __future__ import annotations

import logging
import threading

from cityos.datahub.audit import index_subjects, seal_if_due
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
TICK_SECONDS = 5.0


class AuditKeeper:
    def __init__(self, rt: Runtime, tick_seconds: float = TICK_SECONDS) -> None:
        self.rt = rt
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="datahub-audit-keeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            self.tick()

    def tick(self) -> None:
        """One round: the subjects indexed, the seal made if due. A failure is logged and tried next round."""
        try:
            index_subjects(self.rt)
            seal_if_due(self.rt)
        except Exception:
            log.exception("the audit keeper's round failed (it is tried again in %s s)", self.tick_seconds)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
