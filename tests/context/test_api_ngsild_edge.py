"""Common behaviours of the NGSI-LD API fixed for the conformance suite's extension tests: a write without
Content-Length is a bare 411 (clause 6.3.4), decided before the tenant is looked up; the request's
NGSILD-Tenant is echoed on the answer, errors included (6.3.14); the Context Source's identity (5.15.1,
5.2.40), one alias per tenant; a hosted @context is its tenant's (5.13, 5.5.10). On SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from conftest import Api

from cityos.context.identity import iso_duration

URL = "/ngsi-ld/v1/entities"
CONTEXTS = "/ngsi-ld/v1/jsonldContexts"
IDENTITY = "/ngsi-ld/v1/info/sourceIdentity"
BODY = b'{"id": "urn:ngsi-ld:Building:len-1", "type": "Building"}'


@pytest.mark.parametrize(
    ("method", "path", "tenant"),
    [
        ("POST", URL, None),
        ("PATCH", URL + "/urn:ngsi-ld:Building:len-1/attrs", None),
        ("PUT", URL + "/urn:ngsi-ld:Building:len-1", None),
        ("POST", URL, "nosuchtenant"),  # 411 before the tenant is looked up
    ],
)
def test_a_write_without_content_length_is_a_bare_411(api: Api, method: str, path: str, tenant: str | None) -> None:
    headers = {"Content-Type": "application/json", **({"NGSILD-Tenant": tenant} if tenant else {})}
    r = api.request(method, path, content=iter([BODY]), headers=headers)  # chunked: no Content-Length
    assert r.status_code == 411 and r.content == b""
    assert api.get(URL + "/urn:ngsi-ld:Building:len-1").status_code == 404  # nothing was written


def test_a_write_with_content_length_and_a_read_without_go_on(api: Api) -> None:
    assert api.post(URL, content=BODY, headers={"Content-Type": "application/json"}).status_code == 201
    assert api.get(URL, params={"type": "Building"}).status_code == 200


def test_the_tenant_header_is_echoed_errors_included(api: Api) -> None:
    r = api.get(URL, params={"type": "Building"}, headers={"NGSILD-Tenant": "tp-echo"})
    assert r.status_code == 404 and r.json()["type"].endswith("/NonexistentTenant")
    assert r.headers["NGSILD-Tenant"] == "tp-echo"
    body = {"id": "urn:ngsi-ld:Building:echo-1", "type": "Building"}
    r = api.post(URL, json=body, headers={"NGSILD-Tenant": "tp-echo"})
    assert r.status_code == 201 and r.headers["NGSILD-Tenant"] == "tp-echo"
    assert "NGSILD-Tenant" not in api.get(URL, params={"type": "Building"}).headers


def test_the_source_identity_names_each_tenant(api: Api) -> None:
    default = api.get(IDENTITY)
    assert default.status_code == 200, default.text
    body = default.json()
    assert body["type"] == "ContextSourceIdentity" and body["id"].startswith("urn:")
    assert re.fullmatch(r"P(\d+D)?T(\d+H)?(\d+M)?(\d+S)?", body["contextSourceUptime"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", body["contextSourceTimeAt"])
    a = api.get(IDENTITY, headers={"NGSILD-Tenant": "alias-a"}).json()["contextSourceAlias"]
    b = api.get(IDENTITY, headers={"NGSILD-Tenant": "alias-b"}).json()["contextSourceAlias"]
    assert len({body["contextSourceAlias"], a, b}) == 3
    assert api.get(IDENTITY, headers={"NGSILD-Tenant": "alias-a"}).json()["contextSourceAlias"] == a


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "PT0S"), (59.9, "PT59S"), (3600, "PT1H"), (3661, "PT1H1M1S"), (90061, "P1DT1H1M1S")]
)
def test_uptime_is_an_iso_8601_duration(seconds: float, text: str) -> None:
    assert iso_duration(seconds) == text


def test_a_hosted_context_is_its_tenants(api: Api) -> None:
    body = {"@context": {"TenantPrivateTerm": "urn:ngsi-ld:attributes:TenantPrivateTerm"}}
    r = api.post(CONTEXTS, json=body, headers={"NGSILD-Tenant": "ctx-a"})  # creates the tenant
    assert r.status_code == 201, r.text
    cid = r.headers["Location"].rsplit("/", 1)[1]
    other = {"NGSILD-Tenant": "ctx-b"}
    assert api.get(f"{CONTEXTS}/{cid}", headers=other).status_code == 404
    assert api.get(f"{CONTEXTS}/{cid}", params={"details": "true"}, headers=other).status_code == 404
    listed = api.get(CONTEXTS, params={"details": "true"}, headers=other)
    assert listed.status_code == 200 and cid not in listed.text
    assert api.delete(f"{CONTEXTS}/{cid}", headers=other).status_code == 404
    own = {"NGSILD-Tenant": "ctx-a"}
    assert "TenantPrivateTerm" in api.get(f"{CONTEXTS}/{cid}", headers=own).text
    assert cid in api.get(CONTEXTS, headers=own).text
    assert api.get(f"{CONTEXTS}/{cid}").status_code == 200  # a JSON-LD processor dereferencing its URL
    assert api.delete(f"{CONTEXTS}/{cid}", headers=own).status_code == 204
