"""Interoperability (issue 19, item 6): ``ckanapi``'s RemoteCKAN, given an approved application's key as its
``apikey``, reads the conditional dataset the key opens from a real cityos server, and is refused another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from ckanapi import NotAuthorized, RemoteCKAN

from cityos import datahub
from cityos.auth import create_token
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.runtime import Runtime
from cityos.store.engine import Database

pytestmark = pytest.mark.interop
TRAFFIC, FLOOD = "hp-07-02-0001", "hp-13-01-0001"


def test_remoteckan_reads_a_conditional_dataset_with_its_key(cityos_server: tuple[int, dict[str, str]],
                                                             db: Database) -> None:  # fmt: skip
    port, env = cityos_server
    rt = Runtime(Settings(database_url=env["CITYOS_DATABASE_URL"]), db, MemoryBus())
    datahub.load_catalogue(rt, "default", by="cityos-demo")
    url = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {create_token(db, 'portal-admin', role='admin', kind='staff')}"}
    flow = {"id": "urn:ngsi-ld:TrafficFlowObserved:lane-1", "type": "TrafficFlowObserved",
            "intensity": {"type": "Property", "value": 42}}  # fmt: skip
    assert requests.post(f"{url}/ngsi-ld/v1/entities", json=flow, headers=admin, timeout=10).status_code == 201
    body = {"dataset": TRAFFIC, "kind": "person", "name": "李四", "contact": "13800000000", "purpose": "研究",
            "scenario": "交通研究"}  # fmt: skip
    applied = requests.post(f"{url}/opendata/applications", json=body, timeout=10).json()
    ends = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    decided = requests.post(f"{url}/opendata/applications/{applied['application']['id']}/decision", headers=admin,
                            json={"action": "approve", "terms": "仅用于研究", "endsAt": ends}, timeout=10)  # fmt: skip
    assert decided.status_code == 200, decided.text

    with RemoteCKAN(url, apikey=applied["key"]) as ckan:
        rid = ckan.action.package_show(id=TRAFFIC)["resources"][0]["id"]
        found = ckan.action.datastore_search(resource_id=rid)
        assert found["total"] == 1 and found["records"][0]["intensity"] == 42
        other = ckan.action.package_show(id=FLOOD)["resources"][0]["id"]
        with pytest.raises(NotAuthorized):
            ckan.action.datastore_search(resource_id=other)
    rt.bus.close()
