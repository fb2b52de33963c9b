"""A department sees only what its grants and jurisdiction allow: two departments, each with its own
device group and device, on SQLite and PostgreSQL. Another department's things answer 404 as if
absent; provisioning for another department is 403 with a problem document that says why."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from conftest import Api
from iot_district import AQ, AQ_ENTITY, AQ_SPEC, FLOOD, FLOOD_ENTITY, FLOOD_SPEC
from sqlalchemy import update

from cityos import context as hub
from cityos.auth.service import create_token, forget_tokens
from cityos.auth.tables import principals
from cityos.core.timefmt import now_iso
from cityos.iot import store
from cityos.iot.models import Command
from cityos.runtime import Runtime

ENV_KEY, WATER_KEY = "hp-env-key", "hp-water-key"
NGSI_LD_ERROR = "application/json"  # NGSI-LD answers its errors as JSON (ETSI GS CIM 009, 6.3.2)
PROBLEM_KEYS = {"type", "title", "status", "detail"}


@dataclass
class City:
    """Two departments (hp-env owns the air-quality station, hp-water the flood sensor), one dead
    letter for each group's key and one for an unknown key, and tokens to look at them with."""

    env: str
    water: str
    reader: str
    letters: dict[str, str]  # "env" | "water" | "unknown" -> dead letter id


def _bad(api: Api, key: str, device: str, fmt: str, payload: bytes) -> str:
    r = api.post(f"/iot/{fmt}?k={key}&i={device}", content=payload, token=None)
    assert r.status_code in (400, 401, 404), r.text
    return r.json()["deadLetterId"]


@pytest.fixture
def city(api: Api, rt: Runtime) -> City:
    for key, name, department in ((ENV_KEY, "环境监测", "hp-env"), (WATER_KEY, "防汛", "hp-water")):
        r = api.post("/iot/groups", json={"apikey": key, "name": name, "department": department})
        assert r.status_code == 201, r.text
    r = api.post("/iot/devices", json=[dict(AQ_SPEC, apikey=ENV_KEY), dict(FLOOD_SPEC, apikey=WATER_KEY)])
    assert r.status_code == 201, r.text
    assert {d["deviceId"]: d["department"] for d in r.json()} == {AQ: "hp-env", FLOOD: "hp-water"}
    letters = {
        "env": _bad(api, ENV_KEY, AQ, "json", b'{"pm25": 5000}'),
        "water": _bad(api, WATER_KEY, FLOOD, "ul", b"lvl|99"),
        "unknown": _bad(api, "nobody-knows-this-key", "X-1", "json", b'{"a": 1}'),
    }
    return City(
        env=create_token(rt.db, "hp-env", role="department", kind="department"),
        water=create_token(rt.db, "hp-water", role="department", kind="department"),
        reader=create_token(rt.db, "viewer", role="reader", kind="staff"),
        letters=letters,
    )


def _problem(r: httpx.Response, status: int, *, media: str = "application/problem+json") -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(media)
    body = r.json()
    assert body.keys() >= PROBLEM_KEYS and body["status"] == status and body["detail"]
    return body


def _ids(r: httpx.Response, key: str) -> list[str]:
    assert r.status_code == 200, r.text
    return sorted(x[key] for x in r.json())


def _total(health: httpx.Response) -> int:
    assert health.status_code == 200, health.text
    return sum(health.json()["total"].values())


def test_a_department_lists_only_its_groups_devices_and_health(api: Api, city: City) -> None:
    assert _ids(api.get("/iot/groups", token=city.env), "apikey") == [ENV_KEY]
    assert _ids(api.get("/iot/groups", token=city.water), "apikey") == [WATER_KEY]
    r = api.get("/iot/devices", token=city.env)
    assert _ids(r, "deviceId") == [AQ] and r.headers["X-Total-Count"] == "1"
    r = api.get("/iot/devices", token=city.water)
    assert _ids(r, "deviceId") == [FLOOD] and r.headers["X-Total-Count"] == "1"
    # a filter naming the other department's group finds nothing rather than its devices
    r = api.get("/iot/devices", params={"apikey": WATER_KEY}, token=city.env)
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"
    env_health = api.get("/iot/health", token=city.env)
    assert _total(env_health) == 1 and list(env_health.json()["byType"]) == ["air-quality-station"]
    assert list(api.get("/iot/health", token=city.water).json()["byType"]) == ["flood-sensor"]
    # operators' and admins' view is unchanged, and readers read everything
    for token in ("", city.reader):
        assert _ids(api.get("/iot/groups", token=token), "apikey") == [ENV_KEY, WATER_KEY]
        assert _ids(api.get("/iot/devices", token=token), "deviceId") == [AQ, FLOOD]
        assert _total(api.get("/iot/health", token=token)) == 2
    assert api.patch(f"/iot/devices/{AQ}", json={"grid": "g"}, token=city.reader).status_code == 403


def test_another_departments_device_answers_404_as_if_absent(api: Api, rt: Runtime, city: City) -> None:
    absent = _problem(api.get("/iot/devices/NO-SUCH-DEVICE", token=city.env), 404)
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/iot/devices/{FLOOD}", {}),
        ("PATCH", f"/iot/devices/{FLOOD}", {"json": {"grid": "urn:ngsi-ld:Grid:HP-WT-09"}}),
        ("DELETE", f"/iot/devices/{FLOOD}", {}),
        ("POST", f"/iot/devices/{FLOOD}/commands", {"json": {"command": "reset"}}),
        ("GET", f"/iot/devices/{FLOOD}/commands", {}),
    ]
    for method, url, kw in calls:
        body = _problem(api.request(method, url, token=city.env, **kw), 404)
        assert (body["type"], body["title"]) == (absent["type"], absent["title"]), (method, url)
        assert body["detail"] == f"there is no device {FLOOD!r}"  # the same words as for a device never seen
    # none of it touched the flood sensor: its department still has it as it was
    mine = api.get(f"/iot/devices/{FLOOD}", token=city.water)
    assert mine.status_code == 200 and mine.json()["grid"] == FLOOD_SPEC["grid"]
    assert _ids(api.get(f"/iot/devices/{FLOOD}/commands", token=city.water), "id") == []
    # a command to the flood sensor is invisible to the other department too
    command_id = str(uuid.uuid4())
    command = Command(command_id, FLOOD, "reset", None, "pending", now_iso(), "hp-water", expires_at=now_iso())
    rt.db.run_write(lambda conn: store.insert_command(conn, command))
    assert api.get(f"/iot/commands/{command_id}", token=city.water).json()["deviceId"] == FLOOD
    _problem(api.get(f"/iot/commands/{command_id}", token=city.env), 404)
    # its own device it may change and remove
    r = api.patch(f"/iot/devices/{AQ}", json={"grid": "urn:ngsi-ld:Grid:HP-WT-07"}, token=city.env)
    assert r.status_code == 200 and r.json()["grid"] == "urn:ngsi-ld:Grid:HP-WT-07"
    assert api.delete(f"/iot/devices/{AQ}", token=city.env).status_code == 204
    assert _ids(api.get("/iot/devices"), "deviceId") == [FLOOD]


def test_provisioning_for_another_department_is_403_saying_why(api: Api, city: City) -> None:
    other_group = dict(AQ_SPEC, device_id="HP-AQ-0002", apikey=WATER_KEY)
    body = _problem(api.post("/iot/devices", json=other_group, token=city.env), 403)
    assert body["type"].endswith("/other-department")
    assert WATER_KEY in body["detail"] and "'hp-water'" in body["detail"] and "'hp-env'" in body["detail"]
    other_department = dict(AQ_SPEC, device_id="HP-AQ-0002", apikey=ENV_KEY, department="hp-water")
    body = _problem(api.post("/iot/devices", json=other_department, token=city.env), 403)
    assert body["type"].endswith("/other-department") and "HP-AQ-0002" in body["detail"]
    # taking over the other department's device id by provisioning it into one's own group
    body = _problem(api.post("/iot/devices", json=dict(FLOOD_SPEC, apikey=ENV_KEY), token=city.env), 403)
    assert FLOOD in body["detail"] and "choose another id" in body["detail"]
    # nor may a device be handed to another department, or a group created for one
    body = _problem(api.patch(f"/iot/devices/{AQ}", json={"department": "hp-water"}, token=city.env), 403)
    assert body["type"].endswith("/other-department")
    body = _problem(
        api.post("/iot/groups", json={"name": "x", "department": "hp-water", "apikey": "sneaky"}, token=city.env),
        403,
    )
    assert body["type"].endswith("/other-department") and "'hp-water'" in body["detail"]
    # nothing of the refused calls was written
    devices = {d["deviceId"]: (d["apikey"], d["department"]) for d in api.get("/iot/devices").json()}
    assert devices == {AQ: (ENV_KEY, "hp-env"), FLOOD: (WATER_KEY, "hp-water")}
    assert _ids(api.get("/iot/groups"), "apikey") == [ENV_KEY, WATER_KEY]
    # what is its own it may do: a group, and a device in it (the department defaults to the group's)
    r = api.post(
        "/iot/groups", json={"name": "noise", "department": "hp-env", "apikey": "hp-env-noise"}, token=city.env
    )
    assert r.status_code == 201, r.text
    r = api.post("/iot/devices", json=dict(AQ_SPEC, device_id="HP-AQ-0002", apikey="hp-env-noise"), token=city.env)
    assert r.status_code == 201 and r.json()[0]["department"] == "hp-env"
    assert _ids(api.get("/iot/devices", token=city.env), "deviceId") == [AQ, "HP-AQ-0002"]
    # another department's group cannot be deleted either: to it, that group does not exist
    _problem(api.delete(f"/iot/groups/{WATER_KEY}", token=city.env), 404)
    assert api.delete("/iot/groups/hp-env-noise", token=city.water).status_code == 404


def test_a_department_sees_the_dead_letters_of_its_own_keys(api: Api, city: City) -> None:
    assert _ids(api.get("/iot/deadletters", token=city.env), "id") == [city.letters["env"]]
    assert _ids(api.get("/iot/deadletters", token=city.water), "id") == [city.letters["water"]]
    r = api.get("/iot/deadletters", token=city.env)
    assert r.headers["X-Total-Count"] == "1" and r.json()[0]["reasonCode"] == "out-of-range"
    # an unknown key's letters are for operators and admins only
    assert _ids(api.get("/iot/deadletters"), "id") == sorted(city.letters.values())
    for who in (city.env, city.water):
        _problem(api.get(f"/iot/deadletters/{city.letters['unknown']}", token=who), 404)
    assert api.get(f"/iot/deadletters/{city.letters['unknown']}").json()["apikey"] == "nobody-knows-this-key"
    # show and replay of another department's letter: not found, and it stays unreplayed
    water_letter = city.letters["water"]
    absent = _problem(api.get("/iot/deadletters/no-such-letter", token=city.env), 404)
    for method, url in (
        ("GET", f"/iot/deadletters/{water_letter}"),
        ("POST", f"/iot/deadletters/{water_letter}/replay"),
    ):
        body = _problem(api.request(method, url, token=city.env), 404)
        assert body["type"] == absent["type"] and water_letter in body["detail"]
    assert api.get(f"/iot/deadletters/{water_letter}").json()["replayedAt"] is None
    # its own letter it reads with its payload, and replays once the range is fixed
    own = api.get(f"/iot/deadletters/{city.letters['env']}", token=city.env).json()
    assert own["payload"] == '{"pm25": 5000}' and own["deviceId"] == AQ
    measures = dict(AQ_SPEC["measures"], pm25={"attr": "pm25", "unitCode": "GQ", "min": 0, "max": 10000})
    assert api.patch(f"/iot/devices/{AQ}", json={"measures": measures}, token=city.env).status_code == 200
    r = api.post(f"/iot/deadletters/{city.letters['env']}/replay", token=city.env)
    assert r.status_code == 200 and r.json() == {"accepted": True, "measures": 1}
    assert api.get("/iot/deadletters", token=city.env).json() == []


def test_a_token_limited_to_a_tenant_sees_that_tenant_only(api: Api, rt: Runtime, city: City) -> None:
    r = api.post("/iot/groups", json={"apikey": "pd-key", "name": "浦东", "department": "hp-env", "tenant": "pudong"})
    assert r.status_code == 201, r.text
    pd_device = dict(AQ_SPEC, device_id="PD-AQ-0001", apikey="pd-key")
    assert api.post("/iot/devices", json=pd_device).status_code == 201
    pd_letter = _bad(api, "pd-key", "PD-AQ-0001", "json", b'{"pm25": -5}')
    # an operator of the default tenant: every department there, nothing of pudong, no unknown keys
    local = create_token(rt.db, "ops-default", role="operator", kind="staff", tenant="default")
    assert _ids(api.get("/iot/groups", token=local), "apikey") == [ENV_KEY, WATER_KEY]
    assert _ids(api.get("/iot/devices", token=local), "deviceId") == [AQ, FLOOD]
    assert _total(api.get("/iot/health", token=local)) == 2
    assert _ids(api.get("/iot/deadletters", token=local), "id") == sorted([city.letters["env"], city.letters["water"]])
    _problem(api.get("/iot/devices/PD-AQ-0001", token=local), 404)
    _problem(api.get(f"/iot/deadletters/{pd_letter}", token=local), 404)
    _problem(api.post("/iot/groups", json={"name": "x", "department": "d", "tenant": "pudong"}, token=local), 403)
    # its groups go to its own tenant when none is named
    r = api.post("/iot/groups", json={"name": "local", "department": "hp-env"}, token=local)
    assert r.status_code == 201 and r.json()["tenant"] == "default"
    # the department hp-env limited to pudong sees its pudong things only
    pd_env = create_token(rt.db, "pd-env", role="department", kind="department", tenant="pudong")
    # a department token whose principal carries its department in its attributes acts for that one
    with rt.db.write() as conn:
        conn.execute(
            update(principals).where(principals.c.name == "pd-env").values(attributes={"department": "hp-env"})
        )
    forget_tokens(rt.db)
    assert _ids(api.get("/iot/groups", token=pd_env), "apikey") == ["pd-key"]
    assert _ids(api.get("/iot/devices", token=pd_env), "deviceId") == ["PD-AQ-0001"]
    assert _ids(api.get("/iot/deadletters", token=pd_env), "id") == [pd_letter]
    _problem(api.get(f"/iot/devices/{AQ}", token=pd_env), 404)  # hp-env's, but in the default tenant
    _problem(api.post("/iot/devices", json=dict(AQ_SPEC, device_id="PD-AQ-0002", apikey=ENV_KEY), token=pd_env), 404)
    # the admin still sees both tenants
    assert _ids(api.get("/iot/devices"), "deviceId") == [AQ, FLOOD, "PD-AQ-0001"]


def test_a_department_writes_no_entity_another_departments_devices_feed(api: Api, rt: Runtime, city: City) -> None:
    """Finding 9: the environment department patched water affairs' flood gauge through NGSI-LD."""
    flood = f"/ngsi-ld/v1/entities/{FLOOD_ENTITY}"
    fake = {"currentLevel": {"type": "Property", "value": 9.5, "observedAt": now_iso()}}
    body = _problem(api.patch(flood, json=fake, token=city.env), 403, media=NGSI_LD_ERROR)
    assert body["type"] == "https://cityos.dev/problems/not-your-entity" and "'hp-water'" in body["detail"]
    for method, url, kw in [
        ("PUT", flood, {"json": {"type": "FloodMonitoring", **fake}}),
        ("POST", f"{flood}/attrs", {"json": fake}),
        ("PATCH", f"{flood}/attrs", {"json": fake}),
        ("PATCH", f"{flood}/attrs/currentLevel", {"json": {"value": 9.5}}),
        ("DELETE", f"{flood}/attrs/currentLevel", {}),
        ("DELETE", flood, {}),
        ("POST", f"/ngsi-ld/v1/temporal/entities/{FLOOD_ENTITY}/attrs", {"json": fake}),
        ("DELETE", f"/ngsi-ld/v1/temporal/entities/{FLOOD_ENTITY}", {}),
    ]:
        _problem(api.request(method, url, token=city.env, **kw), 403, media=NGSI_LD_ERROR)
    # its own department's token changes it, and reading stays open to the other one
    assert api.patch(flood, json=fake, token=city.water).status_code == 204, flood
    got = api.get(flood, params={"options": "keyValues"}, token=city.env)
    assert got.status_code == 200 and got.json()["currentLevel"] == 9.5
    # nor may it point a device of its own at the gauge, to feed it readings
    spec = dict(FLOOD_SPEC, device_id="HP-FM-FAKE", apikey=ENV_KEY, entity_id=FLOOD_ENTITY)
    body = _problem(api.post("/iot/devices", json=[spec], token=city.env), 403)
    assert "'hp-water'" in body["detail"]
    assert api.get("/iot/devices/HP-FM-FAKE").status_code == 404


def test_the_entities_a_device_feeds_are_its_departments(api: Api, rt: Runtime, city: City) -> None:
    # the device's entities were made when it was provisioned: they are its department's
    kept = hub.keepers(rt, rt.settings.default_tenant, [AQ_ENTITY, FLOOD_ENTITY, f"urn:ngsi-ld:Device:{FLOOD}"])
    assert kept == {AQ_ENTITY: "hp-env", FLOOD_ENTITY: "hp-water", f"urn:ngsi-ld:Device:{FLOOD}": "hp-water"}
    # an entity the city made before is adopted by the department whose device comes to feed it, when an
    # operator provisions the device (the department's own token may not take the city's entity)
    city_entity = "urn:ngsi-ld:FloodMonitoring:HP-FM-0002"
    r = api.post("/ngsi-ld/v1/entities", json={"id": city_entity, "type": "FloodMonitoring"})
    assert r.status_code == 201, r.text
    assert api.patch(f"/ngsi-ld/v1/entities/{city_entity}/attrs", json={"x": 1}, token=city.water).status_code == 403
    spec = dict(FLOOD_SPEC, device_id="HP-FM-0002", apikey=WATER_KEY, entity_id=city_entity)
    assert api.post("/iot/devices", json=[spec], token=city.water).status_code == 403
    assert api.post("/iot/devices", json=[spec]).status_code == 201
    assert hub.keepers(rt, rt.settings.default_tenant, [city_entity]) == {city_entity: "hp-water"}
    assert api.post(f"/ngsi-ld/v1/entities/{city_entity}/attrs", json={"x": 1}, token=city.water).status_code == 204
