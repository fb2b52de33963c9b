"""The local Mosquitto the MQTT tests use, and how they leave it clean; a Mosquitto of a test's own (the
``broker`` fixture of tests/conftest.py), the `cityos ingest` processes the crash tests start against it, and
how many values they stored."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as paho
from sqlalchemy import func, select

from cityos.context.jsonld import core_term_map
from cityos.context.tables import attr_history
from cityos.store.engine import Database

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


@contextmanager
def own_nats(workdir: Path) -> Iterator[tuple[int, int]]:
    """A nats-server of the test's own, from the machine's binary, with JetStream (its store in ``workdir``)
    and MQTT for the devices; its NATS and MQTT ports. The machine's NATS on 4222 is left alone."""
    from conftest import wait_for

    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    port, mqtt_port = free_port(), free_port()
    conf = workdir / "nats.conf"
    conf.write_text(
        f"server_name: cityos_test\nlisten: 127.0.0.1:{port}\n"
        f'jetstream {{ store_dir: "{workdir / "jetstream"}" }}\n'
        f"mqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n"
    )
    log = (workdir / "nats.log").open("ab")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=log)

    def listening() -> bool:
        try:
            for p in (port, mqtt_port):
                socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
            return True
        except OSError:
            return False

    try:
        wait_for(listening, 15)
    except AssertionError:
        proc.kill()
        raise AssertionError(f"nats-server ({binary}) did not start: see {workdir / 'nats.log'}") from None
    try:
        yield port, mqtt_port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def start_ingest(db_url: str, port: int, log: Path, client_id: str, **env: str) -> subprocess.Popen[bytes]:
    """A `cityos ingest` process over ``db_url``, consuming from the broker on ``port`` as ``client_id`` (with
    any more ``CITYOS_…`` settings in ``env``), its stderr appended to ``log``."""
    settings = {"CITYOS_DATABASE_URL": db_url, "CITYOS_MQTT_CLIENT_ID": client_id, **env}
    cmd = [sys.executable, "-m", "cityos.cli", "ingest", "--mqtt", f"mqtt://127.0.0.1:{port}"]
    return subprocess.Popen(cmd, env={**os.environ, **settings}, stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def stored(db: Database, term: str = "sequence") -> int:
    """How many values of attribute ``term`` the hub's history holds (what the ingest processes stored)."""
    attr = core_term_map().expand(term)
    with db.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(attr_history).where(attr_history.c.attr == attr)
        ).scalar_one()
