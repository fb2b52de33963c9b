"""The local Mosquitto the MQTT tests use, and how they leave it clean."""

from __future__ import annotations

import socket
import threading

import paho.mqtt.client as paho

BROKER = "mqtt://127.0.0.1:1883"


def end_session(client_id: str) -> None:
    """Drop the broker's persistent session of ``client_id`` so that it queues nothing for later runs."""
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    connected = threading.Event()
    c.on_connect = lambda *_: connected.set()
    c.connect("127.0.0.1", 1883, clean_start=True)
    c.loop_start()
    assert connected.wait(10), "no CONNACK from the broker"  # the clean start has replaced the old session
    c.disconnect()
    c.loop_stop()


def free_port() -> int:
    """A TCP port nothing listens on now (for a broker of a test's own, or one nobody answers on)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
