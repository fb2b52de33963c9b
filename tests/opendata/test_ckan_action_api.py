"""The CKAN Action API over HTTP (issue 19, item 3), on SQLite and PostgreSQL: each action's parameters, GET
and POST, the envelope, and CKAN's errors with their statuses; datastore_search over entity-backed and
table-backed records, cut to the open items, and refused for conditional data."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from conftest import Api

from cityos import datahub
from cityos.runtime import Runtime

A = "/api/3/action"
AIR = "hp-06-01-0001"
STATIONS = [("hp-aq-01", 35, 61, 4), ("hp-aq-02", 12, 20, 1), ("hp-aq-03", 78, 102, 9)]


def call(api: Api, action: str, method: str = "GET", /, **params: Any) -> Any:
    if method == "GET":
        query = {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in params.items()}
        return api.get(f"{A}/{action}", params=query, token=None)
    return api.post(f"{A}/{action}", json=params, token=None)


def ok(api: Api, action: str, method: str = "GET", /, **params: Any) -> Any:
    r = call(api, action, method, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"help", "success", "result"} and body["success"] is True
    assert body["help"].endswith(f"{A}/help_show?name={action}")
    return body["result"]


def error(api: Api, action: str, status: int, kind: str, method: str = "GET", /, **params: Any) -> dict[str, Any]:
    r = call(api, action, method, **params)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"help", "success", "error"} and body["success"] is False
    assert body["error"]["__type"] == kind
    return body["error"]


@pytest.fixture
def portal(api: Api, rt: Runtime) -> Api:
    datahub.load_catalogue(rt, "default", by="cityos-demo")
    for sid, pm25, aqi, no2 in STATIONS:
        entity = {
            "id": f"urn:ngsi-ld:AirQualityObserved:{sid}",
            "type": "AirQualityObserved",
            "pm25": {"type": "Property", "value": pm25},
            "airQualityIndex": {"type": "Property", "value": aqi},
            "no2": {"type": "Property", "value": no2},
            "stationName": {"type": "Property", "value": "内部"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.48, 31.23]}},
        }
        assert api.post("/ngsi-ld/v1/entities", json=entity).status_code == 201
    return api


def resource_id(api: Api, name: str) -> str:
    return str(ok(api, "package_show", id=name)["resources"][0]["id"])


def test_both_paths_and_both_methods_answer_the_envelope(portal: Api) -> None:
    names = ok(portal, "package_list")
    assert AIR in names and "hp-01-01-0001" not in names and names == sorted(names) and len(names) >= 30
    assert ok(portal, "package_list", "POST") == names
    r = portal.get("/api/action/package_list", token=None)
    assert r.status_code == 200 and r.json()["result"] == names
    assert r.json()["help"].endswith("/api/action/help_show?name=package_list")
    assert ok(portal, "package_list", limit=5, offset=2) == names[2:7]


def test_package_show_by_name_or_id(portal: Api) -> None:
    pkg = ok(portal, "package_show", id=AIR)
    assert pkg["title"] == "空气质量实时监测数据" and pkg["organization"]["title"] == "区生态环境局"
    assert pkg["resources"][0]["url"].endswith(f"/opendata/datasets/{AIR}/records.csv")
    assert ok(portal, "package_show", "POST", id=pkg["id"])["name"] == AIR
    assert "Not found" in error(portal, "package_show", 404, "Not Found Error", id="hp-01-01-0001")["message"]
    assert error(portal, "package_show", 409, "Validation Error")["id"] == ["Missing value"]


def test_a_catalogue_change_shows_at_once(portal: Api, rt: Runtime) -> None:
    entry = datahub.get_entry(rt, "default", "HP-06-01-0001")
    renamed = dataclasses.replace(entry, name="空气质量监测（新）")
    datahub.change_entry(rt, "default", renamed, by="officer", reason="renamed")
    assert ok(portal, "package_show", id=AIR)["title"] == "空气质量监测（新）"
    assert ok(portal, "package_show", id=AIR)["version"] == "2"


def test_package_search_parameters_get_and_post(portal: Api) -> None:
    got = ok(portal, "package_search", q="空气质量", fq="groups:environment", rows=5, **{"facet.field": ["groups"]})
    assert got["count"] >= 1 and got["results"][0]["name"] == AIR
    assert got["search_facets"]["groups"]["items"][0] == {
        "name": "environment",
        "display_name": "生态环境",
        "count": got["count"],
    }
    assert got["facets"]["groups"] == {"environment": got["count"]}
    posted = ok(
        portal, "package_search", "POST", q="空气质量", fq="groups:environment", rows=5, **{"facet.field": ["groups"]}
    )
    assert posted == got
    everything = ok(portal, "package_search", rows=1000, sort="name asc")
    assert [p["name"] for p in everything["results"]] == ok(portal, "package_list")
    paged = [
        p["name"]
        for s in range(0, everything["count"], 10)
        for p in ok(portal, "package_search", rows=10, start=s, sort="name asc")["results"]
    ]
    assert paged == ok(portal, "package_list")
    assert len(ok(portal, "package_search", rows=5000)["results"]) == everything["count"]  # rows capped at 1000
    cond = ok(portal, "package_search", fq="opening_type:conditional", rows=100, **{"facet.field": ["opening_type"]})
    assert cond["count"] >= 3 and cond["facets"]["opening_type"] == {"conditional": cond["count"]}


def test_package_search_errors(portal: Api) -> None:
    assert "colour" in error(portal, "package_search", 400, "Search Query Error", fq="colour:red")["message"]
    assert error(portal, "package_search", 400, "Search Query Error", sort="popularity desc")
    assert error(portal, "package_search", 409, "Validation Error", rows="many")["rows"] == ["Invalid integer"]
    assert error(portal, "package_search", 409, "Validation Error", start=-1)["start"] == ["Must be a natural number"]
    one = portal.get(f"{A}/package_search", params={"facet.field": "groups", "fq": "groups:weather"}, token=None)
    assert one.json()["result"]["facets"] == {"groups": {"weather": 2}}
    bad = portal.get(f"{A}/package_search", params={"facet.field": "[groups"}, token=None)
    assert bad.status_code == 409 and bad.json()["error"]["facet.field"] == ["Could not parse as valid JSON"]


def test_organizations_groups_tags_licences(portal: Api) -> None:
    orgs = ok(portal, "organization_list")
    assert "ecology-environment" in orgs and "public-security" in orgs
    full = ok(portal, "organization_list", all_fields=True, sort="package_count desc")
    assert full[0]["package_count"] >= full[-1]["package_count"] and {"name", "title", "id"} <= set(full[0])
    org = ok(portal, "organization_show", id="ecology-environment", include_datasets=True)
    assert org["title"] == "区生态环境局" and AIR in {p["name"] for p in org["packages"]}
    assert error(portal, "organization_show", 404, "Not Found Error", id="no-such-department")
    groups = ok(portal, "group_list", all_fields=True)
    env = next(g for g in groups if g["name"] == "environment")
    assert env["title"] == "生态环境" and env["package_count"] >= 4
    assert ok(portal, "group_show", id="weather")["package_count"] == 2
    assert error(portal, "group_show", 404, "Not Found Error", id="sports")
    assert error(portal, "group_list", 409, "Validation Error", sort="size asc")["sort"]
    assert "空气质量" in ok(portal, "tag_list") and ok(portal, "tag_list", query="空气") == ["空气质量", "空气质量指数"]
    licences = ok(portal, "license_list")
    assert [lic["id"] for lic in licences] == ["sh-public-data-open", "CC-BY-4.0"]


def test_resources_status_and_help(portal: Api) -> None:
    rid = resource_id(portal, AIR)
    res = ok(portal, "resource_show", id=rid)
    assert res["id"] == rid and res["datastore_active"] is True and res["format"] == "CSV"
    assert ok(portal, "resource_view_list", id=rid) == []
    assert "was not found" in error(portal, "resource_show", 404, "Not Found Error", id="nothing")["message"]
    status = ok(portal, "status_show")
    assert status["ckan_version"].startswith("2.") and "datastore" in status["extensions"]
    assert "facet.field" in ok(portal, "help_show", name="package_search")
    assert error(portal, "help_show", 404, "Not Found Error", name="package_create")


def test_an_unknown_action_or_a_body_that_is_no_object_is_ckans_bad_request(portal: Api) -> None:
    r = portal.get(f"{A}/package_create", token=None)
    assert r.status_code == 400 and r.json() == "Bad request - Action name not known: package_create"
    r = portal.post(f"{A}/package_list", content=b"[1, 2]", headers={"Content-Type": "application/json"}, token=None)
    assert r.status_code == 400 and r.json().startswith("Bad request - ")
    r = portal.post(f"{A}/package_list", content=b"{nope", headers={"Content-Type": "application/json"}, token=None)
    assert r.status_code == 400 and "JSON Error" in r.json()


def test_datastore_search_over_entities_shows_only_open_items(portal: Api) -> None:
    rid = resource_id(portal, AIR)
    got = ok(portal, "datastore_search", resource_id=rid)
    assert got["total"] == 3 and len(got["records"]) == 3
    assert [f["id"] for f in got["fields"]] == ["_id", "pm25", "pm10", "no2", "o3", "airQualityIndex", "location"]
    assert got["fields"][1] == {"id": "pm25", "type": "numeric", "info": {"label": "PM2.5浓度", "notes": ""}}
    assert all("stationName" not in r and "id" not in r for r in got["records"])  # not in the catalogue's items
    assert got["_links"]["start"].startswith(f"{A}/datastore_search?resource_id=")
    hot = ok(
        portal,
        "datastore_search",
        "POST",
        resource_id=rid,
        filters={"pm25": [35, 78]},
        sort="pm25 desc",
        fields=["pm25", "airQualityIndex"],
    )
    assert hot["records"] == [
        {"_id": 1, "pm25": 78, "airQualityIndex": 102},
        {"_id": 2, "pm25": 35, "airQualityIndex": 61},
    ]
    one = ok(portal, "datastore_search", resource_id=rid, filters={"pm25": 12}, fields="pm25,no2")
    assert one["total"] == 1 and one["records"] == [{"_id": 1, "pm25": 12, "no2": 1}]
    page = ok(portal, "datastore_search", resource_id=rid, sort="airQualityIndex asc", limit=1, offset=1)
    assert page["total"] == 3 and [r["airQualityIndex"] for r in page["records"]] == [61]
    lists = ok(portal, "datastore_search", resource_id=rid, sort="pm25 asc", fields=["pm25"], records_format="lists")
    assert lists["records"] == [[1, 12], [2, 35], [3, 78]]
    csv = ok(portal, "datastore_search", resource_id=rid, sort="pm25 asc", fields=["pm25"], records_format="csv")
    assert csv["records"] == "1,12\n2,35\n3,78\n"
    assert "total" not in ok(portal, "datastore_search", resource_id=rid, include_total=False)


def test_datastore_search_over_a_table_with_filters_and_full_text(portal: Api) -> None:
    rid = resource_id(portal, "hp-18-01-0001")
    cond = ok(portal, "datastore_search", resource_id=rid, filters={"opening": "conditional"}, limit=1000)
    assert cond["total"] >= 3 and {r["opening"] for r in cond["records"]} == {"conditional"}
    air = ok(portal, "datastore_search", resource_id=rid, q="空气质量")
    assert [r["code"] for r in air["records"]] == ["HP-06-01-0001"]
    per_field = ok(portal, "datastore_search", resource_id=rid, q={"provider": "meteorology"}, sort="code asc")
    assert [r["code"] for r in per_field["records"]] == ["HP-17-01-0001", "HP-17-02-0001"]


def test_datastore_search_errors(portal: Api) -> None:
    rid = resource_id(portal, AIR)
    assert error(portal, "datastore_search", 409, "Validation Error")["resource_id"] == ["Missing value"]
    assert error(portal, "datastore_search", 404, "Not Found Error", resource_id="nothing")
    bad = error(portal, "datastore_search", 409, "Validation Error", resource_id=rid, filters={"stationName": "x"})
    assert bad["filters"] == ['field "stationName" not in resource']
    assert error(portal, "datastore_search", 409, "Validation Error", resource_id=rid, fields=["colour"])["fields"]
    assert error(portal, "datastore_search", 409, "Validation Error", resource_id=rid, sort="pm25 upward")["sort"]
    assert error(portal, "datastore_search", 409, "Validation Error", resource_id=rid, records_format="xml")
    assert error(portal, "datastore_search", 409, "Validation Error", resource_id=rid, limit="all")["limit"]
    # odd values are Validation Errors, never a 500: a sort list of other than texts, an offset no store pages
    # to, a number past a double's exact integers
    assert error(portal, "datastore_search", 409, "Validation Error", "POST", resource_id=rid, sort=["pm25", 1])["sort"]
    assert error(portal, "datastore_search", 409, "Validation Error", resource_id=rid, offset=10**23)["offset"]
    assert error(portal, "datastore_search", 409, "Validation Error", "POST", resource_id=rid,
                 filters={"pm25": 10**30})["filters"]  # fmt: skip
    unserved = resource_id(portal, "hp-16-03-0001")
    assert "not served" in error(portal, "datastore_search", 404, "Not Found Error", resource_id=unserved)["message"]


def test_a_conditional_datasets_records_need_an_application(portal: Api) -> None:
    rid = resource_id(portal, "hp-07-02-0001")
    refused = error(portal, "datastore_search", 403, "Authorization Error", resource_id=rid)
    assert refused["message"].startswith("Access denied: ") and "有条件开放" in refused["message"]
    assert "apply" in refused["message"].lower() and "区交通委" in refused["message"]
    assert ok(portal, "package_show", id="hp-07-02-0001")["name"] == "hp-07-02-0001"  # its metadata is public


def test_a_tenant_with_no_catalogue_is_not_kept(portal: Api, rt: Runtime) -> None:
    from cityos.opendata.service import Portal

    for n in range(3):
        r = portal.get(f"{A}/package_list", headers={"NGSILD-Tenant": f"nobody{n}"}, token=None)
        assert r.status_code in (200, 404), r.text
    kept = rt.parts.find(Portal)
    assert kept is None or not any(t.startswith("nobody") for t in kept._snapshots)


def test_a_public_read_of_records_is_audited(portal: Api, rt: Runtime) -> None:
    rid = resource_id(portal, AIR)
    ok(portal, "datastore_search", resource_id=rid)  # the first read also checks the release: its read is audited
    before = datahub.chain_length(rt)
    ok(portal, "datastore_search", resource_id=rid)
    assert datahub.chain_length(rt) == before + 1
