"""The iot HTTP surface: provisioning, HTTP telemetry (single, UltraLight, gateway bulk), dead
letters, health and /metrics, with problem documents for bad input."""

from __future__ import annotations

import pytest
from brokers import free_port
from conftest import Api
from iot_district import APIKEY, AQ, AQ_ENTITY, AQ_SPEC, FLOOD_SPEC

from cityos.auth.service import create_token


def provision(api: Api) -> None:
    r = api.post("/iot/groups", json={"apikey": APIKEY, "name": "环境监测", "department": "hp-env"})
    assert r.status_code == 201, r.text
    r = api.post("/iot/devices", json=[AQ_SPEC, FLOOD_SPEC])
    assert r.status_code == 201, r.text
    assert [d["entityId"] for d in r.json()] == [AQ_ENTITY, "urn:ngsi-ld:FloodMonitoring:HP-FM-0001"]


def test_http_telemetry_single_ultralight_and_bulk(api: Api) -> None:
    provision(api)
    r = api.post(f"/iot/json?k={APIKEY}&i={AQ}", content=b'{"pm25": 35, "t": 14.5}', token=None)
    assert r.status_code == 200 and r.json() == {"accepted": True, "measures": 2}
    r = api.post(f"/iot/ul?k={APIKEY}&i=HP-FM-0001", content=b"lvl|2.5|bat|0.9", token=None)
    assert r.status_code == 200 and r.json()["measures"] == 2
    r = api.post(
        f"/iot/bulk?k={APIKEY}",
        json={AQ: [{"pm25": 36}, {"h": 0.7}], "HP-FM-0001": {"lvl": 2.6}, "HP-XX-0404": {"lvl": 1}},
        token=None,
    )
    assert r.status_code == 200
    body = r.json()
    # the flood sensor is provisioned as an UltraLight device: JSON from it is refused
    assert body["accepted"] == 1 and [x["deviceId"] for x in body["rejected"]] == ["HP-FM-0001", "HP-XX-0404"]
    assert [x["reasonCode"] for x in body["rejected"]] == ["unparseable", "unknown-device"]
    entity = api.get(f"/ngsi-ld/v1/entities/{AQ_ENTITY}", params={"options": "keyValues"}).json()
    assert entity["pm25"] == 36 and entity["temperature"] == 14.5 and entity["relativeHumidity"] == 0.7


def test_bad_telemetry_is_a_problem_document_naming_the_dead_letter(api: Api) -> None:
    provision(api)
    cases = [
        (f"/iot/json?k={APIKEY}&i={AQ}", b'{"pm25": 5000}', 400, "out-of-range"),
        (f"/iot/json?k={APIKEY}&i={AQ}", b"not json", 400, "unparseable"),
        (f"/iot/json?k=wrong&i={AQ}", b'{"pm25": 5}', 401, "wrong-apikey"),
        (f"/iot/ul?k={APIKEY}&i=nobody", b"t|1", 404, "unknown-device"),
    ]
    for url, payload, status, code in cases:
        r = api.post(url, content=payload, token=None)
        assert r.status_code == status, (url, r.text)
        problem = r.json()
        assert problem["reasonCode"] == code and problem["detail"] and problem["deadLetterId"]
        letter = api.get(f"/iot/deadletters/{problem['deadLetterId']}").json()
        assert letter["reasonCode"] == code and letter["payload"] == payload.decode()
    listed = api.get("/iot/deadletters")
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "4"
    assert api.post(f"/iot/json?k={APIKEY}", content=b"{}", token=None).status_code == 400  # no device id


def test_provisioning_errors_are_clear(api: Api) -> None:
    r = api.post("/iot/devices", json=AQ_SPEC)
    assert r.status_code == 404 and "create the group first" in r.json()["detail"]
    provision(api)
    bad = dict(AQ_SPEC, device_id="has/slash")
    assert api.post("/iot/devices", json=bad).status_code == 400
    bad = dict(AQ_SPEC, measures={"x": {"attr": "pm25", "min": 5, "max": 1}})
    r = api.post("/iot/devices", json=bad)
    assert r.status_code == 400 and "min" in r.json()["detail"]
    assert api.delete(f"/iot/groups/{APIKEY}").status_code == 409  # still has devices
    assert api.get("/iot/devices/nobody").status_code == 404


def test_devices_health_and_metrics_need_a_token_with_the_right_role(api: Api) -> None:
    provision(api)
    assert api.get("/iot/devices", token=None).status_code == 401
    reader = create_token(api.client.app.state.runtime.db, "viewer", role="reader", kind="staff")  # type: ignore[attr-defined]
    assert api.get("/iot/devices", token=reader).status_code == 200
    assert api.post("/iot/groups", json={"name": "x", "department": "y"}, token=reader).status_code == 403
    assert api.get("/metrics", token=reader).status_code == 403
    # the figures count every tenant: a token limited to one does not read them
    rt = api.client.app.state.runtime  # type: ignore[attr-defined]
    one_tenant = create_token(rt.db, "pudong-ops", role="operator", kind="staff", tenant="pudong")
    refused = api.get("/metrics", token=one_tenant)
    assert refused.status_code == 403 and "every tenant" in refused.json()["detail"], refused.text
    api.post(f"/iot/json?k={APIKEY}&i={AQ}", content=b'{"pm25": 35}', token=None)
    api.post(f"/iot/json?k={APIKEY}&i={AQ}", content=b'{"pm25": -1}', token=None)
    text = api.get("/metrics").text
    assert 'cityos_iot_messages_total{device_type="air-quality-station",outcome="accepted"}' in text
    assert 'cityos_iot_messages_total{device_type="air-quality-station",outcome="out-of-range"}' in text
    assert 'cityos_iot_dead_letters{device_type="air-quality-station",reason="out-of-range"} 1.0' in text
    listed = api.get("/iot/devices", params={"deviceType": "air-quality-station"}).json()
    assert [d["deviceId"] for d in listed] == [AQ]
    assert api.get("/iot/health").json()["total"]["neverSeen"] + api.get("/iot/health").json()["total"]["online"] == 2


def test_answers_leave_out_what_has_no_value_and_send_null_where_they_always_did(api: Api) -> None:
    """The members of an answer are the same whatever it holds: a measure without a unit code or range
    leaves them out, a device without a unit or position sends null for them."""
    provision(api)
    aq = api.get(f"/iot/devices/{AQ}").json()
    assert aq["measures"]["h"] == {"attr": "relativeHumidity", "kind": "number", "min": 0, "max": 1}
    assert aq["measures"]["pm25"] == {"attr": "pm25", "kind": "number", "unitCode": "GQ", "min": 0, "max": 1000}
    assert type(aq["measures"]["pm25"]["max"]) is float and type(aq["timeoutSeconds"]) is int
    assert aq["location"] == {"lon": 121.49, "lat": 31.24} and aq["unit"] is None
    assert aq["health"] == {"state": "never-seen", "lastSeen": None, "batteryLevel": None, "rssi": None}
    flood = api.patch("/iot/devices/HP-FM-0001", json={"grid": None}).json()
    assert flood["location"] is None and flood["grid"] is None and "health" not in flood

    # a payload that is not UTF-8 comes in hex, and only so; the list leaves the payload out
    r = api.post(f"/iot/json?k={APIKEY}&i={AQ}", content=b"\xff\xfe", token=None)
    letter = api.get(f"/iot/deadletters/{r.json()['deadLetterId']}").json()
    assert letter["payloadHex"] == "fffe" and "payload" not in letter and letter["topic"] is None
    listed = api.get("/iot/deadletters").json()
    assert set(listed[0]) == set(letter) - {"payloadHex"}
    again = api.post(f"/iot/deadletters/{letter['id']}/replay").json()
    assert set(again) == {"accepted", "reasonCode", "reason", "deadLetterId"} and again["accepted"] is False
    assert again["reasonCode"] == "unparseable" and again["deadLetterId"] != letter["id"]


def test_a_command_without_a_broker_to_send_it_is_a_clear_problem(api: Api) -> None:
    provision(api)
    r = api.post(f"/iot/devices/{AQ}/commands", json={"command": "fan", "value": "on"})
    assert r.status_code == 409 and "CITYOS_MQTT_URL" in r.json()["detail"]  # no broker configured


@pytest.mark.settings(mqtt_url=f"mqtt://127.0.0.1:{free_port()}")
def test_a_command_when_the_broker_is_down_is_503_and_nothing_is_stored(api: Api) -> None:
    provision(api)
    r = api.post(f"/iot/devices/{AQ}/commands", json={"command": "fan", "value": "on"})
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "10"
    assert "cannot be reached" in r.json()["detail"] and "not sent" in r.json()["detail"]
    assert api.get(f"/iot/devices/{AQ}/commands").json() == []
