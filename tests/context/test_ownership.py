"""Entity ownership: a department's token changes and deletes only the entities its department owns.

Finding 2 of the hardening review: a department deleted any entity through the batch delete. Every
path that changes, replaces or deletes (single-entity routes, batch operations, upserts that replace,
temporal writes) is refused for another department's entity and for the city's, on SQLite and
PostgreSQL; operators change any.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import Api

from cityos import context as hub
from cityos.auth.service import create_token
from cityos.runtime import Runtime

NOT_YOURS = "https://cityos.dev/problems/not-your-entity"
ENTITIES = "/ngsi-ld/v1/entities"
BATCH = "/ngsi-ld/v1/entityOperations"


def station(n: int, pm25: float = 35.0) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:AirQualityObserved:ST-{n}",
        "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": pm25, "observedAt": "2026-12-01T08:00:00Z"},
    }


@pytest.fixture
def tokens(rt: Runtime) -> dict[str, str]:
    return {
        "env": create_token(rt.db, "hp-env", role="department", kind="department"),
        "water": create_token(rt.db, "hp-water", role="department", kind="department"),
        "operator": create_token(rt.db, "duty-officer", role="operator", kind="staff"),
    }


def _pm25(api: Api, n: int) -> float:
    r = api.get(f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:ST-{n}", params={"options": "keyValues"})
    assert r.status_code == 200, r.text
    return float(r.json()["pm25"])


def _refused(r: httpx.Response) -> None:
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["type"] == NOT_YOURS and body["status"] == 403 and "hp-env" in body["detail"], body


def _batch_refused(r: httpx.Response, ids: list[str]) -> None:
    assert r.status_code == 207, r.text
    body = r.json()
    assert body["success"] == []
    assert [(e["entityId"], e["error"]["type"]) for e in body["errors"]] == [(i, NOT_YOURS) for i in ids]


def test_a_department_changes_and_deletes_only_its_own_entities(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    env, water = tokens["env"], tokens["water"]
    assert api.post(ENTITIES, json=station(1), token=env).status_code == 201
    assert api.post(f"{BATCH}/create", json=[station(2)], token=env).status_code == 201
    ids = ["urn:ngsi-ld:AirQualityObserved:ST-1", "urn:ngsi-ld:AirQualityObserved:ST-2"]
    assert hub.keepers(rt, rt.settings.default_tenant, ids) == dict.fromkeys(ids, "hp-env")

    # another department: every path that changes, replaces or deletes is refused, and nothing changes
    one = f"{ENTITIES}/{ids[0]}"
    fragment = {"pm25": {"type": "Property", "value": 999}}
    for method, url, kw in [
        ("PUT", one, {"json": {"type": "AirQualityObserved", **fragment}}),
        ("PATCH", one, {"json": fragment}),
        ("POST", f"{one}/attrs", {"json": fragment}),
        ("PATCH", f"{one}/attrs", {"json": fragment}),
        ("PATCH", f"{one}/attrs/pm25", {"json": {"value": 999}}),
        ("DELETE", f"{one}/attrs/pm25", {}),
        ("DELETE", one, {}),
    ]:
        _refused(api.request(method, url, token=water, **kw))
    for op, params in [("upsert", {"options": "replace"}), ("upsert", {}), ("update", {}), ("merge", {})]:
        _batch_refused(api.post(f"{BATCH}/{op}", params=params, json=[station(1, 999)], token=water), ids[:1])
    _batch_refused(api.post(f"{BATCH}/delete", json=ids, token=water), ids)
    assert _pm25(api, 1) == 35.0 and _pm25(api, 2) == 35.0

    # its own department changes and deletes them; a replacement keeps the owner
    assert api.put(one, json={"type": "AirQualityObserved", **fragment}, token=env).status_code == 204
    assert _pm25(api, 1) == 999
    assert hub.keepers(rt, rt.settings.default_tenant, ids[:1]) == {ids[0]: "hp-env"}
    assert api.delete(one, token=env).status_code == 204
    assert api.post(f"{BATCH}/delete", json=ids[1:], token=env).status_code == 204
    assert hub.keepers(rt, rt.settings.default_tenant, ids) == {}


def test_the_citys_entities_are_changed_by_operators_only(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    assert api.post(ENTITIES, json=station(3), token=tokens["operator"]).status_code == 201
    assert hub.keepers(rt, rt.settings.default_tenant, [station(3)["id"]]) == {station(3)["id"]: None}
    r = api.patch(f"{ENTITIES}/{station(3)['id']}/attrs/pm25", json={"value": 1}, token=tokens["env"])
    assert r.status_code == 403 and "the city" in r.json()["detail"], r.text
    # and an operator changes a department's entity too: its owner stays
    assert api.post(ENTITIES, json=station(4), token=tokens["env"]).status_code == 201
    r = api.patch(f"{ENTITIES}/{station(4)['id']}/attrs/pm25", json={"value": 1}, token=tokens["operator"])
    assert r.status_code == 204, r.text
    assert hub.keepers(rt, rt.settings.default_tenant, [station(4)["id"]]) == {station(4)["id"]: "hp-env"}


def test_a_department_changes_only_its_own_entities_history(api: Api, tokens: dict[str, str]) -> None:
    env, water = tokens["env"], tokens["water"]
    entity_id = station(5)["id"]
    assert api.post("/ngsi-ld/v1/temporal/entities", json=station(5), token=env).status_code == 201
    temporal = f"/ngsi-ld/v1/temporal/entities/{entity_id}"
    got = api.get(temporal, token=water)
    assert got.status_code == 200, got.text
    instance_id = got.json()["pm25"][0]["instanceId"]
    for method, url, kw in [
        (
            "POST",
            f"{temporal}/attrs",
            {"json": {"pm25": [{"type": "Property", "value": 1, "observedAt": "2026-12-01T09:00:00Z"}]}},
        ),
        ("PATCH", f"{temporal}/attrs/pm25/{instance_id}", {"json": {"value": 1}}),
        ("DELETE", f"{temporal}/attrs/pm25/{instance_id}", {}),
        ("DELETE", f"{temporal}/attrs/pm25", {"params": {"deleteAll": "true"}}),
        ("DELETE", temporal, {}),
    ]:
        _refused(api.request(method, url, token=water, **kw))
    assert api.patch(f"{temporal}/attrs/pm25/{instance_id}", json={"value": 2}, token=env).status_code == 204
    # once the entity is gone its history is the city's: the department no longer changes it
    assert api.delete(f"{ENTITIES}/{entity_id}", token=env).status_code == 204
    r = api.delete(temporal, token=env)
    assert r.status_code == 403 and r.json()["type"] == NOT_YOURS, r.text
    assert api.delete(temporal, token=tokens["operator"]).status_code == 204
