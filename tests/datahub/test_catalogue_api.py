"""The catalogue's routes on both databases: register, read, change with a reason, versions, listing with
X-Total-Count, levels, the classification tree, and who may write which entries."""

from __future__ import annotations

from conftest import Api
from samples import as_body, lights_entry, person_entry

from cityos.auth.service import create_token


def _department(api: Api, name: str) -> str:
    return create_token(api.rt.db, name, role="department", kind="department")


def test_register_read_change_and_versions(api: Api) -> None:
    r = api.post("/datahub/catalogue", json=as_body(person_entry()))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == "/datahub/catalogue/HP-01-01-0001"
    body = r.json()
    assert body["version"] == 1 and body["level"]["name"] == "important" and body["level"]["zh"] == "重要数据"
    item = body["items"][0]
    assert item["key"] == "person.idCard" and item["source"] == "public-security"
    assert item["sourceEntry"] == "HP-01-01-0001"
    assert body["sharingConditions"] and body["updateCycle"] == "daily"

    r = api.put("/datahub/catalogue/HP-01-01-0001", json=as_body(person_entry(name="户籍人口信息"), reason="更名"))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["name"] == "户籍人口信息"
    assert api.get("/datahub/catalogue/HP-01-01-0001").json()["version"] == 2

    versions = api.get("/datahub/catalogue/HP-01-01-0001/versions").json()
    assert [(v["version"], v["changedBy"], v["reason"]) for v in versions] == [
        (1, "test-admin", "registered"),
        (2, "test-admin", "更名"),
    ]
    assert versions[0]["entry"]["name"] == "户籍人口基本信息"


def test_errors_name_what_to_fix(api: Api) -> None:
    r = api.get("/datahub/catalogue/HP-09-09-0009")
    assert r.status_code == 404 and r.json()["type"].endswith("catalogue-entry-not-found")
    assert api.post("/datahub/catalogue", json=as_body(person_entry())).status_code == 201
    r = api.post("/datahub/catalogue", json=as_body(person_entry()))
    assert r.status_code == 409 and "PUT" in r.json()["detail"]

    rival = as_body(person_entry(code="HP-01-02-0001", provider="civil-affairs"))
    r = api.post("/datahub/catalogue", json=rival)
    assert r.status_code == 409 and r.json()["owner"] == "public-security"
    assert r.json()["ownerEntry"] == "HP-01-01-0001" and "public-security" in r.json()["detail"]

    bad = as_body(person_entry(code="HP-01-01-0002"))
    bad["items"][1]["level"] = "secret"
    r = api.post("/datahub/catalogue", json=bad)
    assert r.status_code == 400 and r.json()["field"] == "items[1].level", r.text

    r = api.put("/datahub/catalogue/HP-01-01-0001", json=as_body(person_entry()))  # no reason
    assert r.status_code in (400, 422) and "reason" in r.text
    r = api.put("/datahub/catalogue/HP-01-01-0001", json=as_body(person_entry(code="HP-01-01-0003"), reason="x"))
    assert r.status_code == 400 and r.json()["field"] == "code"
    r = api.put("/datahub/catalogue/HP-09-09-0009", json=as_body(person_entry(code="HP-09-09-0009"), reason="x"))
    assert r.status_code == 404
    r = api.post("/datahub/catalogue", json={**as_body(lights_entry()), "sharing": "sometimes"})
    assert r.status_code in (400, 422)
    assert api.get("/datahub/catalogue?level=secret").status_code == 400


def test_listing_filters_pages_and_counts(api: Api) -> None:
    for n in range(1, 4):
        entry = lights_entry(code=f"HP-04-01-{n:04d}", name=f"路灯数据{n}")
        assert api.post("/datahub/catalogue", json=as_body(entry)).status_code == 201
    assert api.post("/datahub/catalogue", json=as_body(person_entry())).status_code == 201
    r = api.get("/datahub/catalogue?limit=2&offset=1")
    assert r.headers["X-Total-Count"] == "4"
    assert [e["code"] for e in r.json()] == ["HP-04-01-0001", "HP-04-01-0002"]
    r = api.get("/datahub/catalogue", params={"department": "city-appearance", "sharing": "unconditional"})
    assert r.headers["X-Total-Count"] == "3"
    assert [e["code"] for e in api.get("/datahub/catalogue", params={"q": "户籍"}).json()] == ["HP-01-01-0001"]
    assert [e["code"] for e in api.get("/datahub/catalogue", params={"level": "important"}).json()] == ["HP-01-01-0001"]
    r = api.get("/datahub/catalogue", params={"classification": "城市运行/市政设施"})
    assert r.headers["X-Total-Count"] == "3"
    tree = api.get("/datahub/classification").json()
    assert {(n["name"], n["count"]) for n in tree} == {("城市运行", 3), ("基础信息", 1)}
    assert tree[0]["children"][0]["path"] in ("城市运行/市政设施", "基础信息/人口")
    levels = api.get("/datahub/levels").json()
    assert [lv["name"] for lv in levels] == ["general-1", "general-2", "general-3", "general-4", "important", "core"]
    assert [lv["rank"] for lv in levels] == [1, 2, 3, 4, 5, 6]
    sources = {s["key"]: s["department"] for s in api.get("/datahub/sources").json()}
    assert sources["person.idCard"] == "public-security"


def test_a_department_writes_only_its_own_entries(api: Api) -> None:
    police = _department(api, "public-security")
    lights = _department(api, "city-appearance")
    r = api.post("/datahub/catalogue", json=as_body(person_entry(provider="civil-affairs")), token=police)
    assert r.status_code == 403 and "public-security" in r.json()["detail"]
    assert api.post("/datahub/catalogue", json=as_body(person_entry()), token=police).status_code == 201
    changed = as_body(person_entry(name="户籍人口"), reason="更名")
    r = api.put("/datahub/catalogue/HP-01-01-0001", json=changed, token=lights)
    assert r.status_code == 403
    handed = as_body(person_entry(provider="city-appearance"), reason="移交")
    assert api.put("/datahub/catalogue/HP-01-01-0001", json=handed, token=police).status_code == 403
    assert api.put("/datahub/catalogue/HP-01-01-0001", json=changed, token=police).status_code == 200
    # every department reads the catalogue; an operator writes any department's entries
    assert api.get("/datahub/catalogue/HP-01-01-0001", token=lights).status_code == 200
    duty = create_token(api.rt.db, "duty", role="operator", kind="staff")
    assert api.post("/datahub/catalogue", json=as_body(lights_entry()), token=duty).status_code == 201


def test_a_reader_reads_and_never_writes(api: Api) -> None:
    reader = create_token(api.rt.db, "viewer", role="reader", kind="staff")
    assert api.get("/datahub/catalogue", token=reader).status_code == 200
    assert api.post("/datahub/catalogue", json=as_body(lights_entry()), token=reader).status_code == 403
    reporter = create_token(api.rt.db, "app", role="reporter", kind="service")
    assert api.get("/datahub/catalogue", token=reporter).status_code == 403
