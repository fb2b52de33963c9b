"""Telemetry over the JetStream transport (CITYOS_INGEST_TRANSPORT=nats): devices publish plain MQTT to
NATS, a stream captures it, the ingest pulls it. A nats-server of the test's own (its own ports and store,
with MQTT), so the machine's NATS is left alone; devices are paho clients speaking MQTT 3.1.1."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import orjson
import paho.mqtt.client as paho
import pytest
from brokers import own_nats, start_ingest, stored
from conftest import Seen, wait_for
from sqlalchemy import func, select

from cityos import context as hub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.context.jsonld import core_term_map
from cityos.core.timefmt import format_ts
from cityos.iot import commands, service
from cityos.iot.jetstream import JetStreamConsumer, stored_at_ns
from cityos.iot.runner import IngestRunner
from cityos.iot.schemas import CommandCreate, DeviceCreate, DeviceGroupCreate
from cityos.iot.tables import dead_letters
from cityos.runtime import Runtime
from cityos.store.engine import Database

KEY = "js-key"
STREAM = "CITYOS_TELEMETRY"
CONSUMER = "cityos-ingest"
pytestmark = pytest.mark.nats


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[tuple[int, int]]:
    with own_nats(tmp_path) as ports:
        yield ports


def device(device_id: str, entity_type: str, measures: dict[str, dict[str, object]]) -> DeviceCreate:
    return DeviceCreate(
        device_id=device_id, apikey=KEY, device_type=entity_type.lower(), entity_type=entity_type, measures=measures
    )


def mqtt_device(port: int, client_id: str) -> tuple[paho.Client, Seen[int]]:
    """A device's MQTT 3.1.1 client (nats-server 2.9 speaks 3.1.1), and the broker's acknowledgements."""
    pub = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311)
    pub.max_inflight_messages_set(1000)
    acks: Seen[int] = Seen()
    pub.on_publish = lambda _c, _u, mid, _rc, _p: acks(mid)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    return pub, acks


def attr(rt: Runtime, entity_id: str, term: str) -> dict[str, Any]:
    return hub.get_entity(rt, "default", entity_id).attrs[core_term_map().expand(term)][0]


def consumer_state(port: int) -> tuple[int, int]:
    """(messages not yet delivered, messages delivered and not acknowledged) of the shared consumer."""

    async def look() -> tuple[int, int]:
        nc = await nats.connect(f"nats://127.0.0.1:{port}")
        try:
            info = await nc.jetstream().consumer_info(STREAM, CONSUMER)
            return info.num_pending or 0, info.num_ack_pending or 0
        finally:
            await nc.close()

    return asyncio.run(look())


def test_the_ack_subject_gives_the_time_the_stream_stored_the_message() -> None:
    assert stored_at_ns("$JS.ACK.S.C.1.42.40.1733572800123456789.0") == 1733572800123456789
    assert stored_at_ns("$JS.ACK.hub.ACCHASH.S.C.2.42.40.1733572800123456789.7.r4nd") == 1733572800123456789
    assert stored_at_ns("_INBOX.abc") is None


def test_mqtt_telemetry_through_jetstream_is_stored_and_dead_lettered(
    sqlite_db: Database, nats_server: tuple[int, int]
) -> None:
    port, mqtt_port = nats_server
    db = sqlite_db
    settings = Settings(
        database_url=db.url,
        ingest_transport="nats",
        ingest_nats_url=f"nats://127.0.0.1:{port}",
        mqtt_url=f"mqtt://127.0.0.1:{mqtt_port}",
    )
    rt = Runtime(settings, db, MemoryBus())
    air = {"t": {"attr": "temperature", "min": -40, "max": 60}, "h": {"attr": "relativeHumidity"}}
    service.create_group(rt, DeviceGroupCreate(apikey=KEY, name="js test", department="test"))
    service.provision(rt, [device("AQ-1", "AirQualityObserved", air), device("AQ-2", "AirQualityObserved", air)])
    runner = IngestRunner(rt, mqtt=True)
    runner.start()
    pub, acks = mqtt_device(mqtt_port, "js-device")
    try:
        assert isinstance(runner.consumer, JetStreamConsumer)
        assert runner.consumer.connected.wait(30)  # the stream exists: what devices publish now is kept
        at = format_ts(datetime.now(UTC) - timedelta(seconds=30))
        pub.publish(f"cityos/{KEY}/AQ-1/attrs", b'{"t": 21.5, "h": 40, "observedAt": "%s"}' % at.encode(), qos=1)
        pub.publish(f"cityos/{KEY}/AQ-2/ul", b"t|19.25|h|55", qos=1)
        pub.publish(f"cityos/{KEY}/AQ-1/attrs", b'{"t": 999}', qos=1)  # out of range: a dead letter
        acks.wait_for(lambda a: len(a) >= 3)
        wait_for(lambda: runner.consumer.settled >= 3, 30, what=lambda: runner.consumer.settled)  # type: ignore[union-attr]
        one = attr(rt, "urn:ngsi-ld:AirQualityObserved:AQ-1", "temperature")
        assert one["value"] == 21.5 and one["observedAt"] == at
        assert attr(rt, "urn:ngsi-ld:AirQualityObserved:AQ-2", "temperature")["value"] == 19.25
        assert attr(rt, "urn:ngsi-ld:AirQualityObserved:AQ-2", "relativeHumidity")["value"] == 55
        with db.connect() as conn:
            reasons = conn.execute(select(dead_letters.c.device_id)).scalars().all()
        assert reasons == ["AQ-1"]
        wait_for(lambda: consumer_state(port) == (0, 0), 30, what=lambda: consumer_state(port))  # all acknowledged
        # a command goes out over NATS's MQTT (3.1.1), its answer comes back through the stream
        got: list[bytes] = []
        subscribed = threading.Event()

        def answer(c: paho.Client, _u: object, m: paho.MQTTMessage) -> None:
            got.append(m.payload)
            cmd = orjson.loads(m.payload)
            c.publish(f"cityos/{KEY}/AQ-1/cmdexe", orjson.dumps({"id": cmd["id"], "status": "ok"}), qos=1)

        pub.on_message = answer
        pub.on_subscribe = lambda *_: subscribed.set()
        pub.subscribe(f"cityos/{KEY}/AQ-1/cmd", qos=1)
        assert subscribed.wait(15)
        sent = commands.send(rt, "AQ-1", CommandCreate(command="fan", value="on"))
        done = wait_for(lambda: (c := commands.get(rt, sent.id)).status == "ok" and c, 30)
        assert done.answered_at and orjson.loads(got[0])["command"] == "fan"
    finally:
        pub.disconnect()
        pub.loop_stop()
        runner.close()
        rt.bus.close()


MESSAGES = 10_000  # five of the writer's full batches: enough for a kill mid-stream, in seconds
DEVICES = 400


def test_two_processes_on_one_consumer_and_a_sigkill_lose_and_double_nothing(
    rt: Runtime, nats_server: tuple[int, int], tmp_path: Path
) -> None:
    port, mqtt_port = nats_server
    counter = {"n": {"attr": "sequence", "min": 0, "max": MESSAGES}}
    service.create_group(rt, DeviceGroupCreate(apikey=KEY, name="js test", department="test"))
    service.provision(rt, [device(f"J-{d:04d}", "Counter", counter) for d in range(DEVICES)])
    env = {
        "CITYOS_INGEST_TRANSPORT": "nats",
        "CITYOS_INGEST_NATS_URL": f"nats://127.0.0.1:{port}",
        "CITYOS_INGEST_NATS_ACK_WAIT": "5",  # a dead process's messages go to the other after 5 s
    }
    logs = [tmp_path / "ingest-a.log", tmp_path / "ingest-b.log"]
    procs = [start_ingest(rt.db.url, mqtt_port, log, "unused", **env) for log in logs]
    pub, acks = mqtt_device(mqtt_port, "js-test-pub")
    try:
        for log in logs:  # both pull before the stream begins (the first one made the stream and consumer)
            wait_for(lambda log=log: b"pulling telemetry" in log.read_bytes(), 90)
        base = datetime.now(UTC) - timedelta(hours=1)
        done = threading.Event()

        def publish() -> None:
            for i in range(MESSAGES):
                at = format_ts(base + timedelta(seconds=i // DEVICES)).encode()
                pub.publish(
                    f"cityos/{KEY}/J-{i % DEVICES:04d}/attrs", b'{"n": %d, "observedAt": "%s"}' % (i, at), qos=1
                )
                sent = i + 1
                acks.wait_for(lambda a, sent=sent: sent - len(a) <= 2000, 300)  # at most 2,000 unacknowledged
            acks.wait_for(lambda a: len(a) >= MESSAGES, 300)
            done.set()

        thread = threading.Thread(target=publish)
        thread.start()
        wait_for(lambda: stored(rt.db) >= MESSAGES // 4, 120)
        procs[0].send_signal(signal.SIGKILL)  # not restarted: the other process takes what it held
        procs[0].wait(10)
        assert stored(rt.db) < MESSAGES, "the kill came too late to test anything"
        thread.join(300)
        assert done.is_set()
        wait_for(lambda: stored(rt.db) >= MESSAGES, 300, what=lambda: stored(rt.db))
        # nothing left to deliver or to acknowledge: every delivery, the dead process's again too, is in
        wait_for(lambda: consumer_state(port) == (0, 0), 120, what=lambda: consumer_state(port))
        assert b"pulling telemetry" in logs[1].read_bytes()
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
