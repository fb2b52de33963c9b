"""Runs the ingest side of a process.

:class:`IngestRunner`: the batching writer, device health rounds and command expiry, and the MQTT
consumer when asked for. Every API process runs one without the consumer (HTTP telemetry needs the
writer). :class:`MqttIngest` is the *ingest* role (one process of a deployment at a time): the MQTT
consumer, fed into this process's writer, or with a writer of its own in a worker; with
``CITYOS_MQTT_SESSIONS`` > 1, one of the shared sessions (:mod:`cityos.iot.sharing`), in every process
given the role.
"""

from __future__ import annotations

import logging
import threading
from functools import partial

from cityos.iot import commands
from cityos.iot.health import HealthTracker, tracker
from cityos.iot.mqtt import MqttConsumer
from cityos.iot.sharing import SharedSessions
from cityos.iot.writer import IngestWriter, writer
from cityos.runtime import Runtime

log = logging.getLogger(__name__)


def consumer(rt: Runtime, w: IngestWriter) -> MqttConsumer | SharedSessions:
    """The MQTT telemetry consumer of the ingest role: the one session, or one of the shared sessions."""
    answer = partial(commands.record_answer, rt)
    if rt.settings.mqtt_sessions > 1:
        return SharedSessions(rt, w, on_answer=answer)
    return MqttConsumer(rt, w, on_answer=answer)


class IngestRunner:
    def __init__(self, rt: Runtime, *, mqtt: bool = False) -> None:
        self.rt = rt
        self.writer = writer(rt)
        self.health = tracker(rt)
        self.consumer: MqttConsumer | SharedSessions | None = None
        if mqtt and rt.settings.mqtt_url:
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
        self._consumer: MqttConsumer | SharedSessions | None = None

    def start(self) -> None:
        if not self.rt.settings.mqtt_url:
            log.info("ingest role: no broker (CITYOS_MQTT_URL), so telemetry comes over HTTP only")
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
