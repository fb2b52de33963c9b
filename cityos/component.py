"""Components and process roles: how a package declares what it brings to a process, and how a process
runs what it hosts.

Each domain package declares one :class:`Component` in its face (``cityos.vitals.component`` …): its
tables, its routers, the runners every API process needs (the HTTP telemetry writer, the dashboard's
live hub, the case classifier's loader) and the runners of its *roles*. The app (``cityos.app``), the
CLI (``cityos worker``) and the migrations are built from the list in ``cityos.components``.

A role is work that must run in exactly one process of a deployment at a time:

========  ==============================================================  ===========
role      what it runs                                                    component
========  ==============================================================  ===========
ingest    the MQTT telemetry consumer (one broker session, or several)     iot
vitals    the vital signs engine: windows, indicator values, warnings     vitals
cases     cases opened by warnings and alerts; time-limit reminders       cases
notify    subscription matching and notification delivery                context
plans     the plans' figures read every few minutes for the vital signs   plans
========  ==============================================================  ===========

``cityos serve`` takes the roles of ``CITYOS_ROLES`` beside the API and ``cityos worker --role …`` takes
the ones it is given; several processes may be given the same role. Which one runs it is decided by a
lease (``cityos.store.lease``: a PostgreSQL advisory lock, or a file lock beside the SQLite file): the
first process to take it runs the role, the others stand by and ask again every
``LEASE_RETRY_SECONDS``; when the holder dies or loses its database, the lock goes with it and a
standby takes over within that time. A component may declare a role *shared* under some settings
(``Component.shared``): then every process given it runs it, and its runner shares the work out
itself (ingest with ``CITYOS_MQTT_SESSIONS`` > 1: ``cityos.iot.sharing``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from cityos.core.roles import CONSUMER_ROLES, PRODUCER_ROLES
from cityos.runtime import Runtime
from cityos.store.lease import Lease, ProcessLease, open_lease

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from cityos.config import Settings

log = logging.getLogger(__name__)
LEASE_RETRY_SECONDS = 5.0  # a standby asks for a lease this often; a holder checks it is still held as often
R = TypeVar("R")


class Runner(Protocol):
    """Something that runs beside the API or in a worker: started once, closed once. A runner that loads
    something in the background after it started (the case classifier) may say so with a ``loading``
    attribute naming what, None once it is ready: ``GET /health`` lists them."""

    def start(self) -> None: ...
    def close(self) -> None: ...


RunnerFactory = Callable[[Runtime], Runner]


@dataclass(frozen=True)
class Component:
    """What one package brings to a process. Routers and runners are imported when they are made, so
    that a worker does not load the routes of the API, nor an API the runners of roles it does not take."""

    name: str
    tables: str | None = None  # the module that declares the package's tables
    routers: Callable[[], Sequence[APIRouter]] = lambda: ()
    every: Sequence[RunnerFactory] = ()  # runners of every process (API or worker), started before the others
    api: Sequence[RunnerFactory] = ()  # runners of every process that serves the API
    roles: Mapping[str, RunnerFactory] = field(default_factory=dict)  # role -> its runner
    # roles that, with these settings, run in every process given them, without a lease: their runner
    # shares the work out with the other processes itself (ingest over MQTT shared subscriptions)
    shared: Callable[[Settings], Collection[str]] = lambda _settings: ()
    mount: Callable[[FastAPI], None] | None = None  # static files and such, after the routers
    # OpenAPI schema components its routes refer to by name (the bodies they read themselves): name -> schema
    schemas: Callable[[], Mapping[str, dict[str, Any]]] = lambda: {}


class Runners:
    """Runners started and stopped as one unit: started in order; if one fails to start, those already
    started are closed in reverse and the error is raised; :meth:`close` closes them in reverse."""

    def __init__(self, runners: Sequence[Runner]) -> None:
        self.runners = list(runners)
        self._started: list[Runner] = []

    def start(self) -> None:
        for runner in self.runners:
            try:
                runner.start()
            except BaseException:
                log.error("%s failed to start: stopping what started before it", type(runner).__name__)
                self.close()
                raise
            self._started.append(runner)

    def close(self) -> None:
        while self._started:
            runner = self._started.pop()
            try:
                runner.close()
            except Exception:
                log.exception("%s failed to close", type(runner).__name__)

    def find(self, kind: type[R]) -> R | None:
        """The running runner of this class (inside a role too), if this process runs one."""
        for runner in self._started:
            inner = runner.runner if isinstance(runner, RoleHolder) else runner
            if isinstance(inner, kind):
                return inner
        return None


class RoleHolder:
    """Runs one role's runner while this process holds the role's lease (a role ``leased=False`` runs at once).

    :meth:`start` asks for the lease once at once, so that a process alone in its deployment runs the
    role when it has started; then a thread asks again every ``retry_seconds`` while standing by, and
    checks the lease is still held while running (a lost lease stops the runner)."""

    def __init__(
        self,
        rt: Runtime,
        role: str,
        make: RunnerFactory,
        *,
        retry_seconds: float = LEASE_RETRY_SECONDS,
        leased: bool = True,
    ):
        self.rt, self.role, self.make, self.retry_seconds = rt, role, make, retry_seconds
        self.lease: Lease = open_lease(rt.db, f"role-{role}") if leased else ProcessLease(f"role-{role}")
        self.runner: Runner | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """Whether this process runs the role now."""
        return self.runner is not None

    def start(self) -> None:
        self._step()
        self._thread = threading.Thread(target=self._watch, name=f"role-{self.role}", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.retry_seconds):
            self._step()

    def _step(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            try:
                if self.runner is None:
                    if self.lease.acquire():
                        self._run()
                elif not self.lease.held():
                    log.warning("role %s: lease lost, stopping it here (another process takes over)", self.role)
                    self._halt()
            except Exception:
                log.exception("role %s: lease check failed", self.role)

    def _run(self) -> None:
        runner = self.make(self.rt)
        try:
            runner.start()
        except Exception:
            log.exception("role %s failed to start: giving its lease up, trying again later", self.role)
            self.lease.release()
            return
        self.runner = runner
        log.info("role %s: running in this process", self.role)

    def _halt(self) -> None:
        runner, self.runner = self.runner, None
        if runner is not None:
            try:
                runner.close()
            except Exception:
                log.exception("role %s failed to close", self.role)
        self.lease.release()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self._lock:
            self._halt()


def process_runners(
    rt: Runtime, components: Sequence[Component], *, api: bool, roles: Sequence[str], extra: Sequence[Runner] = ()
) -> Runners:
    """The runners of one process, in the order they start (they stop in reverse): the components' runners
    of every process (the data hub's read guard, which a notifier's department subscriptions need), the
    roles that consume events first (notify, then cases, which takes the warnings vitals raise, then vitals), the
    components' API runners (when it serves the API), the ingest role, then ``extra`` (the demo's
    simulator). With the in-process bus an event reaches only the subscribers there are when it is
    published: so nothing is stored before its consumers listen, nor after they stopped."""

    def holders(*wanted: str) -> list[Runner]:
        return [
            RoleHolder(rt, r, c.roles[r], leased=r not in c.shared(rt.settings))
            for r in wanted
            if r in roles
            for c in components
            if r in c.roles
        ]

    runners = [make(rt) for c in components for make in c.every]
    runners += holders(*CONSUMER_ROLES)
    if api:
        runners += [make(rt) for c in components for make in c.api]
    return Runners([*runners, *holders(*PRODUCER_ROLES), *extra])


def describe(runners: Runners) -> dict[str, Any]:
    """Which roles this process holds, which it stands by for, and what it still loads (for /health and
    the logs)."""
    held = [r for r in runners.runners if isinstance(r, RoleHolder)]
    return {
        "roles": sorted(r.role for r in held if r.active),
        "standby": sorted(r.role for r in held if not r.active),
        "loading": sorted(what for r in runners.runners if (what := getattr(r, "loading", None))),
    }
