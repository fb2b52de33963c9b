"""A SIGKILL of `cityos ingest` in the middle of a 10,000-message QoS 1 stream loses and doubles nothing (five
of the writer's full batches: the kill comes after a quarter is stored, while the rest is held unacknowledged or
queued at the broker).

The broker is a Mosquitto of this test's own, started from the machine's binary with the setting a
deployment needs (``max_queued_messages 0``: keep everything that arrives for a disconnected
session; the packaged default drops past 1,000, see docs/deployment.md).
"""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from brokers import start_ingest, stored
from conftest import Seen, wait_for
from sqlalchemy import func, select

from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.core.timefmt import format_ts
from cityos.iot import service
from cityos.iot.schemas import DeviceCreate, DeviceGroupCreate
from cityos.iot.tables import dead_letters
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade

MESSAGES = 10_000
DEVICES = 500
KEY = "crash-key"
CLIENT_ID = "crash-test-ingest"
pytestmark = pytest.mark.mqtt(broker="own")  # a Mosquitto of the test's own, from the machine's binary


def probe_through(pub: paho.Client, db: Database, sent: list[int]) -> None:
    """Publish probes until the consumer stores one: its subscription is live and, as one session's messages
    come in order, everything published before the stored probe has been taken in."""
    before = stored(db, "probe")

    def stored_one() -> bool:
        sent[0] += 1
        pub.publish(f"cityos/{KEY}/PROBE/attrs", b'{"p": %d}' % sent[0], qos=1)
        return stored(db, "probe") > before

    wait_for(stored_one, 60)


def test_sigkill_and_restart_lose_and_double_nothing(broker: int, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cityos.db'}"
    db = Database(db_url)
    upgrade(db)
    rt = Runtime(Settings(database_url=db_url), db, MemoryBus())
    service.create_group(rt, DeviceGroupCreate(apikey=KEY, name="crash test", department="test"))
    measures = {"n": {"attr": "sequence", "min": 0, "max": MESSAGES}}
    service.provision(
        rt,
        [
            DeviceCreate(
                device_id=f"C-{d:04d}", apikey=KEY, device_type="counter", entity_type="Counter", measures=measures
            )
            for d in range(DEVICES)
        ],
    )
    probe = {"p": {"attr": "probe"}}
    service.provision(
        rt, [DeviceCreate(device_id="PROBE", apikey=KEY, device_type="probe", entity_type="Probe", measures=probe)]
    )
    log = tmp_path / "ingest.log"
    ingest = start_ingest(db_url, broker, log, CLIENT_ID)
    base = datetime.now(UTC) - timedelta(hours=1)
    pub = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="crash-test-pub", protocol=paho.MQTTv311)
    pub.max_inflight_messages_set(1000)
    acks: Seen[int] = Seen()  # the broker's acknowledgements of what was published
    pub.on_publish = lambda _c, _u, mid, _rc, _p: acks(mid)
    pub.connect("127.0.0.1", broker)
    pub.loop_start()
    # the stream begins once the consumer's session has subscribed, so none of it is published before
    wait_for(lambda: b"consuming telemetry" in log.read_bytes(), 30)
    probes = [0]
    probe_through(pub, db, probes)
    acks.wait_for(lambda a: len(a) >= probes[0])
    first = probes[0]  # acknowledgements before the stream's
    done = threading.Event()

    def publish() -> None:
        for i in range(MESSAGES):
            at = format_ts(base + timedelta(seconds=i // DEVICES))
            pub.publish(
                f"cityos/{KEY}/C-{i % DEVICES:04d}/attrs", b'{"n": %d, "observedAt": "%s"}' % (i, at.encode()), qos=1
            )
            sent = i + 1
            acks.wait_for(lambda a, sent=sent: sent - (len(a) - first) <= 2000, 300)  # at most 2,000 unacknowledged
        acks.wait_for(lambda a: len(a) - first >= MESSAGES, 300)
        done.set()

    thread = threading.Thread(target=publish)
    thread.start()
    try:
        wait_for(lambda: stored(db) >= MESSAGES // 4, 120)
        ingest.send_signal(signal.SIGKILL)
        ingest.wait(10)
        at_kill = stored(db)
        assert at_kill < MESSAGES, "the kill came too late to test anything"
        published = len(acks.now()) - first
        acks.wait_for(lambda a: len(a) - first >= min(MESSAGES, published + 5_000), 120)  # the stream goes on
        ingest = start_ingest(db_url, broker, log, CLIENT_ID)
        thread.join(300)
        assert done.is_set()
        wait_for(lambda: stored(db) >= MESSAGES, 300)
        probe_through(pub, db, probes)  # anything doubled would have been stored before it
        assert stored(db) == MESSAGES
        with db.connect() as conn:
            assert conn.execute(select(func.count()).select_from(dead_letters)).scalar_one() == 0
    finally:
        ingest.send_signal(signal.SIGTERM)
        ingest.wait(30)
        pub.disconnect()
        pub.loop_stop()
        rt.bus.close()
        db.dispose()
