"""A citizen and an enterprise on the one-stop portal (issue 20 item 6, issue 18 item 4), on both databases: the
demo identity provider is off unless demo mode or its setting turns it on, refuses a wrong code, a malformed or
unknown ID number with a clear 4xx, and logs a registry's person or enterprise in as a principal carrying its
subject; a citizen reads who used its own data (a department's read through its grant, newest first, paged; the
lookup itself audited) and never another person's; its objection to a value of its own record reaches the
item's source department's queue, and it follows the source's answer."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from conftest import Api

from cityos import datahub
from cityos.auth.service import create_token
from cityos.core.identifiers import credit_check_character, id_check_character
from cityos.datahub import Backing, CatalogueEntry, DataItem, OpeningType, SharingType
from cityos.runtime import Runtime

CODE = "HP-01-01-0001"
SOURCE, READER = "public-security", "civil-affairs"
SCENARIO = "低保资格核验"
LOGIN = "/onestop/login/demo"
DEMO_ON = pytest.mark.settings(onestop_demo_login=True)


def id_number(birth: date, sequence: int) -> str:
    first17 = f"310101{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_character(first17)


ZHANG = id_number(date(1990, 1, 1), 901)
OUYANG = id_number(date(1985, 2, 2), 902)
NOBODY = id_number(date(1970, 3, 3), 903)  # valid in form, in no registry
ONE, TWO = "urn:ngsi-ld:Person:citizen-1", "urn:ngsi-ld:Person:citizen-2"
COMPANY = "91310101CY0000001" + credit_check_character("91310101CY0000001")


def person_entry() -> CatalogueEntry:
    return CatalogueEntry(
        code=CODE, name="户籍人口基本信息", abstract="本区户籍人口的身份证号、姓名、户籍地址等基本信息。",
        provider=SOURCE, classification=("基础信息", "人口", "户籍"), format="database",
        items=(DataItem("idCard", "身份证号", "id-card", "important", key="person.idCard"),
               DataItem("name", "姓名", "name", "general-3", key="person.name"),
               DataItem("registeredAddress", "户籍地址", "address", "general-3", key="person.registeredAddress")),
        sharing=SharingType.CONDITIONAL, opening=OpeningType.NONE, update_cycle="daily", published="2024-03-01",
        sharing_conditions="经授权用于本区公共服务和社会治理场景", sharing_method="api",
        backing=Backing(entity_types=("Person",)),
    )  # fmt: skip


def _entity(eid: str, kind: str, values: dict[str, str]) -> dict[str, Any]:
    return {"id": eid, "type": kind, **{k: {"type": "Property", "value": v} for k, v in values.items()}}


@pytest.fixture
def hub(api: Api, rt: Runtime) -> dict[str, str]:
    """The person entry, two persons and an enterprise in the hub, civil affairs' grant; department tokens."""
    entry = person_entry()
    datahub.register_entry(rt, "default", entry, by="data-officer")
    made = {d: create_token(rt.db, d, role="department", kind="department") for d in (SOURCE, READER)}
    people = [(ONE, ZHANG, "张伟", "上海市黄浦区南京东路123弄4号501室"),
              (TWO, OUYANG, "欧阳娜", "上海市黄浦区淮海中路88号")]  # fmt: skip
    for eid, key, name, address in people:
        body = _entity(eid, "Person", {"idCard": key, "name": name, "registeredAddress": address})
        assert api.post("/ngsi-ld/v1/entities", json=body, token=made[SOURCE]).status_code == 201
    firm = {"creditCode": COMPANY, "name": "申江餐饮管理有限公司"}
    company = _entity(f"urn:ngsi-ld:Organization:{COMPANY}", "Organization", firm)
    assert api.post("/ngsi-ld/v1/entities", json=company).status_code == 201
    asked = datahub.request_grant(rt, "default", entry, READER, SCENARIO, "核对低保申请人户籍", "《社会救助暂行办法》",
                                  ["idCard", "name", "registeredAddress"], None,
                                  datetime.now(UTC) + timedelta(days=30), "general-3", "ca-officer")  # fmt: skip
    datahub.move_grant(rt, "default", entry, asked.grant.id, "approve", "ps-officer", SOURCE)
    return made


def _read_zhang(api: Api, token: str) -> None:
    r = api.get(f"/datahub/datasets/{CODE}/records", params={"scenario": SCENARIO, "q": 'name=="张伟"'}, token=token)
    assert r.status_code == 200 and [x["id"] for x in r.json()["records"]] == [ONE], r.text


def _login(api: Api, key: str, code: str = "123456") -> Any:
    return api.post(LOGIN, json={"subject": key, "code": code}, token=None)


def _token(api: Api, key: str) -> str:
    r = _login(api, key)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def test_the_demo_login_is_off_outside_demo_mode(api: Api, hub: dict[str, str]) -> None:
    r = _login(api, ZHANG)
    assert r.status_code == 404 and r.json()["type"].endswith("/onestop-demo-login-off"), r.text
    assert "CITYOS_ONESTOP_DEMO_LOGIN" in r.json()["detail"]
    listed = api.get("/onestop/login/demo/subjects", token=None).json()
    assert listed == {"enabled": False, "subjects": []}


@DEMO_ON
def test_the_demo_login_logs_a_registry_person_and_enterprise_in(api: Api, hub: dict[str, str]) -> None:
    assert _login(api, ZHANG, "654321").status_code == 401
    bad = _login(api, ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1"))  # the check character wrong
    assert bad.status_code == 400 and "check" in bad.json()["detail"], bad.text
    unknown = _login(api, NOBODY)
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("/onestop-unknown-subject"), unknown.text
    assert _login(api, "12345").status_code == 400  # not 18 characters: the body's shape

    r = _login(api, ZHANG.lower())
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.text
    body = r.json()
    assert body["subject"] == {"kind": "person", "key": ZHANG, "entityId": ONE, "name": "张伟"}
    assert body["principal"]["role"] == "citizen" and body["principal"]["kind"] == "citizen"
    assert ZHANG not in body["principal"]["name"]  # the audit chain records the name: never the ID number
    allowed = body["principal"]["permissions"]
    assert "usage:read-own" in allowed and "datasets:read" not in allowed
    me = api.get("/auth/me", token=body["token"]).json()
    assert me["displayName"] == "张伟" and me["tenant"] == "default"
    again = _login(api, ZHANG).json()
    assert again["principal"]["name"] == body["principal"]["name"] and again["token"] != body["token"]

    firm = _login(api, COMPANY).json()
    assert firm["subject"]["kind"] == "enterprise" and firm["principal"]["role"] == "enterprise"
    assert firm["subject"]["entityId"] == f"urn:ngsi-ld:Organization:{COMPANY}"
    listed = api.get("/onestop/login/demo/subjects", token=None).json()
    assert listed["enabled"] and {s["key"] for s in listed["subjects"]} == {ZHANG, OUYANG, COMPANY}


@DEMO_ON
def test_a_citizen_sees_who_used_its_own_data_and_never_anothers(api: Api, rt: Runtime, hub: dict[str, str]) -> None:
    zhang, ouyang = _token(api, ZHANG), _token(api, OUYANG)
    assert api.get("/onestop/me/usage", token=zhang).json() == {"reads": [], "nextBefore": None}
    _read_zhang(api, hub[READER])
    _read_zhang(api, hub[READER])
    r = api.get("/onestop/me/usage", token=zhang)
    assert r.status_code == 200, r.text
    reads = r.json()["reads"]
    assert len(reads) == 2 and reads[0]["seq"] > reads[1]["seq"]  # newest first
    first = reads[0]
    assert first["department"] == READER and first["scenario"] == SCENARIO and first["code"] == CODE
    assert first["entry"] == "户籍人口基本信息" and first["items"] == ["idCard", "name", "registeredAddress"]
    assert first["grant"] and first["purpose"] == "核对低保申请人户籍"
    paged = api.get("/onestop/me/usage", params={"limit": 1}, token=zhang).json()
    assert [u["seq"] for u in paged["reads"]] == [first["seq"]] and paged["nextBefore"] == first["seq"]
    older = api.get("/onestop/me/usage", params={"limit": 1, "before": paged["nextBefore"]}, token=zhang).json()
    assert [u["seq"] for u in older["reads"]] == [reads[1]["seq"]] and older["nextBefore"] is None
    # the other citizen's data was never read: its own list is empty, whatever it sends
    assert api.get("/onestop/me/usage", token=ouyang).json()["reads"] == []
    assert api.get("/onestop/me/usage", params={"subject": ZHANG}, token=ouyang).json()["reads"] == []
    # the citizen has no way to the service counter's lookup, nor to the departments' data
    for path in ("/datahub/usage?subject=" + ZHANG, f"/datahub/datasets/{CODE}/records", "/datahub/objections",
                 "/ngsi-ld/v1/entities?type=Person", "/cases"):  # fmt: skip
        assert api.get(path, token=zhang).status_code == 403, path
    # each look is in the audit chain, by the citizen, for its own subject (its keyed hash)
    name = api.get("/auth/me", token=zhang).json()["name"]
    assert datahub.reads_of_subject(rt, "default", datahub.subject_hash(rt, ZHANG))[0].principal == READER
    view = api.get("/datahub/audit", params={"route": "GET /datahub/usage"})
    assert view.status_code == 200, view.text
    assert any(rec["principal"] == name for rec in view.json()), view.text
    # an operator's token has no subject: the routes say so
    assert api.get("/onestop/me/usage").json()["type"].endswith("/onestop-not-a-subject")


@DEMO_ON
def test_an_objection_of_the_person_reaches_the_source_and_its_answer_comes_back(
    api: Api, rt: Runtime, hub: dict[str, str]
) -> None:
    zhang, ouyang = _token(api, ZHANG), _token(api, OUYANG)
    record = api.get("/onestop/me/record", token=zhang).json()
    assert record["entityId"] == ONE
    held = {(v["code"], v["item"], v["value"]) for v in record["values"]}
    assert (CODE, "registeredAddress", "上海市黄浦区南京东路123弄4号501室") in held
    body = {"code": CODE, "item": "registeredAddress", "evidence": "房产证所载门牌为502室，户籍登记误为501室",
            "proposed": "上海市黄浦区南京东路123弄4号502室"}  # fmt: skip
    r = api.post("/onestop/me/objections", json=body, token=zhang)
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["state"] == "submitted" and mine["source"] == SOURCE and mine["value"].endswith("501室")
    assert api.post("/onestop/me/objections", json=body, token=zhang).status_code == 409  # one open per value
    empty = {**body, "evidence": "   "}
    assert api.post("/onestop/me/objections", json=empty, token=ouyang).status_code == 400
    assert api.post("/onestop/me/objections", json={**body, "item": "shoeSize"}, token=ouyang).status_code == 400

    # in the source department's queue, the person as the objector
    queue = api.get("/datahub/objections", params={"as": "source"}, token=hub[SOURCE])
    assert queue.status_code == 200, queue.text
    (held,) = queue.json()
    assert held["id"] == mine["id"] and held["objector"].startswith("citizen:") and held["recordId"] == ONE
    # only the person's own objections, never another's
    assert api.get("/onestop/me/objections", token=ouyang).json() == {"objections": [], "total": 0}
    # a record that is not the subject's is refused by the data hub itself
    with pytest.raises(datahub.NotOwnRecord):
        datahub.submit_subject_objection(rt, "default", CODE, TWO, "name", "not mine", subject=ZHANG,
                                         objector=held["objector"])  # fmt: skip

    for action, extra in (("accept", {}), ("correct", {})):
        moved = api.post(f"/datahub/objections/{mine['id']}/{action}", json=extra, token=hub[SOURCE])
        assert moved.status_code == 200, moved.text
    listed = api.get("/onestop/me/objections", token=zhang).json()
    assert listed["total"] == 1
    (answer,) = listed["objections"]
    assert answer["state"] == "corrected" and answer["corrected"] == body["proposed"]
    assert [h["action"] for h in answer["history"]] == ["submit", "accept", "correct"]
    after = api.get("/onestop/me/record", token=zhang).json()
    assert any(v["item"] == "registeredAddress" and v["value"] == body["proposed"] for v in after["values"])


def test_a_citizen_principal_carries_its_subject(rt: Runtime) -> None:
    from cityos.auth import Subject, sign_in_subject

    subject = Subject("person", ZHANG, ONE)
    _, _, principal = sign_in_subject(rt.db, "citizen:one", subject, tenant="default", display_name="张伟", minutes=5)
    assert principal.subject == subject and principal.role == "citizen" and principal.tenant == "default"
    assert principal.department is None and not principal.can("datasets:read") and principal.can("usage:read-own")
    with pytest.raises(Exception, match="another person"):
        sign_in_subject(rt.db, "citizen:one", dataclasses.replace(subject, key=OUYANG), tenant="default")
