"""The local Mosquitto the MQTT tests use, and how they leave it clean."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def own_mosquitto(workdir: Path) -> Iterator[int]:
    """A Mosquitto of the test's own, from the machine's binary, with the setting a deployment needs
    (``max_queued_messages 0``: keep everything that arrives for a disconnected session; the packaged
    default drops past 1,000, see docs/deployment.md); its port."""
    from conftest import wait_for

    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\npersistence false\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    try:
        wait_for(listening, 5)
    except AssertionError:
        proc.kill()
        raise AssertionError(f"mosquitto ({binary}) did not start on port {port}") from None
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(5)
