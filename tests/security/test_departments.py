"""The department table of the authorisation matrix: every route that names one department's thing (a
device group, a device, its commands, a dead letter, a case, an entity the department owns) refuses
another department's token (403, or 404 as if absent) and lets the owning department through; every list
leaves the other department's things out. Each row is one route; the owner is called after the stranger,
so that a write the stranger was refused is seen to have changed nothing the owner relies on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import Api

from cityos.auth.service import create_token
from cityos.core.timefmt import now_iso
from cityos.iot import store as iot_store
from cityos.iot.models import Command

LD = {"Content-Type": "application/ld+json"}
CTX = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
OTHER = "matrix-other-department"


@pytest.fixture
def api(sqlite_api: Api) -> Api:
    return sqlite_api


@dataclass
class Things:
    """What the owning department has, by placeholder name, and the two departments' tokens."""

    names: dict[str, str]
    owner: str
    stranger: str


def _created(r: Any) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json() if r.content else None


def _entity(entity_id: str) -> dict[str, Any]:
    return {"id": entity_id, "type": "Streetlight", "powerState": {"type": "Property", "value": "on"}, "@context": CTX}


@pytest.fixture
def things(api: Api) -> Things:
    # a case routed to a department names the department the rest of its things belong to
    report = {"text": "路灯不亮了", "category": "streetlight-out", "lon": 121.47, "lat": 31.23}
    case = _created(api.post("/cases", json=report))["case"]
    department = case["department"]
    assert department and department != OTHER
    owner = create_token(api.rt.db, department, role="department", kind="department")
    stranger = create_token(api.rt.db, OTHER, role="department", kind="department")
    apikey = f"matrix-{uuid.uuid4().hex[:8]}"
    _created(api.post("/iot/groups", json={"apikey": apikey, "name": "路灯", "department": department}))
    device = {
        "device_id": "MX-LIGHT-1",
        "apikey": apikey,
        "device_type": "streetlight",
        "entity_type": "Streetlight",
        "measures": {"p": {"attr": "powerState"}},
        "timeout_s": 60,
        "location": {"lon": 121.47, "lat": 31.23},
    }
    _created(api.post("/iot/devices", json=device))
    letter = api.post(f"/iot/json?k={apikey}&i=MX-LIGHT-1", content=b"[not json").json()["deadLetterId"]
    command = str(uuid.uuid4())
    pending = Command(command, "MX-LIGHT-1", "reset", None, "pending", now_iso(), department, expires_at=now_iso())
    api.rt.db.run_write(lambda conn: iot_store.insert_command(conn, pending))
    entities = ["urn:ngsi-ld:Streetlight:matrix-1", "urn:ngsi-ld:Streetlight:matrix-2"]
    for entity_id in entities:
        _created(api.post("/ngsi-ld/v1/entities", json=_entity(entity_id), headers=LD, token=owner))
    names = {
        "case": case["id"],
        "apikey": apikey,
        "device": "MX-LIGHT-1",
        "letter": letter,
        "command": command,
        "entity": entities[0],
        "entity2": entities[1],
    }
    return Things(names, owner, stranger)


PATCH_POWER = {"powerState": {"type": "Property", "value": "off"}, "@context": CTX}
# (method, path, JSON body): every route that acts on one department's thing, destructive ones last
ROWS: list[tuple[str, str, Any]] = [
    ("GET", "/iot/devices/{device}", None),
    ("PATCH", "/iot/devices/{device}", {"grid": "urn:ngsi-ld:Grid:MX-1"}),
    ("GET", "/iot/devices/{device}/commands", None),
    ("POST", "/iot/devices/{device}/commands", {"command": "reset"}),
    ("GET", "/iot/commands/{command}", None),
    ("GET", "/iot/deadletters/{letter}", None),
    ("POST", "/iot/deadletters/{letter}/replay", {}),
    ("GET", "/cases/{case}", None),
    ("POST", "/cases/{case}/actions/accept", {}),
    ("PATCH", "/ngsi-ld/v1/entities/{entity}/attrs", PATCH_POWER),
    ("POST", "/ngsi-ld/v1/entities/{entity}/attrs", PATCH_POWER),
    ("PATCH", "/ngsi-ld/v1/entities/{entity}/attrs/powerState", {"type": "Property", "value": "off", "@context": CTX}),
    ("PUT", "/ngsi-ld/v1/entities/{entity}", _entity("urn:ngsi-ld:Streetlight:matrix-1")),
    ("POST", "/ngsi-ld/v1/temporal/entities/{entity}/attrs", PATCH_POWER),
    ("DELETE", "/ngsi-ld/v1/entities/{entity}/attrs/powerState", None),
    ("DELETE", "/ngsi-ld/v1/entities/{entity}", None),
    ("DELETE", "/ngsi-ld/v1/temporal/entities/{entity2}", None),
    ("DELETE", "/iot/devices/{device}", None),
    ("DELETE", "/iot/groups/{apikey}", None),
]


def test_another_department_is_refused_every_route_that_names_a_departments_thing(api: Api, things: Things) -> None:
    wrong = []
    for method, template, body in ROWS:
        path = template.format(**things.names)
        headers = LD if path.startswith("/ngsi-ld/") else None
        stranger = api.request(method, path, token=things.stranger, json=body, headers=headers).status_code
        owner = api.request(method, path, token=things.owner, json=body, headers=headers).status_code
        if stranger not in (403, 404):
            wrong.append(f"{method} {template} as another department: {stranger}")
        if owner in (401, 403, 404) or owner >= 500:
            wrong.append(f"{method} {template} as its own department: {owner}")
    assert wrong == []


def test_another_departments_things_are_left_out_of_every_list(api: Api, things: Things) -> None:
    lists = ["/iot/groups", "/iot/devices", "/iot/deadletters", "/iot/health", "/cases", "/cases/queue"]
    for path in lists:
        mine = api.get(path, token=things.owner)
        theirs = api.get(path, token=things.stranger)
        assert mine.status_code == 200 and theirs.status_code == 200, (path, mine.text, theirs.text)
        for name in ("apikey", "device", "letter", "case"):
            if things.names[name] in mine.text:
                assert things.names[name] not in theirs.text, (path, name)
    # a list filtered to the owner's department is refused to the other department, not answered empty
    for path in ("/cases", "/cases/queue"):
        department = api.get("/auth/me", token=things.owner).json().get("department")
        r = api.get(path, params={"department": department}, token=things.stranger)
        assert r.status_code == 403, (path, r.text)
    # and the owner's lists did show its things: the checks above compared something
    assert things.names["device"] in api.get("/iot/devices", token=things.owner).text
    assert things.names["case"] in api.get("/cases/queue", token=things.owner).text


def test_batch_operations_leave_another_departments_entities_alone(api: Api, things: Things) -> None:
    entity_id = things.names["entity"]
    off = {**_entity(entity_id), "powerState": {"type": "Property", "value": "off"}}
    batches = [
        ("delete", [entity_id]),
        ("upsert?options=replace", [off]),
        ("upsert?options=update", [off]),
        ("update", [off]),
        ("merge", [off]),
    ]
    for operation, body in batches:
        r = api.post(f"/ngsi-ld/v1/entityOperations/{operation}", json=body, headers=LD, token=things.stranger)
        assert r.status_code in (207, 403), (operation, r.text)
        if r.status_code == 207:
            assert r.json()["success"] == [] and [e["entityId"] for e in r.json()["errors"]] == [entity_id]
    kept = api.get(f"/ngsi-ld/v1/entities/{entity_id}", params={"options": "keyValues"}, token=things.owner)
    assert kept.status_code == 200 and kept.json()["powerState"] == "on"
    # the same batch from the owning department goes through
    r = api.post("/ngsi-ld/v1/entityOperations/update", json=[off], headers=LD, token=things.owner)
    assert r.status_code == 204, r.text


def test_a_department_may_not_take_over_the_citys_entity_by_provisioning_a_device(api: Api, things: Things) -> None:
    gauge = "urn:ngsi-ld:FloodMonitoring:city-gauge"
    level = {"type": "Property", "value": 1.2}
    city = {"id": gauge, "type": "FloodMonitoring", "currentLevel": level, "@context": CTX}
    _created(api.post("/ngsi-ld/v1/entities", json=city, headers=LD))  # an operator's: the city keeps it
    device = {
        "device_id": "MX-GAUGE-1",
        "apikey": things.names["apikey"],
        "device_type": "flood-sensor",
        "entity_type": "FloodMonitoring",
        "entity_id": gauge,
        "measures": {"lvl": {"attr": "currentLevel"}},
    }
    r = api.post("/iot/devices", json=device, token=things.owner)
    assert r.status_code == 403 and "kept by the city" in r.json()["detail"], r.text
    patch = {"currentLevel": {"type": "Property", "value": 9.9}, "@context": CTX}
    r = api.request("PATCH", f"/ngsi-ld/v1/entities/{gauge}/attrs", json=patch, headers=LD, token=things.owner)
    assert r.status_code == 403, r.text
    assert api.get("/iot/devices/MX-GAUGE-1").status_code == 404  # nothing of the refused provisioning stayed
    # an operator may provision it, and so hands the gauge to the device's department
    assert api.post("/iot/devices", json=device).status_code == 201
    r = api.request("PATCH", f"/ngsi-ld/v1/entities/{gauge}/attrs", json=patch, headers=LD, token=things.owner)
    assert r.status_code == 204, r.text


def test_a_report_linked_to_another_departments_case_gets_its_public_view(api: Api, things: Things) -> None:
    first = {
        "text": "人民路口的路灯坏了，一直不亮",
        "category": "streetlight-out",
        "lon": 121.4801,
        "lat": 31.2301,
        "reporter": {"name": "王小明", "phone": "13800138000", "email": "wxm@example.org"},
    }
    opened = _created(api.post("/cases", json=first))
    assert opened["created"] is True and opened["case"]["reporter"]["phone"] == "13800138000"  # staff see it
    again = {**first, "reporter": {"name": "李四"}}
    r = api.post("/cases", json=again, token=things.stranger)
    assert r.status_code == 200 and r.json()["duplicateOf"] == opened["case"]["id"], r.text
    shown = r.text
    assert "13800138000" not in shown and "王小明" not in shown and "wxm@example.org" not in shown
    assert opened["followToken"] not in shown and "reporter" not in r.json()["case"]
