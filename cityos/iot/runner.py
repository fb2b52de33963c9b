"""Runs the ingest side of a process.

:class:`IngestRunner`: the batching writer, device health rounds and command expiry, and the MQTT
consumer when asked for. Every API process runs one without the consumer (HTTP telemetry needs the
writer). :class:`MqttIngest` is the *ingest* role (one process of a deployment at a time): the MQTT
consumer, fed into this process's writer, or with a writer of its own in a worker; with
``CITYOS_MQTT_SESSIONS`` > 1, one of the shared sessions (:mod:`cityos.iot.sharing`), in every process
given the role; with ``CITYOS_INGEST_TRANSPORT=nats``, the JetStream pull consumer every process given
the role shares (:mod:`cityos.iot.jetstream`).
"""

from __future__ import annotations

import logging
import threading
from functools import partial

from cityos.iot import commands
from cityos.iot.health import HealthTracker, tracker
from cityos.iot.jetstream import JetStreamConsumer
from cityos.iot.mqtt import MqttConsumer
from cityos.iot.sharing import SharedSessions
from cityos.iot.writer import IngestWriter, writer
from cityos.runtime import Runtime

log = logging.getLogger(__name__)


Consumer = MqttConsumer | SharedSessions | JetStreamConsumer


def consumer(rt: Runtime, w: IngestWriter) -> Consumer:
    """The telemetry consumer of the ingest role: the one MQTT session, one of the shared sessions, or the
    JetStream pull consumer (``CITYOS_INGEST_TRANSPORT=nats``)."""
    answer = partial(commands.record_answer, rt)
    if rt.settings.ingest_transport == "nats":
        return JetStreamConsumer(rt, w, on_answer=answer)
    if rt.settings.mqtt_sessions > 1:
        return SharedSessions(rt, w, on_answer=answer)
    return MqttConsumer(rt, w, on_answer=answer)


def has_source(rt: Runtime) -> bool:
    """Whether the ingest role has somewhere to take telemetry from."""
    s = rt.settings
    return bool(s.ingest_nats if s.ingest_transport == "nats" else s.mqtt_url)


class IngestRunner:
    def __init__(self, rt: Runtime, *, mqtt: bool = False) -> None:
        self.rt = rt
        self.writer = writer(rt)
        self.health = tracker(rt)
        self.consumer: Consumer | None = None
        if mqtt and has_source(rt):
            self.consumer = consumer(rt, self.writer)
        self._stop = threading.Event()
        self._expiry = threading.Thread(target=self._expire_commands, name="iot-commands", daemon=True)

    def start(self) -> None:
        self.health.start()
        self._expiry.start()
        if self.consumer is not None:
            self.consumer.start()

    def _expire_commands(self) -> None:
        while not self._stop.wait(1.0):
            try:
                commands.expire(self.rt)
            except Exception:
                log.exception("command expiry failed")

    def close(self) -> None:
        self._stop.set()
        if self.consumer is not None:
            self.writer.refuse_new()  # a consumer blocked on a full writer lets go
            self.consumer.close()
        self.writer.close()
        self.rt.parts.pop(IngestWriter)
        self.health.close()
        self.rt.parts.pop(HealthTracker)  # closed: a runner started later (a role taken again) makes a new one
        ch = self.rt.parts.pop(commands.CommandChannel)
        if ch is not None:
            ch.close()


class MqttIngest:
    """The ingest role: the MQTT telemetry consumer (one broker session, or one of the shared sessions)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._own: IngestRunner | None = None  # in a worker: the writer, health and expiry come with it
        self._consumer: Consumer | None = None

    def start(self) -> None:
        if not has_source(self.rt):
            log.info("ingest role: no broker (CITYOS_MQTT_URL; NATS for the nats transport): telemetry over HTTP only")
            return
        if self.rt.parts.find(IngestWriter) is None:
            self._own = IngestRunner(self.rt, mqtt=True)
            self._own.start()
            return
        self._consumer = consumer(self.rt, writer(self.rt))
        self._consumer.start()

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
        if self._own is not None:
            self._own.close()
