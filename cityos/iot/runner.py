"""Runs the ingest side of a process: the batching writer, the MQTT consumer when a broker is set,
device health rounds and command expiry. The API process starts one (HTTP ingest needs the writer);
``cityos ingest`` runs one on its own."""

from __future__ import annotations

import logging
import threading
from functools import partial

from cityos.iot import commands
from cityos.iot.health import tracker
from cityos.iot.mqtt import MqttConsumer
from cityos.iot.writer import writer
from cityos.runtime import Runtime

log = logging.getLogger(__name__)


class IngestRunner:
    def __init__(self, rt: Runtime, *, mqtt: bool) -> None:
        self.rt = rt
        self.writer = writer(rt)
        self.health = tracker(rt)
        self.consumer: MqttConsumer | None = None
        if mqtt and rt.settings.mqtt_url:
            self.consumer = MqttConsumer(rt, self.writer, on_answer=partial(commands.record_answer, rt))
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
        self.rt.parts.pop("iot.writer", None)
        self.health.close()
        ch = self.rt.parts.pop("iot.commands", None)
        if ch is not None:
            ch.close()
