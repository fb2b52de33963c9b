"""Telemetry shared over several ingest processes by the broker (``CITYOS_MQTT_SESSIONS`` > 1).

Each ingest process consumes in one of ``n`` MQTT sessions, ``{client id}-1`` … ``{client id}-{n}``,
all subscribed to the shared subscription ``$share/{client id}/cityos/+/+/…``: the broker hands each
message to one session of the group, so adding processes (on one machine or several) adds consumers.
Which process runs which session is decided by a lease per session (``ingest-session-{i}``; a
PostgreSQL advisory lock, or a file lock beside the SQLite file), so two processes never run one
session.

Sessions outlive their process (they are persistent, as the single consumer's), because Mosquitto
(2.0 at least) does not give a dead session's unacknowledged messages to the rest of the group: it
keeps them in that session, and goes on queueing a share of the new messages there too. So every
process looks at the other sessions every few seconds: one whose lease is free at two looks in a row
(its process died or stopped, and is not just starting) is *taken over*: resumed under its client
id, unsubscribed so that the broker routes it nothing new, and drained through this process's writer
(the unacknowledged messages come again, then what was queued), each acknowledged after commit as
always. A session found empty is ended. A process that comes back later takes a free session and
subscribes it again. The one session of ``CITYOS_MQTT_SESSIONS=1`` is taken over likewise.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cityos.iot.mqtt import MqttConsumer, topic_filters
from cityos.iot.writer import IngestWriter
from cityos.runtime import Runtime
from cityos.store.lease import Lease, open_lease

log = logging.getLogger(__name__)
CHECK_SECONDS = 5.0  # how often a process looks for a session to take or to take over
# a taken-over session with nothing in hand and nothing new for this long is drained for now (what the broker
# sends later, on a loaded machine, is taken in at the next look: the session is ended only once found empty)
QUIET_SECONDS = 3.0
STALL_SECONDS = 60.0  # a takeover that stores nothing for this long is left for the next look


def session_ids(client_id: str, sessions: int) -> list[str]:
    """The client ids of the shared sessions."""
    return [f"{client_id}-{i}" for i in range(1, sessions + 1)]


class Takeover(MqttConsumer):
    """Resumes another process's session, unsubscribes it and stores what the broker still holds for it."""

    def __init__(self, rt: Runtime, writer: IngestWriter, *, client_id: str, share: str, **kw: Any) -> None:
        super().__init__(rt, writer, client_id=client_id, share=share, **kw)
        self.client_id = client_id
        self.answered = threading.Event()  # the broker said whether the session exists, and it was unsubscribed
        self.present = False
        self.client.on_unsubscribe = lambda *_: self.answered.set()

    def _on_connect(self, client: paho.Client, _u: object, flags: Any, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT broker refused the takeover of %s: %s", self.client_id, reason)
            self.answered.set()
            return
        self.present = bool(flags.session_present)
        if not self.present:
            self.answered.set()
            return
        # what the session holds comes anyway; unsubscribed, it is routed nothing new (the one session of
        # CITYOS_MQTT_SESSIONS=1 has the plain subscriptions)
        client.unsubscribe([f for f, _ in topic_filters(self.share) + topic_filters()])

    def close_session(self, *, end: bool) -> None:
        """Disconnect; ``end``: the broker forgets the session (only when it held nothing)."""
        props = None
        if end:
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0
        self.client.disconnect(properties=props)
        self.client.loop_stop()


class SharedSessions:
    """One shared session run by this process, and the takeover of the sessions of processes gone."""

    def __init__(
        self,
        rt: Runtime,
        writer: IngestWriter,
        *,
        on_answer: Callable[[str, str, bytes], object] | None = None,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.rt, self.writer, self.on_answer, self.check_seconds = rt, writer, on_answer, check_seconds
        self.share = rt.settings.mqtt_client_id
        self.sessions = rt.settings.mqtt_sessions
        # the shared sessions, then the one session of CITYOS_MQTT_SESSIONS=1 (under the ingest role's lease),
        # taken over like them: what it held before the deployment went to several sessions is not left behind
        self.ids = [*session_ids(self.share, self.sessions), self.share]
        self.leases: list[Lease] = [open_lease(rt.db, f"ingest-session-{i}") for i in range(1, self.sessions + 1)]
        self.leases.append(open_lease(rt.db, "role-ingest"))
        self.mine: int | None = None  # index of the session this process runs
        self.consumer: MqttConsumer | None = None
        self.taken_over = 0  # messages stored from other processes' sessions
        self._free: set[int] = set()  # sessions whose lease was free at the last look
        self.connected = threading.Event()  # set once the session this process runs has subscribed
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="iot-sessions", daemon=True)

    def start(self) -> None:
        self._step()
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.check_seconds):
            self._step()

    def _step(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            try:
                self._keep_or_take()
                for i in range(len(self.ids)):
                    if i != self.mine and not self._stop.is_set():
                        self._take_over(i)
            except Exception:
                log.exception("ingest sessions: check failed")

    def _keep_or_take(self) -> None:
        if self.mine is not None and not self.leases[self.mine].held():
            log.warning(
                "ingest session %s: lease lost, leaving it (another process takes it over)", self.ids[self.mine]
            )
            self._leave()
        if self.mine is not None:
            return
        for i, lease in enumerate(self.leases[: self.sessions]):
            if lease.acquire():
                consumer = MqttConsumer(
                    self.rt, self.writer, client_id=self.ids[i], on_answer=self.on_answer, share=self.share
                )
                consumer.connected = self.connected
                try:
                    consumer.start()
                except Exception:
                    lease.release()
                    raise
                self.mine, self.consumer = i, consumer
                log.info("ingest session %s: consuming here (shared over %d sessions)", self.ids[i], self.sessions)
                return
        log.info("ingest: all %d sessions run in other processes; standing by", self.sessions)

    def _take_over(self, i: int) -> None:
        if not self.leases[i].acquire():
            self._free.discard(i)
            return  # a live process runs it
        if i not in self._free:  # its process may be starting: taken over if it is still free at the next look
            self._free.add(i)
            self.leases[i].release()
            return
        self._free.discard(i)
        try:
            stored = drain(self.rt, self.writer, self.ids[i], self.share, on_answer=self.on_answer, stop=self._stop)
            self.taken_over += stored
            if stored:
                log.warning("ingest session %s: its process is gone; took over %d messages", self.ids[i], stored)
        finally:
            self.leases[i].release()

    def _leave(self) -> None:
        consumer, self.consumer = self.consumer, None
        if consumer is not None:
            consumer.close()
        if self.mine is not None:
            self.leases[self.mine].release()
            self.mine = None

    def close(self) -> None:
        """Stop consuming; the session stays with the broker, and another process takes it over."""
        self._stop.set()
        with self._lock:
            self._leave()
        self._thread.join(timeout=30)


def drain(
    rt: Runtime,
    writer: IngestWriter,
    client_id: str,
    share: str,
    *,
    on_answer: Callable[[str, str, bytes], object] | None = None,
    stop: threading.Event | None = None,
    quiet: float = QUIET_SECONDS,
    stall: float = STALL_SECONDS,
) -> int:
    """Store what the broker holds for the session ``client_id``; the number of messages taken in.

    The session is ended when it held nothing; otherwise it is left unsubscribed and empty, and ended at
    the next look (a message the broker sent after the last one seen is then taken in, not dropped).
    Returns early when ``stop`` is set, leaving what is not stored with the broker."""
    stop = stop or threading.Event()
    t = Takeover(rt, writer, client_id=client_id, share=share, on_answer=on_answer)
    t.start()
    try:
        if not t.answered.wait(30) or not t.present:
            return 0
        last, seen = time.monotonic(), (0, 0)
        while not stop.wait(0.1):
            now_seen = (t.received, t.settled)
            if now_seen != seen:
                last, seen = time.monotonic(), now_seen
            idle = time.monotonic() - last
            if (t.received == t.settled and idle >= quiet) or idle >= stall:
                return t.received
        return t.settled
    finally:
        t.close_session(end=t.answered.is_set() and t.received == 0)
