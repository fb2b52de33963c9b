"""The MQTT transport: telemetry in, command answers in, commands out.

Topics (``{apikey}`` the group key, ``{device}`` the device id):

- ``cityos/{apikey}/{device}/attrs``: JSON measures;
- ``cityos/{apikey}/{device}/ul``: UltraLight 2.0 measures;
- ``cityos/{apikey}/{device}/cmdexe``: a device's answer to a command;
- ``cityos/{apikey}/{device}/cmd``: commands to the device (published by :mod:`cityos.iot.commands`).

The consumer connects with MQTT 5, a fixed client id and a session that outlives a disconnect, and
subscribes with QoS 1. It acknowledges a message only after the batching writer stored it, so a
message in flight when the process dies is sent again by the broker when it comes back. The
broker's queue for a disconnected session must hold what arrives meanwhile (Mosquitto:
``max_queued_messages``; see docs/deployment.md). With ``CITYOS_MQTT_SESSIONS`` > 1 several consumers
share the telemetry through a shared subscription (:mod:`cityos.iot.sharing`).
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cityos.core.timefmt import now_iso
from cityos.iot.models import Message, Outcome, PayloadFormat
from cityos.iot.writer import IngestWriter
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
TOPIC_ROOT = "cityos"
SESSION_EXPIRY = 7 * 86400  # seconds the broker keeps our session (and queued messages) while we are away

# Unacknowledged messages the broker may send us at once (MQTT 5 Receive Maximum). Messages are
# acknowledged after their batch commits, so this bounds what waits in memory: enough for the batch
# being written and the next few (each waiting message costs a few kilobytes of Python objects).
BATCHES_IN_FLIGHT = 4


def broker_address(url: str) -> tuple[str, int, bool]:
    """Host, port and TLS of an ``mqtt://`` or ``mqtts://`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"{url!r} is not an MQTT URL such as mqtt://127.0.0.1:1883")
    tls = parts.scheme == "mqtts"
    return parts.hostname, parts.port or (8883 if tls else 1883), tls


def parse_topic(topic: str) -> tuple[str, str, str] | None:
    """(apikey, device id, kind) of a cityos topic, or None."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != TOPIC_ROOT or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2], parts[3]


def topic_filters(share: str | None = None) -> list[tuple[str, int]]:
    """The consumer's subscriptions (QoS 1), in the shared subscription ``$share/{share}/…`` if given."""
    prefix = f"$share/{share}/" if share else ""
    return [(f"{prefix}{TOPIC_ROOT}/+/+/{kind}", 1) for kind in ("attrs", "ul", "cmdexe")]


def new_client(url: str, client_id: str, *, manual_ack: bool = False, mqtt5: bool = True) -> paho.Client:
    """A paho client for the broker at ``url``: MQTT 5, or 3.1.1 (``mqtt5`` false: nats-server speaks only that)."""
    _host, _port, tls = broker_address(url)
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5 if mqtt5 else paho.MQTTv311,
        manual_ack=manual_ack,
    )
    parts = urlsplit(url)
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    if tls:
        client.tls_set()
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    return client


_PUBACK = struct.Struct("!BBH")  # fixed header (PUBACK, remaining length 2), packet id: reason "success" implied


def ack_many(client: paho.Client, mids: list[int]) -> None:
    """Acknowledge QoS 1 messages ``mids`` (PUBACK), from any thread.

    paho sends an acknowledgement as a packet of its own: a write to wake its network thread, then a
    socket write, for each message. Here a batch's acknowledgements go as one buffer of consecutive
    PUBACK packets (the broker reads a stream), queued through paho's own outgoing queue, which its
    ``publish`` and ``ack`` use from any thread too. Falls back to one ``ack`` a message if the paho
    in use lacks that queue."""
    if not mids:
        return
    queue = getattr(client, "_packet_queue", None)
    if queue is None:
        for mid in mids:
            client.ack(mid, 1)
        return
    pack = _PUBACK.pack
    queue(paho.PUBACK, b"".join([pack(paho.PUBACK, 2, mid) for mid in mids]), 0, 0)


def connect(client: paho.Client, url: str, **kwargs: Any) -> None:
    """Connect ``client`` to the broker at ``url`` and start its network thread."""
    host, port, _tls = broker_address(url)
    client.connect(host, port, keepalive=30, **kwargs)
    client.loop_start()


class MqttConsumer:
    """Feeds MQTT telemetry to the writer and command answers to ``on_answer``."""

    def __init__(
        self,
        rt: Runtime,
        writer: IngestWriter,
        *,
        url: str | None = None,
        client_id: str | None = None,
        on_answer: Callable[[str, str, bytes], object] | None = None,
        share: str | None = None,
    ) -> None:
        self.rt = rt
        self.writer = writer
        self.url = url or rt.settings.mqtt_url or ""
        self.on_answer = on_answer
        self.share = share
        # messages taken from the broker and acknowledged to it (acknowledged on the writer's thread or on paho's)
        self.received = self.settled = 0
        self._count = threading.Lock()
        self._stamp_ms, self._stamp = 0, ""  # the receipt time last given, and its millisecond
        self.connected = threading.Event()  # set once the broker confirmed the subscriptions
        self.client = new_client(self.url, client_id or rt.settings.mqtt_client_id, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self.connected.set()

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY
        props.ReceiveMaximum = min(65535, BATCHES_IN_FLIGHT * self.writer.batch_size)
        connect(self.client, self.url, clean_start=False, properties=props)

    def _on_connect(self, client: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT broker refused the connection: %s", reason)
            return
        # `connected` is set by on_subscribe: a message published before the SUBACK may not reach a new session
        client.subscribe(topic_filters(self.share))

    def _on_message(self, client: paho.Client, _u: object, m: paho.MQTTMessage) -> None:
        # paho's network thread, once a message: as little as can be, the rest is done a batch at a time
        topic = m.topic
        self.received += 1
        parts = topic.split("/")
        if len(parts) == 4 and parts[0] == TOPIC_ROOT and parts[1] and parts[2]:
            kind = parts[3]
            if kind == "attrs" or kind == "ul":
                ms = time.time_ns() // 1_000_000
                if ms != self._stamp_ms:  # the messages of one millisecond share their receipt time
                    self._stamp_ms, self._stamp = ms, now_iso()
                fmt: PayloadFormat = "json" if kind == "attrs" else "ul"
                msg = Message("mqtt", parts[1], parts[2], fmt, m.payload, self._stamp, topic)  # type: ignore[arg-type]
                self.writer.put(msg, self, m.mid if m.qos else 0)  # mid 0 is not a packet id: nothing to acknowledge
                return
            if kind == "cmdexe" and self.on_answer is not None:
                try:
                    self.on_answer(parts[1], parts[2], m.payload)  # type: ignore[arg-type]
                except Exception:
                    log.exception("command answer from %s not recorded", parts[2])
                    return  # unacknowledged: the broker sends it again
        # a command answer, or a topic that is not ours: acknowledged now
        self.settle([m.mid if m.qos else 0], [])

    def settle(self, tokens: list[int], outcomes: list[Outcome]) -> None:
        """The writer stored (or rejected) these messages: acknowledge them to the broker, in one packet."""
        ack_many(self.client, [mid for mid in tokens if mid])
        with self._count:
            self.settled += len(tokens)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
