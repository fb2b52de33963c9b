"""Objections (数据异议纠错, issue 18 item 4) over HTTP, on both databases: a department objects to a value it
read and is refused one it never read; the objection goes to the item's one source; the record is flagged
disputed in dataset reads and NGSI-LD reads while it is open; the source takes it up and corrects it (the
record changes, every department that read it is told, on the bus and in its notices) or rejects it with a
reason; the table refuses other moves naming the allowed ones; an objection past its working-day time limit
is listed first, as overdue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from conftest import Api
from samples import person_entry

from cityos.auth.service import create_token
from cityos.bus import Event
from cityos.datahub import (
    Backing,
    get_entry,
    list_grants,
    move_grant,
    register_entry,
    request_grant,
    submit_objection,
)
from cityos.runtime import Runtime

CODE = "HP-01-01-0001"
RECORDS = f"/datahub/datasets/{CODE}/records"
SOURCE, READER, THIRD = "public-security", "civil-affairs", "housing"
SCENARIO = "低保资格核验"
ONE, TWO = "urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"
NOT_READ = "https://cityos.dev/problems/objection-value-not-read"
REFUSED = "https://cityos.dev/problems/objection-move-refused"


def _person(n: int, id_card: str, name: str, address: str) -> dict[str, Any]:
    values = {"idCard": id_card, "name": name, "registeredAddress": address}
    return {"id": f"urn:ngsi-ld:Person:{n}", "type": "Person",
            **{k: {"type": "Property", "value": v} for k, v in values.items()}}  # fmt: skip


@pytest.fixture
def tokens(api: Api, rt: Runtime) -> dict[str, str]:
    """The person entry (its records in the hub, kept by the source), a grant for civil affairs, and a read."""
    entry = dataclasses.replace(person_entry(), backing=Backing(entity_types=("Person",)))
    register_entry(rt, "default", entry, by="data-officer")
    made = {d: create_token(rt.db, d, role="department", kind="department") for d in (SOURCE, READER, THIRD)}
    made["operator"] = create_token(rt.db, "duty-officer", role="operator", kind="staff")
    people = [(1, "310101199001011234", "张伟", "上海市黄浦区南京东路123弄4号501室"),
              (2, "310101198502023456", "欧阳娜", "上海市黄浦区淮海中路88号")]  # fmt: skip
    for person in people:
        assert api.post("/ngsi-ld/v1/entities", json=_person(*person), token=made[SOURCE]).status_code == 201
    asked = request_grant(rt, "default", entry, READER, SCENARIO, "核对低保申请人户籍", "《社会救助暂行办法》",
                          ["idCard", "name", "registeredAddress"], None, datetime.now(UTC) + timedelta(days=30),
                          "general-3", "ca-officer")  # fmt: skip
    move_grant(rt, "default", entry, asked.grant.id, "approve", "ps-officer", SOURCE)
    r = api.get(RECORDS, params={"scenario": SCENARIO, "q": 'name=="张伟"'}, token=made[READER])
    assert r.status_code == 200 and [x["id"] for x in r.json()["records"]] == [ONE], r.text
    return made


def _object(api: Api, token: str, record: str = ONE, **changes: Any) -> Any:
    body = {"code": CODE, "recordId": record, "item": "registeredAddress",
            "evidence": "申请人提供的房产证和居住证明显示地址为南京东路123弄4号502室", **changes}  # fmt: skip
    return api.post("/datahub/objections", json=body, token=token)


def _move(api: Api, token: str, oid: str, action: str, **body: Any) -> Any:
    return api.post(f"/datahub/objections/{oid}/{action}", json=body, token=token)


def _read(api: Api, token: str) -> dict[str, Any]:
    r = api.get(RECORDS, params={"scenario": SCENARIO}, token=token)
    assert r.status_code == 200, r.text
    return {x["id"]: x for x in r.json()["records"]}


def test_an_objection_on_a_value_never_read_is_refused(api: Api, tokens: dict[str, str]) -> None:
    r = _object(api, tokens[READER], TWO)  # civil affairs read Person:1 only
    assert r.status_code == 403 and r.json()["type"] == NOT_READ, r.text
    assert "never read record urn:ngsi-ld:Person:2" in r.json()["detail"] and r.json()["recordId"] == TWO
    r = _object(api, tokens[THIRD])  # housing read nothing
    assert r.status_code == 403 and r.json()["type"] == NOT_READ
    r = _object(api, tokens[SOURCE])  # the source corrects its own values
    assert r.status_code == 400 and "is the source" in r.json()["detail"], r.text
    r = _object(api, tokens[READER], item="religion")
    assert r.status_code == 400 and "registeredAddress" in r.json()["detail"]
    r = _object(api, tokens["operator"])
    assert r.status_code == 403  # the city objects through a department


def test_an_objection_needs_the_item_readable_now(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    # civil affairs read Person:1, then its grant was revoked: it may not object, nor learn the value by trying
    (held,) = list_grants(rt, "default", department=READER)
    entry = get_entry(rt, "default", CODE)
    move_grant(rt, "default", entry, held.grant.id, "revoke", "ps-officer", SOURCE, "情形已变化")
    r = _object(api, tokens[READER])
    assert r.status_code == 403 and r.json()["type"] == NOT_READ and "may not read" in r.json()["detail"], r.text
    assert "501室" not in r.text


def test_the_life_of_an_objection_corrected_at_its_source(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    seen: list[Event] = []
    rt.bus.subscribe("datahub.objection.*", seen.append)
    r = _object(api, tokens[READER], proposedValue="上海市黄浦区南京东路123弄4号502室")
    assert r.status_code == 201, r.text
    o = r.json()
    assert r.headers["Location"] == f"/datahub/objections/{o['id']}"
    assert (o["state"], o["stateZh"], o["source"], o["objector"]) == ("submitted", "已提交", SOURCE, READER)
    # the objector sees the value it objects to as its grant shows it: masked, never more than it read
    assert o["value"] == "上海市黄浦区南京东路****" and o["overdue"] is False and o["readSeq"] >= 1
    assert "123弄4号501室" not in r.text
    held = api.get(f"/datahub/objections/{o['id']}", token=tokens[SOURCE]).json()
    assert held["value"] == "上海市黄浦区南京东路123弄4号501室"  # the source sees its own value as held
    assert datetime.fromisoformat(o["dueAt"]) - datetime.fromisoformat(o["createdAt"]) >= timedelta(days=5)
    assert o["allowedMoves"] == ["accept", "reject", "withdraw"]
    assert _object(api, tokens[READER]).status_code == 409  # one open objection per department and item

    # disputed wherever the record is read: dataset reads (the reader's and the source's) and NGSI-LD reads
    for token in (tokens[READER], tokens[SOURCE]):
        records = _read(api, token)
        assert records[ONE]["disputed"] == ["registeredAddress"] and "disputed" not in records[TWO]
    headers = {"Cityos-Scenario": quote(SCENARIO)}
    ld = api.get(f"/ngsi-ld/v1/entities/{ONE}", headers=headers, token=tokens[READER]).json()
    assert ld["registeredAddress"]["disputed"] == {"type": "Property", "value": [o["id"]]}
    assert "disputed" not in ld["name"]

    # the objector does not decide; the table names the allowed moves; a third department sees nothing
    assert _move(api, tokens[READER], o["id"], "accept").status_code == 403
    r = _move(api, tokens[SOURCE], o["id"], "correct", value="x")
    assert r.status_code == 409 and r.json()["type"] == REFUSED and r.json()["allowed"] == ["accept", "reject",
                                                                                             "withdraw"]  # fmt: skip
    assert api.get(f"/datahub/objections/{o['id']}", token=tokens[THIRD]).status_code == 404

    r = _move(api, tokens[SOURCE], o["id"], "accept")
    assert r.status_code == 200 and r.json()["state"] == "verifying", r.text
    r = _move(api, tokens[SOURCE], o["id"], "correct")  # the value the objector proposed
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "corrected" and done["correctedValue"] == "上海市黄浦区南京东路123弄4号502室"
    assert done["notified"] == [READER] and done["closedAt"] and done["allowedMoves"] == []
    assert [h["action"] for h in done["history"]] == ["submit", "accept", "correct"]

    # the record holds the corrected value, the flag is gone, the reader is told
    records = _read(api, tokens[READER])
    assert "disputed" not in records[ONE]
    whole = api.get(f"/ngsi-ld/v1/entities/{ONE}", params={"options": "keyValues"}, token=tokens[SOURCE]).json()
    assert whole["registeredAddress"] == "上海市黄浦区南京东路123弄4号502室"
    r = api.get("/datahub/objection-notices", token=tokens[READER])
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "1", r.text
    notice = r.json()[0]
    # masked by the item's kind: a department re-reads the record to see the new value as its grant shows it
    assert (notice["objectionId"], notice["before"], notice["after"]) == (
        o["id"], "上海市黄浦区南京东路****", "上海市黄浦区南京东路****")  # fmt: skip
    assert "弄4号50" not in r.text
    assert api.get("/datahub/objection-notices", token=tokens[THIRD]).json() == []
    corrected = [e for e in seen if e.subject == "datahub.objection.corrected"]
    assert len(corrected) == 1 and corrected[0].data["notified"] == [READER]
    assert [e.subject for e in seen][:2] == ["datahub.objection.submitted", "datahub.objection.verifying"]


def test_rejected_withdrawn_and_overdue_objections(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    o = _object(api, tokens[READER]).json()
    r = _move(api, tokens[SOURCE], o["id"], "reject")
    assert r.status_code == 400 and r.json()["field"] == "reason", r.text
    r = _move(api, tokens[SOURCE], o["id"], "reject", reason="经核查户籍登记原始档案，地址无误")
    assert r.status_code == 200 and r.json()["state"] == "rejected" and r.json()["reason"].startswith("经核查")
    assert "disputed" not in _read(api, tokens[READER])[ONE]
    assert api.get(f"/datahub/objections/{o['id']}", token=tokens[READER]).json()["stateZh"] == "已驳回"

    o2 = _object(api, tokens[READER], item="name").json()
    assert _move(api, tokens[SOURCE], o2["id"], "withdraw").status_code == 403  # the objector's move
    assert _move(api, tokens[READER], o2["id"], "withdraw").json()["state"] == "withdrawn"

    # an objection made a month ago and never taken up is past its time limit: overdue, listed first
    old = submit_objection(rt, "default", CODE, ONE, "idCard", "身份证号码校验位与出生日期不符", READER, "ca-officer",
                           now=datetime.now(UTC) - timedelta(days=30))  # fmt: skip
    r = api.get("/datahub/objections", params={"as": "source"}, token=tokens[SOURCE])
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "3", r.text
    assert r.json()[0]["id"] == old.id and r.json()[0]["overdue"] is True
    r = api.get("/datahub/objections", params={"overdue": "true"}, token=tokens["operator"])
    assert [x["id"] for x in r.json()] == [old.id] and r.headers["X-Total-Count"] == "1"
    r = api.get("/datahub/objections", params={"state": "withdrawn", "as": "objector"}, token=tokens[READER])
    assert [x["id"] for x in r.json()] == [o2["id"]]
    assert api.get("/datahub/objections", token=tokens[THIRD]).json() == []
    r = api.get("/datahub/objections", params={"department": READER}, token=tokens[THIRD])
    assert r.status_code == 403
    # the city may decide in the source's stead
    r = _move(api, tokens["operator"], old.id, "reject", reason="逾期未核实，转市级复核")
    assert r.status_code == 200 and r.json()["overdue"] is False
