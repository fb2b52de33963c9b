"""The open data portal's pages' JSON twins, usage counts and error reports over HTTP (issue 19 items 1 and 7),
on SQLite and PostgreSQL: views, API calls and downloads counted per dataset and day, batched and upserted; a
visitor's error report filed as an objection by ``public`` to the item's source, one open per value,
rate-limited per address."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

from cityos import datahub
from cityos.datahub.errors import InvalidObjection, ValueNotRead
from cityos.opendata.usage import count_use, flush, summary
from cityos.runtime import Runtime

AIR = "hp-06-01-0001"
A = "/api/3/action"


@pytest.fixture
def portal(api: Api, rt: Runtime) -> Api:
    datahub.load_catalogue(rt, "default", by="cityos-demo")
    for sid, pm25 in (("hp-aq-01", 35), ("hp-aq-02", 12)):
        entity = {
            "id": f"urn:ngsi-ld:AirQualityObserved:{sid}", "type": "AirQualityObserved",
            "pm25": {"type": "Property", "value": pm25}, "airQualityIndex": {"type": "Property", "value": pm25 * 2},
        }  # fmt: skip
        assert api.post("/ngsi-ld/v1/entities", json=entity).status_code == 201
    return api


def twin(api: Api, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    r = api.get(path, params=params or None, headers=headers, token=None)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_twins_of_the_pages(portal: Api) -> None:
    home = twin(portal, "/opendata/index.json", groups="environment")
    assert home["count"] == len(home["results"]) >= 2 and {"environment"} == {
        g["name"] for d in home["results"] for g in d["groups"]
    }
    assert set(home["facets"]) == {"organization", "groups", "res_format", "license_id", "opening_type", "update_cycle"}
    assert home["api"].startswith("/api/3/action/package_search?")
    assert twin(portal, home["api"])["result"]["count"] == home["count"]  # the call it shows answers the same
    page = twin(portal, f"/opendata/datasets/{AIR}.json")
    assert page["dataset"]["name"] == AIR and page["preview"]["available"] and page["report"]["available"]
    assert page["downloads"][0]["url"].endswith(f"/opendata/datasets/{AIR}/records.csv")
    assert twin(portal, "/opendata/organizations/ecology-environment.json")["organization"]["title"] == "区生态环境局"
    assert AIR in {d["name"] for d in twin(portal, "/opendata/groups/environment.json")["datasets"]}
    r = portal.get("/opendata/datasets/hp-99-99-9999.json", token=None)
    assert r.status_code == 404 and "no open dataset" in r.json()["detail"]
    assert portal.get("/opendata/datasets/hp-99-99-9999", token=None).json()["status"] == 404
    browser = portal.get("/opendata/groups/no-such-theme", headers={"Accept": "text/html"}, token=None)
    assert browser.status_code == 404 and "portal.js" in browser.text  # the page says so, from its twin
    assert portal.get("/opendata/index.json", params={"q": 'title:"'}, token=None).status_code == 400
    r = portal.get("/opendata/", token=None)
    assert (
        r.status_code == 200
        and "公共数据开放" in r.text
        and "script-src 'self'" in r.headers["content-security-policy"]
    )


def test_views_api_calls_and_downloads_are_counted_and_stored(portal: Api, rt: Runtime) -> None:
    assert portal.get(f"/opendata/datasets/{AIR}", token=None).status_code == 200  # a view
    assert portal.get(f"/opendata/datasets/{AIR}", token=None).status_code == 200
    assert portal.get(f"{A}/package_show", params={"id": AIR}, token=None).status_code == 200  # an API call
    rid = twin(portal, f"/opendata/datasets/{AIR}.json")["preview"]["resource_id"]  # the twin: an API call
    assert portal.post(f"{A}/datastore_search", json={"resource_id": rid}, token=None).status_code == 200
    page = {"X-Cityos-Portal": "page"}  # the page's own preview: counted as its view, not again
    assert portal.post(f"{A}/datastore_search", json={"resource_id": rid}, headers=page, token=None).status_code == 200
    assert portal.get(f"{A}/package_list", token=None).status_code == 200  # names no dataset
    count_use(rt, "default", AIR, "download")  # what the downloads call
    seen = twin(portal, f"/opendata/datasets/{AIR}.json", headers=page)["usage"]
    assert seen["totals"] == {"view": 2, "api": 3, "download": 1}
    assert seen["days"][-1]["view"] == 2 and len(seen["days"]) == 30
    assert flush(rt) == 3  # one row per kind; the next batch adds to them
    count_use(rt, "default", AIR, "view")
    assert flush(rt) == 1 and flush(rt) == 0
    assert summary(rt, "default", AIR).totals == {"view": 3, "download": 1, "api": 3}
    assert summary(rt, "default", "hp-06-02-0001").totals == {"view": 0, "download": 0, "api": 0}


def _preview(api: Api) -> list[dict[str, Any]]:
    rid = twin(api, f"/opendata/datasets/{AIR}.json")["preview"]["resource_id"]
    r = api.post(f"{A}/datastore_search", json={"resource_id": rid, "sort": "pm25 asc"}, token=None)
    return list(r.json()["result"]["records"])


def report(api: Api, body: dict[str, Any], name: str = AIR) -> Any:
    return api.post(f"/opendata/datasets/{name}/reports", json=body, token=None)


def test_an_error_report_becomes_an_objection_to_the_source(portal: Api, rt: Runtime) -> None:
    low = _preview(portal)[0]
    assert low["pm25"] == 12
    body = {"row": low, "item": "pm25", "evidence": "我们的便携仪测得 40 左右", "proposed": 40}
    r = report(portal, body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["source"] == "ecology-environment" and made["state"] == "submitted" and made["item"] == "pm25"
    objection = datahub.get_objection(rt, "default", made["id"])
    assert objection.objector == "public" and objection.record_id == "urn:ngsi-ld:AirQualityObserved:hp-aq-02"
    assert objection.value == 12 and objection.proposed == 40 and objection.code == "HP-06-01-0001"
    again = report(portal, body)  # one open report per value
    assert again.status_code == 409 and made["id"] in again.json()["detail"]
    changed = report(portal, {**body, "row": {**low, "pm25": 13}})  # values no record holds
    assert changed.status_code == 409 and "reload the preview" in changed.json()["detail"]
    assert report(portal, {**body, "item": "stationName"}).status_code == 400  # not an open item
    assert report(portal, {**body, "evidence": ""}).status_code == 400
    assert report(portal, body, name="hp-99-99-9999").status_code == 404
    assert report(portal, body, name="hp-18-01-0001").status_code == 403  # a table, not the data hub's records
    # the source verifies it through the objection flow, as any objection
    moved = datahub.move_objection(rt, "default", made["id"], "accept", "eco-officer", "ecology-environment")
    assert str(moved.state) == "verifying"


def test_a_value_the_portal_never_showed_cannot_be_reported(portal: Api, rt: Runtime) -> None:
    """Through the service: no public read of the record in the audit chain, no report (the route reads the
    record it looks for, so a report through the portal always follows a public read)."""
    record = "urn:ngsi-ld:AirQualityObserved:hp-aq-01"
    with pytest.raises(ValueNotRead, match="never shown"):
        datahub.submit_public_objection(rt, "default", "HP-06-01-0001", record, "pm25", "错误", opened=("pm25",))
    with pytest.raises(InvalidObjection, match="not an open item"):
        datahub.submit_public_objection(rt, "default", "HP-06-01-0001", record, "pm10", "错误", opened=("pm25",))


@pytest.mark.settings(opendata_reports_per_hour=2)
def test_error_reports_are_rate_limited_per_address(portal: Api) -> None:
    rows = _preview(portal)
    statuses = [report(portal, {"row": rows[i % 2], "item": item, "evidence": "不对"}).status_code
                for i, item in enumerate(["pm25", "airQualityIndex", "pm25"])]  # fmt: skip
    assert statuses[:2] == [201, 201] and statuses[2] == 429
    r = report(portal, {"row": rows[0], "item": "airQualityIndex", "evidence": "不对"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
