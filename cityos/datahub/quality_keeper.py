"""The quality schedule (a runner of every API process): every ``quality_every`` seconds each dataset with
rules is checked again over its records as the data hub holds them, timeliness measured from the run's time.
A dataset is due when its latest run (whatever started it) is older than the period, so that several API
processes sharing a database do not each run it. ``quality_every`` 0 turns the schedule off."""

from __future__ import annotations

import logging
import threading

from cityos.datahub.quality_ops import run_due
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
MAX_TICK_SECONDS = 60.0  # how often due datasets are looked for (a shorter period looks as often as it runs)


class QualitySchedule:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.every = int(rt.settings.quality_every)
        self.tick_seconds = min(float(self.every), MAX_TICK_SECONDS)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.every <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="datahub-quality-schedule", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            self.tick()

    def tick(self) -> int:
        """One round: the due datasets run; how many runs were made. A failure is logged and tried next round."""
        try:
            return len(run_due(self.rt, self.every))
        except Exception:
            log.exception("the quality schedule's round failed (it is tried again in %s s)", self.tick_seconds)
            return 0

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
