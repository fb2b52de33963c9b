"""Runs policy matching in the background (the ``onestop`` role): ``POST /onestop/policies/{code}/runs``
records a run (state running) and answers at once; the process that holds the role takes each run not taken
yet, every ``POLL_SECONDS``, and does it (:func:`cityos.onestop.policy_matching.execute`), its progress written
as it goes. One process holds the role at a time (a lease): a run left running by a process that died is taken
again by the next holder and done from the start (the notices' unique key: no one is notified twice), and
failed after ``MAX_ATTEMPTS`` takes; a process that stops cleanly leaves its run to the next one."""

from __future__ import annotations

import logging
import threading
import uuid

from cityos.onestop import policy_matching as matching
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


class PolicyRunner:
    def __init__(self, rt: Runtime, poll_seconds: float = POLL_SECONDS) -> None:
        self.rt = rt
        self.poll_seconds = poll_seconds
        self.holder = uuid.uuid4().hex  # this process's runner, as the runs it takes name it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = 0  # runs finished here (done or failed)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="onestop-policy-runs", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.tick()
            except Exception:
                log.exception("policy matching: looking for runs failed (tried again in %s s)", self.poll_seconds)
                worked = 0
            if not worked and self._stop.wait(self.poll_seconds):
                return

    def tick(self) -> int:
        """Take and do the runs waiting, one after another: how many were finished here."""
        finished = 0
        while not self._stop.is_set():
            taken = matching.take_next(self.rt, self.holder)
            if taken is None:
                break
            tenant, run_id = taken
            try:
                matching.execute(self.rt, tenant, run_id, pause=self._stop.is_set)
            except matching.Paused:
                log.info("policy matching run %s left for the next process (this one is stopping)", run_id)
                break
            except Exception:
                log.warning("policy matching run %s failed", run_id, exc_info=True)
            finished += 1
            self.done += 1
        return finished

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
