"""Interoperability (issue 19, item 3): `ckanapi`, CKAN's own client, drives the open data portal of a real
cityos server, unmodified: RemoteCKAN's actions (POST, and GET with get_only) and its command line's
`search datasets` and `dump datasets --all` (every page, in worker processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from ckanapi import NotAuthorized, NotFound, RemoteCKAN, SearchQueryError, ValidationError
from conftest import Server

from cityos import datahub
from cityos.auth import create_token
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.runtime import Runtime
from cityos.store.engine import Database

pytestmark = pytest.mark.interop
BIN = Path(sys.executable).parent
CKANAPI = str(BIN / "ckanapi")
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # its dump workers are "ckanapi"
AIR = "hp-06-01-0001"


@pytest.fixture(scope="module")
def portal(module_server: Server, module_db: Database) -> str:
    """The server's URL, with the demo catalogue loaded and two air quality stations reporting (one for the
    module's tests, which only read)."""
    port, env = module_server
    db = module_db
    rt = Runtime(Settings(database_url=env["CITYOS_DATABASE_URL"]), db, MemoryBus())
    datahub.load_catalogue(rt, "default", by="cityos-demo")
    url = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {create_token(db, 'station-feed', role='admin', kind='staff')}"}
    for sid, pm25 in (("hp-aq-01", 35), ("hp-aq-02", 12)):
        entity = {
            "id": f"urn:ngsi-ld:AirQualityObserved:{sid}",
            "type": "AirQualityObserved",
            "pm25": {"type": "Property", "value": pm25},
        }
        assert requests.post(f"{url}/ngsi-ld/v1/entities", json=entity, headers=admin, timeout=10).status_code == 201
    return url


@pytest.mark.parametrize("get_only", [False, True])
def test_remoteckan_reads_the_portal(portal: str, get_only: bool) -> None:
    def enc(value: object) -> object:  # GET sends what is not text as JSON text, as CKAN takes it
        return json.dumps(value) if get_only else value

    with RemoteCKAN(portal, get_only=get_only) as ckan:
        found = ckan.action.package_search(
            q="空气质量", fq="groups:environment", rows=5, **{"facet.field": enc(["groups"])}
        )
        assert found["results"][0]["name"] == AIR
        assert found["search_facets"]["groups"]["items"][0]["display_name"] == "生态环境"
        pkg = ckan.action.package_show(id=AIR)
        assert pkg["organization"]["title"] == "区生态环境局" and pkg["groups"][0]["name"] == "environment"
        orgs = ckan.action.organization_list()
        assert "ecology-environment" in orgs and "public-security" in orgs
        assert "environment" in ckan.action.group_list()
        rid = pkg["resources"][0]["id"]
        records = ckan.action.datastore_search(resource_id=rid, sort="pm25 desc", fields=enc(["pm25"]))
        assert records["total"] == 2 and [r["pm25"] for r in records["records"]] == [35, 12]
        filtered = ckan.action.datastore_search(resource_id=rid, filters=enc({"pm25": 12}))
        assert [r["pm25"] for r in filtered["records"]] == [12]

        with pytest.raises(NotFound):
            ckan.action.package_show(id="hp-01-01-0001")  # 户籍人口: never opened
        with pytest.raises(SearchQueryError):
            ckan.action.package_search(fq="colour:red")
        with pytest.raises(ValidationError) as invalid:
            ckan.action.datastore_search(resource_id=rid, filters=enc({"stationName": "x"}))
        assert invalid.value.error_dict["filters"] == ['field "stationName" not in resource']
        conditional = ckan.action.package_show(id="hp-07-02-0001")["resources"][0]["id"]
        with pytest.raises(NotAuthorized):
            ckan.action.datastore_search(resource_id=conditional)


def test_the_command_line_searches_and_dumps_every_dataset(portal: str, tmp_path: Path) -> None:
    with RemoteCKAN(portal) as ckan:
        names = ckan.action.package_list()
    searched = subprocess.run(
        [CKANAPI, "search", "datasets", "fq=groups:environment", "-r", portal],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=ENV,
    )
    found = [json.loads(line) for line in searched.stdout.splitlines()]
    assert AIR in {d["name"] for d in found} and all(d["groups"][0]["name"] == "environment" for d in found)
    everything = subprocess.run(
        [CKANAPI, "search", "datasets", "-r", portal], capture_output=True, text=True, check=True, timeout=60, env=ENV
    )
    assert sorted(json.loads(line)["name"] for line in everything.stdout.splitlines()) == names

    out = tmp_path / "datasets.jsonl"
    subprocess.run(
        [CKANAPI, "dump", "datasets", "--all", "-q", "-p", "2", "-O", str(out), "-r", portal],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=ENV,
    )
    dumped = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["name"] for d in dumped] == names and len(names) >= 30
    air = next(d for d in dumped if d["name"] == AIR)
    assert air["title"] == "空气质量实时监测数据" and air["resources"][0]["datastore_active"] is True
