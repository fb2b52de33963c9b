"""Interoperability: the Open311 GeoReport v2 API driven by `georeport` (a GeoReport v2 client from PyPI)
against a real cityos server, in JSON and in XML.

`georeport` reads services, definitions and requests; it does not post (no maintained Python client
does), so reports are posted as the spec defines them, a form-encoded POST to requests.json/.xml with
an api_key, through `requests`, the HTTP library the client itself uses.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import requests
from conftest import Server
from georeport import GeoReport

from cityos.auth import create_token
from cityos.store.engine import Database

pytestmark = pytest.mark.interop


def api_key(env: dict[str, str], name: str = "citizen-app", role: str = "reporter") -> str:
    """A token; with the reporter role, what a city gives a citizen app as its Open311 api_key."""
    return subprocess.run(
        [sys.executable, "-m", "cityos.cli", "token", "create", name, "--role", role],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_georeport_client_lists_services_and_follows_a_report(
    module_server: Server, module_db: Database, fmt: str
) -> None:
    port, env = module_server  # the two formats on one server: each follows a report of its own
    root = f"http://127.0.0.1:{port}/open311/v2"
    client = GeoReport(root, output_format=fmt)
    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"road-manhole-damaged", "garbage-uncollected", "streetlight-out"} <= codes and len(codes) >= 40
    lamp = next(s for s in services if s["service_code"] == "streetlight-out")
    assert lamp["service_name"] == "路灯故障" and lamp["group"] == "设施管理"  # zh-CN by default
    definition = client.get_service_definition("streetlight-out")
    assert definition["service_code"] == "streetlight-out" and definition["attributes"]

    key = api_key(env)
    form = {"api_key": key, "service_code": "road-manhole-damaged", "lat": "31.2304", "long": "121.4737",
            "description": "人民广场东侧人行道井盖缺失", "first_name": "李", "phone": "13900000000",
            "attribute[urgency]": "urgent"}  # fmt: skip
    posted = requests.post(f"{root}/requests.{fmt}", data=form, timeout=10)
    assert posted.status_code == 201, posted.text
    if fmt == "json":
        answer = posted.json()[0]
    else:
        node = ET.fromstring(posted.content).find("request")
        assert node is not None
        answer = {child.tag: child.text for child in node}
    request_id, token = answer["service_request_id"], answer["token"]

    one = client.get_service_request(request_id)
    if fmt == "xml":  # georeport hands the XML's single request back as it parsed it
        assert one["service_request_id"] == request_id
    assert one["status"] == "open" and one["service_code"] == "road-manhole-damaged"
    assert one["description"] == "人民广场东侧人行道井盖缺失" and one["agency_responsible"]
    listed = client.get_service_requests(service_code="road-manhole-damaged", status="open")
    listed = listed if isinstance(listed, list) else [listed]
    assert request_id in [r["service_request_id"] for r in listed]
    tokens = requests.get(f"{root}/tokens/{token}.{fmt}", timeout=10)
    assert tokens.status_code == 200 and request_id in tokens.text

    # the city handles it through its own API; the client sees it closed, with the result as the notes
    admin = {"Authorization": f"Bearer {create_token(module_db, 'city-desk', role='admin', kind='service')}"}
    steps = [("accept", "handler", {}), ("start", "handler", {}), ("handle", "handler", {"result": "井盖已补装"}),
             ("verify_ok", "inspector", {"verifier": "inspector"}), ("close", "dispatcher", {})]  # fmt: skip
    for action, role, data in steps:
        r = requests.post(f"http://127.0.0.1:{port}/cases/{request_id}/actions/{action}",
                          json={"role": role, "data": data}, headers=admin, timeout=10)  # fmt: skip
        assert r.status_code == 200, r.text
    closed = client.get_service_request(request_id)
    assert closed["status"] == "closed" and closed["status_notes"] == "井盖已补装"

    # the spec's errors: a list of code and description
    no_key = requests.post(f"{root}/requests.{fmt}", data={**form, "api_key": ""}, timeout=10)
    assert no_key.status_code == 403 and "api_key" in no_key.text
    bad = requests.post(f"{root}/requests.{fmt}", data={"api_key": key, "service_code": "no-such"}, timeout=10)
    assert bad.status_code == 404
    if fmt == "json":
        assert {e["code"] for e in bad.json()} == {404, 400}  # the unknown code, and the missing location
    else:
        assert [e.findtext("code") for e in ET.fromstring(bad.content).iter("error")] == ["404", "400"]
    missing = requests.get(f"{root}/requests/nothing-here.{fmt}", timeout=10)
    assert missing.status_code == 404
