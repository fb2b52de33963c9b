"""Applications for 有条件开放 data (issue 19, item 6) and the de-identification gate in the path of every record
served, on SQLite and PostgreSQL: apply (no token) → the provider approves with terms and a period → the key
opens exactly that dataset through datastore_search, each read audited as the applicant's; a key of another
dataset, an expired, refused or revoked one is an Authorization Error saying why; a planted dataset that
would re-identify people is blocked and names the combinations until its policy is fixed and checked again."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Api

from cityos import datahub, opendata
from cityos.auth import create_token
from cityos.datahub import Backing, CatalogueEntry, DataItem, OpeningType, SharingType
from cityos.opendata import serving
from cityos.runtime import Runtime

A = "/api/3/action"
TRAFFIC, FLOOD = "hp-07-02-0001", "hp-07-02-0001".replace("07-02", "13-01")
PLANTED = "TST-01-09-0001"


def _entity(kind: str, sid: str, **values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f"urn:ngsi-ld:{kind}:{sid}", "type": kind}
    out.update({k: {"type": "Property", "value": v} for k, v in values.items()})
    return out


@pytest.fixture
def portal(api: Api, rt: Runtime) -> Api:
    datahub.load_catalogue(rt, "default", by="cityos-demo")
    for lane, intensity in (("L1", 120), ("L2", 80)):
        entity = _entity("TrafficFlowObserved", f"hp-tf-{lane}", intensity=intensity, laneId=lane)
        assert api.post("/ngsi-ld/v1/entities", json=entity).status_code == 201
    return api


def _resource(api: Api, name: str) -> str:
    r = api.get(f"{A}/package_show", params={"id": name}, token=None)
    return str(r.json()["result"]["resources"][0]["id"])


def _search(api: Api, name: str, key: str | None = None, header: str = "Authorization", **params: Any) -> Any:
    headers = {header: key} if key else {}
    return api.get(f"{A}/datastore_search", params={"resource_id": _resource(api, name), **params}, token=None,
                   headers=headers)  # fmt: skip


def _apply(api: Api, dataset: str = TRAFFIC, **over: Any) -> dict[str, Any]:
    body = {"dataset": dataset, "kind": "enterprise", "name": "张三", "contact": "zhang@example.com",
            "organisation": "某出行科技有限公司", "purpose": "拥堵预测模型训练", "scenario": "出行导航",
            **over}  # fmt: skip
    r = api.post("/opendata/applications", json=body, token=None)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _officer(api: Api, department: str) -> str:
    return create_token(api.rt.db, department, role="department", kind="department")


def _decide(api: Api, app_id: str, token: str, **body: Any) -> Any:
    return api.post(f"/opendata/applications/{app_id}/decision", json=body, token=token)


def _denied(r: Any) -> str:
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["__type"] == "Authorization Error"
    return str(error["message"])


def test_an_approved_key_opens_exactly_its_dataset_and_each_read_is_the_applicants(portal: Api, rt: Runtime) -> None:
    applied = _apply(portal)
    key, app = applied["key"], applied["application"]
    assert key.startswith("odk_") and app["state"] == "submitted" and app["stateZh"] == "待审核"
    assert "under review" in _denied(_search(portal, TRAFFIC, key))

    transport = _officer(portal, "transport")
    assert (
        _decide(
            portal,
            app["id"],
            _officer(portal, "water-affairs"),
            action="approve",
            terms="t",
            endsAt="2099-01-01T00:00:00Z",
        ).status_code
        == 404
    )  # another department's dataset: not its to see
    missing = _decide(portal, app["id"], transport, action="approve", endsAt="2099-01-01T00:00:00Z")
    assert missing.status_code == 400 and "terms" in missing.json()["detail"]
    ends = (datetime.now(UTC) + timedelta(days=90)).isoformat()
    approved = _decide(portal, app["id"], transport, action="approve", terms="仅用于导航，不得转让", endsAt=ends)
    assert approved.status_code == 200, approved.text
    a = approved.json()
    assert a["state"] == "approved" and a["allowedMoves"] == ["revoke"]
    assert [h["action"] for h in a["history"]] == ["apply", "approve"] and a["history"][1][
        "byDepartment"
    ] == "transport"
    mine = portal.get("/opendata/my-application.json", headers={"Authorization": key}, token=None)
    assert mine.status_code == 200, mine.text  # the applicant sees the decision with its key, no token
    seen = mine.json()
    assert seen["state"] == "approved" and seen["terms"] == "仅用于导航，不得转让" and seen["opens"] is True
    assert [s["action"] for s in seen["steps"]] == ["apply", "approve"] and "by" not in seen["steps"][1]
    use = portal.get(seen["use"][1], headers={"Authorization": key}, token=None)  # where it says the key opens
    assert use.status_code == 200 and use.json()["result"]["total"] == 2, use.text
    again = _decide(portal, app["id"], transport, action="refuse", reason="x")
    assert again.status_code == 409 and "approved" in again.json()["detail"]

    for header in ("Authorization", "X-CKAN-API-Key"):
        r = _search(portal, TRAFFIC, key, header, sort="intensity desc")
        assert r.status_code == 200, r.text
        assert [x["intensity"] for x in r.json()["result"]["records"]] == [120, 80]
    assert "opens hp-07-02-0001, not hp-13-01-0001" in _denied(_search(portal, FLOOD, key))
    assert "not known" in _denied(_search(portal, TRAFFIC, "odk_guessed"))
    assert "Apply with POST /opendata/applications" in _denied(_search(portal, TRAFFIC))
    # the key opens the dataset's downloads too; without it they are 403 saying how to apply
    got = portal.get(f"/opendata/datasets/{TRAFFIC}/records.json", headers={"Authorization": key}, token=None)
    assert got.status_code == 200 and sorted(x["intensity"] for x in got.json()) == [80, 120], got.text
    refused = portal.get(f"/opendata/datasets/{TRAFFIC}/records.json", token=None)
    assert refused.status_code == 403 and "application" in refused.json()["detail"]

    audit = portal.get("/datahub/audit", params={"code": "HP-07-02-0001", "route": "GET /api/action/datastore_search"})
    reads = [x for x in audit.json() if x["principal"].startswith(f"applicant:{app['id']}")]
    assert len(reads) == 3 and reads[0]["grant"] == f"application:{app['id']}" and reads[0]["count"] == 2
    assert reads[0]["scenario"] == "出行导航" and "某出行科技有限公司" in reads[0]["principal"]

    listed = portal.get("/opendata/applications", token=transport)
    assert [x["id"] for x in listed.json()] == [app["id"]] and listed.headers["X-Total-Count"] == "1"
    assert portal.get("/opendata/applications", token=_officer(portal, "water-affairs")).json() == []
    assert len(portal.get("/opendata/applications", token=_officer(portal, "big-data")).json()) == 1

    revoked = _decide(portal, app["id"], _officer(portal, "big-data"), action="revoke", reason="违反使用条款")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert "revoked (已撤销): 违反使用条款" in _denied(_search(portal, TRAFFIC, key))
    seen = portal.get("/opendata/my-application.json", headers={"Authorization": key}, token=None).json()
    assert seen["state"] == "revoked" and seen["reason"] == "违反使用条款" and not seen["opens"] and not seen["use"]
    unknown = portal.get("/opendata/my-application.json", headers={"Authorization": "odk_guessed"}, token=None)
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("application-not-found")


def test_a_refusal_says_why_and_an_expired_key_opens_nothing(portal: Api, rt: Runtime) -> None:
    refused = _apply(portal, kind="person", organisation=None)
    r = _decide(portal, refused["application"]["id"], portal.token, action="refuse")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = _decide(portal, refused["application"]["id"], portal.token, action="refuse", reason="用途不明确，请补充场景")
    assert r.status_code == 200 and r.json()["history"][-1]["reason"] == "用途不明确，请补充场景"
    assert "refused (不予批准): 用途不明确，请补充场景" in _denied(_search(portal, TRAFFIC, refused["key"]))

    expiring = _apply(portal)
    approved_at = datetime.now(UTC) - timedelta(days=30)
    decision = opendata.Decision(opendata.AppAction.APPROVE, "t", approved_at + timedelta(days=7))
    done = opendata.decide(rt, "default", expiring["application"]["id"], decision, by="t", department=None,
                           now=approved_at)  # fmt: skip
    assert done.state is opendata.AppState.APPROVED  # as at the decision; its period has ended since
    assert "expired (已到期)" in _denied(_search(portal, TRAFFIC, expiring["key"]))
    page = portal.get("/opendata/applications", params={"state": "expired"}).json()
    assert [x["id"] for x in page] == [expiring["application"]["id"]]

    no_org = portal.post(
        "/opendata/applications",
        token=None,
        json={"dataset": TRAFFIC, "kind": "enterprise", "name": "某", "contact": "c", "purpose": "p", "scenario": "s"},
    )
    assert no_org.status_code == 400 and no_org.json()["field"] == "organisation"
    open_one = portal.post(
        "/opendata/applications",
        token=None,
        json={
            "dataset": "hp-06-01-0001",
            "kind": "person",
            "name": "某",
            "contact": "c",
            "purpose": "p",
            "scenario": "s",
        },
    )
    assert open_one.status_code == 400 and "无条件开放" in open_one.json()["detail"]
    assert portal.get("/opendata/applications", token=None).status_code == 401


# --- the gate in the path ------------------------------------------------------------------------------------


def _planted() -> CatalogueEntry:
    items = (
        DataItem("fullName", "姓名", "name", "general-1"),
        DataItem("gender", "性别", "code", "general-1"),
        DataItem("birthYear", "出生年份", "code", "general-1"),
        DataItem("street", "街道", "text", "general-1"),
    )
    return CatalogueEntry(
        code=PLANTED, name="居民抽样", abstract="门控测试：会识别个人的数据集。", provider="civil-affairs",
        classification=("测试",), format="api", items=items, sharing=SharingType.UNCONDITIONAL,
        opening=OpeningType.UNCONDITIONAL, update_cycle="monthly", published="2026-01-01",
        backing=Backing(entity_types=("PlantedResident",)),
    )  # fmt: skip


def test_the_gate_blocks_a_dataset_that_would_reidentify_people_until_its_policy_is_fixed(
    portal: Api, rt: Runtime, tmp_path: Path
) -> None:
    datahub.register_entry(rt, "default", _planted(), by="data-officer")
    for i in range(10):
        values = {"fullName": f"居民{i}", "gender": "男女"[i % 2], "birthYear": str(1950 + i), "street": f"{i}号街"}
        assert (
            portal.post("/ngsi-ld/v1/entities", json=_entity("PlantedResident", f"r{i}", **values)).status_code == 201
        )
    name = PLANTED.lower()
    blocked = portal.get(f"/opendata/datasets/{name}/records.csv", token=None)  # downloads pass the gate too
    assert blocked.status_code == 403 and "combination(s)" in blocked.json()["detail"], blocked.text
    message = _denied(_search(portal, name))
    assert "10 combination(s) of (gender, birthYear, street) shared by fewer than 5 records" in message
    assert "deidentify.yaml" in message and f"/opendata/releases/{name}/check" in message
    release = portal.get(f"/opendata/releases/{name}").json()
    assert not release["passed"] and release["offendingTotal"] == 10 and release["removed"][0] == "fullName"
    assert {"values": {"gender": "男", "birthYear": "1950", "street": "0号街"}, "count": 1} in release["offending"]

    fixed = tmp_path / "policy.yaml"
    shipped = Path(serving.policy_path()).read_text(encoding="utf-8")
    fixed.write_text(shipped.replace("entries:\n", f"entries:\n  {PLANTED}:\n    withhold: [birthYear, street]\n", 1),
                     encoding="utf-8")  # fmt: skip
    rt.settings.opendata_policy = fixed
    checked = portal.post(f"/opendata/releases/{name}/check")
    assert checked.status_code == 200 and checked.json()["passed"] and checked.json()["version"] == 2
    served = _search(portal, name, sort="gender asc")
    assert served.status_code == 200, served.text
    records = served.json()["result"]["records"]
    # no direct identifier leaves: the name is not an open column, the withheld items are empty
    assert len(records) == 10 and all("fullName" not in r and r["birthYear"] is None for r in records)
    assert [r["gender"] for r in records] == ["女"] * 5 + ["男"] * 5
    bad = _search(portal, name, filters='{"street": "0号街"}')
    assert bad.status_code == 409 and "de-identification policy" in bad.json()["error"]["filters"][0]


@pytest.mark.settings(rate_limit_public="2/minute")
def test_applying_is_rate_limited_per_address_as_the_public_reports_are(portal: Api) -> None:
    _apply(portal)
    _apply(portal)
    body = {"dataset": TRAFFIC, "kind": "person", "name": "某", "contact": "c", "purpose": "p", "scenario": "s"}
    r = portal.post("/opendata/applications", json=body, token=None)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_live_records_that_change_within_a_version_are_checked_again_on_the_schedule(portal: Api, rt: Runtime) -> None:
    """Ten residents share one combination: released. An eleventh with a combination of its own arrives within
    the same catalogue version: the release stands until the schedule's re-check, which blocks it."""
    datahub.register_entry(rt, "default", _planted(), by="data-officer")
    same = {"gender": "男", "birthYear": "1950", "street": "1号街"}
    for i in range(10):
        entity = _entity("PlantedResident", f"s{i}", fullName=f"居民{i}", **same)
        assert portal.post("/ngsi-ld/v1/entities", json=entity).status_code == 201
    name = PLANTED.lower()
    rt.settings.opendata_recheck_seconds = 0.5
    assert portal.get(f"/opendata/datasets/{name}/records.csv", token=None).status_code == 200
    first = portal.get(f"/opendata/releases/{name}").json()
    assert first["passed"] and first["version"] == 1 and first["records"] == 10

    time.sleep(0.6)  # due again, nothing changed: confirmed, no new release stored
    assert portal.get(f"/opendata/datasets/{name}/records.csv", token=None).status_code == 200
    assert portal.get(f"/opendata/releases/{name}").json()["version"] == 1

    lone = _entity("PlantedResident", "lone", fullName="独居老人", gender="女", birthYear="1931", street="9号街")
    assert portal.post("/ngsi-ld/v1/entities", json=lone).status_code == 201
    assert datahub.get_entry(rt, "default", PLANTED).version == first["entryVersion"]  # the same catalogue version
    time.sleep(0.6)
    blocked = portal.get(f"/opendata/datasets/{name}/records.csv", token=None)
    assert blocked.status_code == 403 and "1 combination(s)" in blocked.json()["detail"], blocked.text
    second = portal.get(f"/opendata/releases/{name}").json()
    assert not second["passed"] and second["version"] == 2 and second["entryVersion"] == first["entryVersion"]
    assert second["offending"] == [{"values": {"gender": "女", "birthYear": "1931", "street": "9号街"}, "count": 1}]
