"""NGSI-LD subscriptions with MQTT notification endpoints, delivered to the local Mosquitto broker.

The broker must run on 127.0.0.1:1883 (``mosquitto -d -c /etc/mosquitto/mosquitto.conf``; .ci/run starts
it): without it these tests fail, they never skip.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from brokers import free_port
from conftest import Api, Seen, running
from paho.mqtt.enums import CallbackAPIVersion
from test_subscriptions import BASE, WAIT, Receiver, air, create, set_attrs, sub_body, subscribe, until

from cityos.context.subscriptions.notify import Notifier

BROKER = ("127.0.0.1", 1883)
START = "mosquitto -d -c /etc/mosquitto/mosquitto.conf"
pytestmark = pytest.mark.mqtt


@pytest.fixture(scope="module", autouse=True)
def broker_up() -> None:
    try:
        socket.create_connection(BROKER, timeout=2).close()
    except OSError as exc:
        pytest.fail(f"Mosquitto is not reachable on {BROKER[0]}:{BROKER[1]} ({exc}): start it with `{START}`")


@pytest.fixture
def fast(api: Api) -> Api:
    """The API with the notifier tuned to retry quickly (as in test_subscriptions)."""
    cfg = running(api, Notifier).config
    cfg.backoff, cfg.backoff_max, cfg.attempts, cfg.fail_after, cfg.close_wait = 0.01, 0.05, 3, 2, 5.0
    return api


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**kw: Any) -> Receiver:
        made.append(Receiver(**kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


class Subscriber:
    """An MQTT client subscribed (QoS 1) to a fresh topic, recording every message it gets."""

    def __init__(self) -> None:
        self.topic = f"cityos-test/{uuid.uuid4().hex}/notify"
        self.seen: Seen[mqtt.MQTTMessage] = Seen()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda client, userdata, msg: self.seen(msg)
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect(*BROKER)
        self.client.loop_start()
        self.client.subscribe(self.topic, qos=1)
        assert subscribed.wait(WAIT), "no SUBACK from the broker"

    @property
    def got(self) -> list[mqtt.MQTTMessage]:
        return self.seen.now()

    def url(self) -> str:
        return f"mqtt://{BROKER[0]}:{BROKER[1]}/{self.topic}"

    def wait_for(self, n: int) -> list[dict[str, Any]]:
        """The messages, parsed, once there are ``n`` or more."""
        return self.seen.wait_for(lambda got: [json.loads(m.payload) for m in got] if len(got) >= n else None, WAIT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscribers() -> Iterator[Callable[[], Subscriber]]:
    made: list[Subscriber] = []

    def make() -> Subscriber:
        s = Subscriber()
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def info(**pairs: str) -> list[dict[str, str]]:
    return [{"key": k.replace("_", "-"), "value": v} for k, v in pairs.items()]


def test_mqtt_notification_qos1(
    fast: Api,
    subscribers: Callable[[], Subscriber],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cityos.context.subscriptions import mqtt as mqtt_notify

    connects: list[str] = []
    connect = mqtt_notify.MqttSender._connect

    def counted(self: mqtt_notify.MqttSender, timeout: float) -> Any:
        connects.append(self.endpoint.topic)
        return connect(self, timeout)

    monkeypatch.setattr(mqtt_notify.MqttSender, "_connect", counted)
    sub = subscribers()
    endpoint = {"receiverInfo": [{"key": "X-Token", "value": "abc"}], "notifierInfo": info(MQTT_QoS="1")}
    body = sub_body(sub.url(), notification={"format": "keyValues", "attributes": ["pm25"], "endpoint": endpoint})
    sub_id = subscribe(fast, body)
    assert fast.get(f"{BASE}/{sub_id}").json()["notification"]["endpoint"]["notifierInfo"] == endpoint["notifierInfo"]
    create(fast, air(1, 80, district="Huangpu"))
    set_attrs(fast, 1, pm25=95)
    first, second = sub.wait_for(2)
    assert [m.qos for m in sub.got] == [1, 1]
    assert set(first) == {"metadata", "body"}
    meta = first["metadata"]
    assert meta["Content-Type"] == "application/json" and meta["X-Token"] == "abc"
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in meta["Link"]
    note = first["body"]
    assert note["type"] == "Notification" and note["subscriptionId"] == sub_id
    assert note["id"].startswith("urn:ngsi-ld:Notification:") and "notifiedAt" in note
    entity = {"id": "urn:ngsi-ld:AirQualityObserved:1", "type": "AirQualityObserved"}
    assert note["data"] == [{**entity, "pm25": 80}]
    assert second["body"]["data"] == [{**entity, "pm25": 95}]
    doc = until(fast, sub_id, lambda d: d["notification"].get("timesSent") == 2 and "lastSuccess" in d["notification"])
    assert doc["notification"]["status"] == "ok" and "lastFailure" not in doc["notification"]
    assert connects == [sub.topic]  # one connection, kept open between the two notifications


def test_mqtt311_qos2_ld_json(fast: Api, subscribers: Callable[[], Subscriber]) -> None:
    sub = subscribers()
    endpoint = {"accept": "application/ld+json", "notifierInfo": info(MQTT_QoS="2", MQTT_Version="mqtt3.1.1")}
    sub_id = subscribe(fast, sub_body(sub.url(), notification={"endpoint": endpoint}))
    create(fast, air(1, 80))
    (msg,) = sub.wait_for(1)
    assert msg["metadata"] == {"Content-Type": "application/ld+json"}
    assert "@context" in msg["body"] and msg["body"]["subscriptionId"] == sub_id
    assert msg["body"]["data"][0]["pm25"] == {"type": "Property", "value": 80}
    until(fast, sub_id, lambda d: "lastSuccess" in d["notification"])


@pytest.mark.parametrize(
    ("uri", "notifier_info", "words"),
    [
        ("mqtt://127.0.0.1:1883/city/#", None, "wildcard"),
        ("mqtt://127.0.0.1/city/+/air", None, "wildcard"),
        ("mqtt://127.0.0.1:1883/", None, "no MQTT topic"),
        ("mqtt://127.0.0.1:1883", None, "no MQTT topic"),
        ("mqtt://:1883/t", None, "host"),
        ("mqtt://127.0.0.1:port/t", None, "port"),
        ("mqtt://127.0.0.1/t", info(MQTT_QoS="3"), "MQTT-QoS"),
        ("mqtt://127.0.0.1/t", info(MQTT_Version="mqtt3.1"), "MQTT-Version"),
        ("mqtt://127.0.0.1/t", [{"key": "MQTT-QoS"}], "notifierInfo[0]"),
    ],
)
def test_invalid_mqtt_endpoints(api: Api, uri: str, notifier_info: Any, words: str) -> None:
    endpoint = {} if notifier_info is None else {"notifierInfo": notifier_info}
    r = api.post(BASE, json=sub_body(uri, notification={"endpoint": endpoint}))
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["type"].endswith("/BadRequestData") and words in problem["detail"], problem


def test_unreachable_broker_fails_while_others_are_served(
    fast: Api,
    subscribers: Callable[[], Subscriber],
    receivers: Callable[..., Receiver],
) -> None:
    running(fast, Notifier).config.timeout = 2.0
    sub, rx = subscribers(), receivers()
    dead = subscribe(fast, sub_body(f"mqtt://user:secret@127.0.0.1:{free_port()}/t/{uuid.uuid4().hex}"))
    live = subscribe(fast, sub_body(sub.url(), notification={"endpoint": {"notifierInfo": info(MQTT_QoS="1")}}))
    subscribe(fast, sub_body(rx.url))
    create(fast, air(1, 10))
    doc = until(fast, dead, lambda d: "lastFailure" in d["notification"])
    assert "lastSuccess" not in doc["notification"]
    create(fast, air(2, 10))
    doc = until(fast, dead, lambda d: d["status"] == "failed")  # fail_after = 2 in the fast config
    assert doc["notification"]["timesSent"] == 2 and doc["notification"]["status"] == "failed"
    assert [m["body"]["data"][0]["id"] for m in sub.wait_for(2)] == [
        "urn:ngsi-ld:AirQualityObserved:1",
        "urn:ngsi-ld:AirQualityObserved:2",
    ]
    rx.wait_for(2)
    assert "lastSuccess" in until(fast, live, lambda d: d["notification"].get("timesSent") == 2)["notification"]
