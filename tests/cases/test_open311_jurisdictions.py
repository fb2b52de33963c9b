"""Open311 serves every tenant: the spec's `jurisdiction_id` names it; an app's key limited to a tenant
reports there; an unknown jurisdiction is the spec's 404."""

from __future__ import annotations

from conftest import Api

from cityos.auth import create_token

ROOT = "/open311/v2"
FORM = {"service_code": "road-manhole-damaged", "lat": "31.2304", "long": "121.4737", "description": "井盖缺失"}
LAMP = {"service_code": "streetlight-out", "lat": "31.2400", "long": "121.4900", "description": "路灯不亮"}


def ids(api: Api, **params: str) -> list[str]:
    r = api.get(f"{ROOT}/requests.json", params=params, token=None)
    assert r.status_code == 200, r.text
    return [x["service_request_id"] for x in r.json()]


def test_a_jurisdiction_is_a_tenant(api: Api) -> None:
    # a write creates the tenant pudong (NGSI-LD tenants are created by their first write)
    city = {"id": "urn:ngsi-ld:District:pudong", "type": "District"}
    assert api.post("/ngsi-ld/v1/entities", json=city, headers={"NGSILD-Tenant": "pudong"}).status_code == 201
    pudong_app = create_token(api.rt.db, "pudong-app", role="reporter", tenant="pudong")
    city_app = create_token(api.rt.db, "city-app", role="reporter")

    mine = api.post(f"{ROOT}/requests.json", data={**FORM, "api_key": pudong_app}, token=None)
    assert mine.status_code == 201, mine.text
    in_pudong = mine.json()[0]["service_request_id"]
    # a second report in pudong, of another problem (the same one would be linked to the first)
    named = api.post(f"{ROOT}/requests.json", data={**LAMP, "api_key": city_app, "jurisdiction_id": "pudong"})
    assert named.status_code == 201, named.text
    at_home = api.post(f"{ROOT}/requests.json", data={**FORM, "api_key": city_app}, token=None)
    assert at_home.status_code == 201, at_home.text

    assert set(ids(api, jurisdiction_id="pudong")) == {in_pudong, named.json()[0]["service_request_id"]}
    assert ids(api) == [at_home.json()[0]["service_request_id"]]  # no jurisdiction: the default tenant
    one = api.get(f"{ROOT}/requests/{in_pudong}.json", params={"jurisdiction_id": "pudong"}, token=None)
    assert one.status_code == 200 and one.json()[0]["service_request_id"] == in_pudong
    assert api.get(f"{ROOT}/requests/{in_pudong}.json", token=None).status_code == 404


def test_an_unknown_jurisdiction_and_a_key_of_another_are_refused(api: Api) -> None:
    r = api.get(f"{ROOT}/requests.json", params={"jurisdiction_id": "atlantis"}, token=None)
    assert r.status_code == 404
    assert r.json() == [{"code": 404, "description": "jurisdiction_id 'atlantis' is not served here"}]
    city = {"id": "urn:ngsi-ld:District:minhang", "type": "District"}
    assert api.post("/ngsi-ld/v1/entities", json=city, headers={"NGSILD-Tenant": "minhang"}).status_code == 201
    pudong_app = create_token(api.rt.db, "pudong-only", role="reporter", tenant="pudong")
    r = api.post(f"{ROOT}/requests.json", data={**FORM, "api_key": pudong_app, "jurisdiction_id": "minhang"})
    assert r.status_code == 403
    assert "may not report in jurisdiction 'minhang'" in r.json()[0]["description"]
