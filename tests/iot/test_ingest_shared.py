"""Two `cityos ingest` processes share the telemetry over MQTT shared sessions (CITYOS_MQTT_SESSIONS=2);
a SIGKILL of one in the middle of a QoS 1 stream loses and doubles nothing: the other takes its session
over (Mosquitto keeps a dead session's unacknowledged messages in that session, see cityos.iot.sharing).
On both databases, with a Mosquitto of the test's own."""

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
from cityos.iot.runner import IngestRunner
from cityos.iot.schemas import DeviceCreate, DeviceGroupCreate
from cityos.iot.sharing import SharedSessions
from cityos.iot.tables import dead_letters
from cityos.runtime import Runtime
from cityos.store.engine import Database

MESSAGES = 10_000  # five of the writer's full batches: enough for a kill mid-stream, in seconds
DEVICES = 400
KEY = "share-key"
CLIENT_ID = "share-test-ingest"
pytestmark = pytest.mark.mqtt(broker="own")  # a Mosquitto of the test's own, from the machine's binary


def provision(rt: Runtime) -> None:
    service.create_group(rt, DeviceGroupCreate(apikey=KEY, name="share test", department="test"))

    def device(device_id: str, entity_type: str, measures: dict[str, dict[str, object]]) -> DeviceCreate:
        return DeviceCreate(
            device_id=device_id, apikey=KEY, device_type=entity_type.lower(), entity_type=entity_type, measures=measures
        )

    counter = {"n": {"attr": "sequence", "min": 0, "max": MESSAGES}}
    devices = [device(f"S-{d:04d}", "Counter", counter) for d in range(DEVICES)]
    service.provision(rt, [*devices, device("PROBE", "Probe", {"p": {"attr": "probe"}})])


def test_two_shared_processes_and_a_sigkill_lose_and_double_nothing(rt: Runtime, broker: int, tmp_path: Path) -> None:
    provision(rt)
    logs = [tmp_path / "ingest-a.log", tmp_path / "ingest-b.log"]
    procs = [start_ingest(rt.db.url, broker, log, CLIENT_ID, CITYOS_MQTT_SESSIONS="2") for log in logs]
    pub = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="share-test-pub", protocol=paho.MQTTv311)
    pub.max_inflight_messages_set(1000)
    acks: Seen[int] = Seen()  # the broker's acknowledgements of what was published
    pub.on_publish = lambda _c, _u, mid, _rc, _p: acks(mid)
    pub.connect("127.0.0.1", broker)
    pub.loop_start()
    try:
        # each process runs one of the two sessions before the stream begins
        for i in (1, 2):
            wait_for(lambda i=i: any(f"{CLIENT_ID}-{i}: consuming here".encode() in p.read_bytes() for p in logs), 60)
        for log in logs:
            wait_for(lambda log=log: b"consuming telemetry" in log.read_bytes(), 60)
        probes = 0
        while stored(rt.db, "probe") < 2:  # the consumers take messages in before the stream begins
            probes += 1
            pub.publish(f"cityos/{KEY}/PROBE/attrs", b'{"p": %d}' % probes, qos=1)
            wait_for(lambda n=min(probes, 2): stored(rt.db, "probe") >= n, 30)
        acks.wait_for(lambda a: len(a) >= probes)
        first = probes
        base = datetime.now(UTC) - timedelta(hours=1)
        done = threading.Event()

        def publish() -> None:
            for i in range(MESSAGES):
                at = format_ts(base + timedelta(seconds=i // DEVICES)).encode()
                payload = b'{"n": %d, "observedAt": "%s"}' % (i, at)
                pub.publish(f"cityos/{KEY}/S-{i % DEVICES:04d}/attrs", payload, qos=1)
                sent = i + 1
                acks.wait_for(lambda a, sent=sent: sent - (len(a) - first) <= 2000, 300)  # at most 2,000 unacknowledged
            acks.wait_for(lambda a: len(a) - first >= MESSAGES, 300)
            done.set()

        thread = threading.Thread(target=publish)
        thread.start()
        wait_for(lambda: stored(rt.db) >= MESSAGES // 4, 120)
        procs[0].send_signal(signal.SIGKILL)  # not restarted: the other process must take its session over
        procs[0].wait(10)
        assert stored(rt.db) < MESSAGES, "the kill came too late to test anything"
        thread.join(300)
        assert done.is_set()
        wait_for(lambda: stored(rt.db) >= MESSAGES, 300, what=lambda: stored(rt.db))
        # the survivor took the dead session's messages over, and no more are left in it
        wait_for(lambda: b"its process is gone; took over" in logs[1].read_bytes(), 60)
        before = stored(rt.db, "probe")
        pub.publish(f"cityos/{KEY}/PROBE/attrs", b'{"p": 0}', qos=1)
        wait_for(lambda: stored(rt.db, "probe") > before, 30)  # the live session has taken in all before it
        assert stored(rt.db) == MESSAGES
        with rt.db.connect() as conn:
            assert conn.execute(select(func.count()).select_from(dead_letters)).scalar_one() == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        pub.disconnect()
        pub.loop_stop()


def test_a_deployment_gone_to_shared_sessions_takes_in_what_its_one_session_held(
    sqlite_db: Database, broker: int
) -> None:
    settings = Settings(database_url=sqlite_db.url, mqtt_url=f"mqtt://127.0.0.1:{broker}", mqtt_client_id=CLIENT_ID)
    rt = Runtime(settings, sqlite_db, MemoryBus())
    provision(rt)
    one = IngestRunner(rt, mqtt=True)  # CITYOS_MQTT_SESSIONS=1: the one session, subscribed, then stopped
    one.start()
    assert one.consumer is not None and one.consumer.connected.wait(10)
    one.close()
    pub = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="share-test-pub-1", protocol=paho.MQTTv311)
    acks: Seen[int] = Seen()
    pub.on_publish = lambda _c, _u, mid, _rc, _p: acks(mid)
    pub.connect("127.0.0.1", broker)
    pub.loop_start()
    at = format_ts(datetime.now(UTC) - timedelta(minutes=1)).encode()
    for i in range(100):
        pub.publish(f"cityos/{KEY}/S-{i:04d}/attrs", b'{"n": %d, "observedAt": "%s"}' % (i, at), qos=1)
    acks.wait_for(lambda a: len(a) >= 100)
    pub.disconnect()
    pub.loop_stop()
    shared_rt = Runtime(settings.model_copy(update={"mqtt_sessions": 2}), sqlite_db, MemoryBus())
    shared = IngestRunner(shared_rt, mqtt=True)
    shared.start()
    try:
        sessions = shared.consumer
        assert isinstance(sessions, SharedSessions)
        wait_for(lambda: sessions.taken_over >= 100, 120)  # at one look or several
        assert sessions.taken_over == 100
        assert stored(sqlite_db) == 100
    finally:
        shared.close()
        rt.bus.close()
        shared_rt.bus.close()
