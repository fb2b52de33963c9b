"""MQTT telemetry and commands against the local Mosquitto (127.0.0.1:1883)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import paho.mqtt.client as paho
import pytest
from brokers import BROKER, end_session
from conftest import wait_for
from iot_district import AQ_SPEC, FLOOD_SPEC

from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.context import service as hub
from cityos.context.jsonld import core_term_map
from cityos.iot import commands, service
from cityos.iot.mqtt import MqttConsumer
from cityos.iot.runner import IngestRunner
from cityos.iot.schemas import CommandCreate, DeviceCreate, DeviceGroupCreate
from cityos.runtime import Runtime
from cityos.store.engine import Database

pytestmark = pytest.mark.mqtt


@pytest.fixture
def live(sqlite_db: Database) -> Iterator[tuple[Runtime, str]]:
    """A runtime consuming the local broker, with the test district provisioned under a fresh API key."""
    client_id = f"cityos-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(database_url=sqlite_db.url, mqtt_url=BROKER, mqtt_client_id=client_id)
    rt = Runtime(settings, sqlite_db, MemoryBus())
    key = f"k{uuid.uuid4().hex[:10]}"
    service.create_group(rt, DeviceGroupCreate(apikey=key, name="环境监测", department="hp-env"))
    service.provision(rt, [DeviceCreate(**dict(AQ_SPEC, apikey=key)), DeviceCreate(**dict(FLOOD_SPEC, apikey=key))])
    runner = IngestRunner(rt, mqtt=True)
    runner.start()
    assert runner.consumer is not None and runner.consumer.connected.wait(5)
    yield rt, key
    runner.close()
    rt.bus.close()
    end_session(client_id)


def publisher() -> paho.Client:
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}", protocol=paho.MQTTv311)
    c.connect("127.0.0.1", 1883)
    c.loop_start()
    return c


def value(rt: Runtime, entity_id: str, term: str) -> Any:
    row = hub.get_entity(rt, "default", entity_id)
    inst = row.attrs.get(core_term_map().expand(term))
    return inst[0]["value"] if inst else None


def test_json_and_ultralight_over_mqtt_become_entity_state(live: tuple[Runtime, str]) -> None:
    rt, key = live
    pub = publisher()
    pub.publish(f"cityos/{key}/HP-AQ-0001/attrs", b'{"pm25": 77, "t": 13.5}', qos=1).wait_for_publish(5)
    pub.publish(f"cityos/{key}/HP-FM-0001/ul", b"lvl|3.2|bat|0.6#lvl|3.3", qos=1).wait_for_publish(5)
    pub.publish(f"cityos/{key}/HP-AQ-0001/attrs", b'{"pm25": "many"}', qos=1).wait_for_publish(5)
    wait_for(lambda: value(rt, "urn:ngsi-ld:FloodMonitoring:HP-FM-0001", "currentLevel") == 3.3)
    assert value(rt, "urn:ngsi-ld:AirQualityObserved:HP-AQ-0001", "pm25") == 77
    assert value(rt, "urn:ngsi-ld:AirQualityObserved:HP-AQ-0001", "temperature") == 13.5
    letters = wait_for(lambda: service.list_dead_letters(rt, device_id="HP-AQ-0001")[0])
    assert letters[0].reason_code == "unparseable" and letters[0].topic == f"cityos/{key}/HP-AQ-0001/attrs"
    pub.disconnect()
    pub.loop_stop()


def test_command_round_trip_and_expiry(live: tuple[Runtime, str]) -> None:
    rt, key = live
    device = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:8]}")
    got: list[dict[str, Any]] = []

    def on_message(c: paho.Client, _u: object, m: paho.MQTTMessage) -> None:
        cmd = orjson.loads(m.payload)
        got.append(cmd)
        answer = {"id": cmd["id"], "status": "ok", "result": {"switched": cmd["value"]}}
        c.publish(f"cityos/{key}/HP-AQ-0001/cmdexe", orjson.dumps(answer), qos=1)

    subscribed = threading.Event()
    device.on_message = on_message
    device.on_subscribe = lambda *_: subscribed.set()
    device.connect("127.0.0.1", 1883)
    device.subscribe(f"cityos/{key}/HP-AQ-0001/cmd", qos=1)
    device.loop_start()
    assert subscribed.wait(10)  # the broker's SUBACK: commands sent from now on reach the device
    sent = commands.send(rt, "HP-AQ-0001", CommandCreate(command="fan", value="on"), by="operator-1")
    assert sent.status == "pending"
    done = wait_for(lambda: (c := commands.get(rt, sent.id)).status == "ok" and c)
    assert done.result == {"switched": "on"} and done.sent_at and done.answered_at
    assert got[0]["command"] == "fan"
    # the flood sensor does not answer: its command expires
    silent = commands.send(rt, "HP-FM-0001", CommandCreate(command="reset", expires_in=1))
    expired = wait_for(lambda: commands.get(rt, silent.id).status == "expired", timeout=5)
    assert expired
    device.disconnect()
    device.loop_stop()


def test_a_batch_acknowledged_in_one_packet_is_not_sent_again(sqlite_db: Database) -> None:
    """The consumer acknowledges a stored batch with one buffer of PUBACKs: the broker takes every one, so
    the session resumed afterwards is sent none of them again (only the marker published after)."""
    client_id = f"cityos-test-{uuid.uuid4().hex[:8]}"
    rt = Runtime(
        Settings(database_url=sqlite_db.url, mqtt_url=BROKER, mqtt_client_id=client_id), sqlite_db, MemoryBus()
    )
    key = f"k{uuid.uuid4().hex[:10]}"
    service.create_group(rt, DeviceGroupCreate(apikey=key, name="环境监测", department="hp-env"))
    service.provision(rt, [DeviceCreate(**dict(AQ_SPEC, apikey=key))])
    runner = IngestRunner(rt, mqtt=True)
    runner.start()
    consumer = runner.consumer
    assert isinstance(consumer, MqttConsumer) and consumer.connected.wait(5)
    pub = publisher()
    topic = f"cityos/{key}/HP-AQ-0001/attrs"
    for i in range(40):
        at = f"2026-11-21T08:00:{i:02d}.000Z"
        pub.publish(topic, b'{"pm25": %d, "observedAt": "%s"}' % (i, at.encode()), qos=1)
    wait_for(lambda: consumer.settled == 40)
    assert consumer.received == 40
    runner.close()  # the session stays with the broker

    again: list[bytes] = []
    marker = threading.Event()

    def on_message(_c: paho.Client, _u: object, m: paho.MQTTMessage) -> None:
        if m.payload == b"marker":
            marker.set()
        else:
            again.append(m.payload)

    resumed = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    resumed.on_message = on_message
    connected = threading.Event()
    resumed.on_connect = lambda *_: connected.set()
    resumed.connect("127.0.0.1", 1883, clean_start=False)
    resumed.loop_start()
    assert connected.wait(10)
    # the broker sends a resumed session its unacknowledged messages first, then what is published after
    pub.publish(f"cityos/{key}/HP-AQ-0001/ul", b"marker", qos=1).wait_for_publish(5)
    assert marker.wait(10)
    assert again == []
    resumed.disconnect()
    resumed.loop_stop()
    pub.disconnect()
    pub.loop_stop()
    rt.bus.close()
    end_session(client_id)
