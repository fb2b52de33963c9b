"""Sends NGSI-LD notifications to MQTT brokers (the NGSI-LD MQTT notification binding).

The message is the JSON object ``{"metadata": {"Content-Type": ..., "Link": ... (application/json
only), <receiverInfo>...}, "body": <the notification as sent over HTTP>}``, published on the URI's
topic with the QoS of ``notifierInfo`` ``MQTT-QoS`` (0 by default). With QoS 1 or 2 a send succeeds
once the broker acknowledged it (PUBACK / PUBCOMP) within the timeout, with QoS 0 once it is written
to the socket. A :class:`MqttSender` keeps one connection per subscription open between
notifications and opens it again after a failure; its blocking calls run on the delivery's MQTT
threads, so a broker that hangs holds up only its own subscription.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cityos.context.subscriptions.model import MqttEndpoint


def mqtt_message(headers: dict[str, str], content: bytes) -> bytes:
    """The MQTT binding's envelope around a notification."""
    return b'{"metadata":' + orjson.dumps(headers) + b',"body":' + content + b"}"


class MqttError(Exception):
    """An MQTT notification could not be delivered (connection refused, lost, or not acknowledged)."""


class MqttSender:
    """One worker's connection to an MQTT broker, opened on first use and again after a failure."""

    POLL = 0.01  # seconds between checks while waiting for the broker

    def __init__(self, endpoint: MqttEndpoint, stopping: threading.Event) -> None:
        self.endpoint = endpoint
        self._stopping = stopping
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._lost = threading.Event()
        self._refused: str | None = None

    def publish(self, payload: bytes, timeout: float) -> None:
        """Publish on the endpoint's topic; raises MqttError unless the broker took it in time."""
        client = self._client if self._client is not None and not self._lost.is_set() else self._connect(timeout)
        ep = self.endpoint
        info = client.publish(ep.topic, payload, qos=ep.qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.close()
            raise MqttError(f"publish refused: {mqtt.error_string(info.rc)}")
        deadline = time.monotonic() + timeout
        while not info.is_published():
            if self._lost.is_set():
                self.close()
                raise MqttError("connection lost before the broker acknowledged the message")
            if self._stopping.is_set() or time.monotonic() >= deadline:
                self.close()
                raise MqttError(f"no acknowledgement within {timeout} s")
            time.sleep(self.POLL)

    def _connect(self, timeout: float) -> mqtt.Client:
        self.close()
        ep = self.endpoint
        v5 = ep.version == "mqtt5.0"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"cityos-{uuid.uuid4().hex}",
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            **({} if v5 else {"clean_session": True}),  # type: ignore[arg-type]
        )
        client.connect_timeout = timeout
        if ep.username is not None:
            client.username_pw_set(ep.username, ep.password)
        if ep.tls:
            client.tls_set()  # the system CA store
        self._connected.clear()
        self._lost.clear()
        self._refused = None
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        try:
            client.connect(ep.host, ep.port, keepalive=60)
        except (OSError, ValueError) as exc:
            raise MqttError(f"cannot connect to {ep.host}:{ep.port}: {exc}") from None
        self._client = client
        client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._connected.is_set():
            if self._refused is not None or self._lost.is_set():
                self.close()
                raise MqttError(f"{ep.host}:{ep.port} refused the connection: {self._refused or 'disconnected'}")
            if self._stopping.is_set() or time.monotonic() >= deadline:
                self.close()
                raise MqttError(f"no CONNACK from {ep.host}:{ep.port} within {timeout} s")
            time.sleep(self.POLL)
        return client

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
        else:
            self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._lost.set()

    def close(self) -> None:
        """Disconnect and stop the network thread (the next publish connects again)."""
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # already gone
            client.disconnect()
        client.loop_stop()
