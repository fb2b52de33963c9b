"""The source's conflict list (数据归集 · 冲突), on both databases: the latest value each department offered for a
record and item of public security's, beside what the registry holds, counted per item and per offering
department; gone once the source holds the offered value or a newer run of the offering department agrees;
over HTTP, a department sees only its own items' conflicts; the city sees them as its access shows them."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api
from samples import person_entry

from cityos import datahub
from cityos.auth.service import create_token
from cityos.datahub import DataItem, Reader, person_id, register_entry
from cityos.runtime import Runtime

T, PERSONS, MARRIAGES, STREET = "default", "HP-01-01-0001", "HP-11-03-0001", "HP-01-01-0004"
SOURCE, CIVIL, OFFICE = "public-security", "civil-affairs", "street-office"
A, B, C = "310101199001011234", "310101198502023458", "310101197003034561"
ADDRESS = {A: "上海市黄浦区南京东路123弄4号501室", B: "上海市黄浦区淮海中路88号", C: "上海市黄浦区复兴东路188弄17号"}
PEOPLE = [{"idCard": A, "name": "张伟", "registeredAddress": ADDRESS[A]},
          {"idCard": B, "name": "欧阳娜", "registeredAddress": ADDRESS[B]},
          {"idCard": C, "name": "李建国", "registeredAddress": ADDRESS[C]}]  # fmt: skip


def _entries(rt: Runtime) -> None:
    register_entry(rt, T, person_entry(), by="data-officer")
    marriage = (DataItem("partyA", "当事人身份号码", "id-card", "important", key="person.idCard", source=SOURCE),
                DataItem("partyAName", "当事人姓名", "name", "core", key="person.name", source=SOURCE),
                DataItem("maritalStatus", "婚姻状况", "code", "general-3", key="person.maritalStatus"))  # fmt: skip
    register_entry(rt, T, person_entry(code=MARRIAGES, provider=CIVIL, name="婚姻登记信息", items=marriage), by="d")
    street = (DataItem("idCard", "公民身份号码", "id-card", "important", key="person.idCard", source=SOURCE),
              DataItem("mobile", "联系电话", "mobile", "general-4", key="person.mobile", source=SOURCE),
              DataItem("registeredAddress", "户籍地址", "address", "general-3", key="person.registeredAddress",
                       source=SOURCE),
              DataItem("neighbourhood", "居委会", "text", "general-1", key="person.neighbourhood"))  # fmt: skip
    register_entry(rt, T, person_entry(code=STREET, provider=OFFICE, name="社区居民信息", items=street), by="d")


def _feed(rt: Runtime, department: str, code: str, records: list[dict[str, Any]]) -> datahub.FeedRun:
    return datahub.feed_and_settle(rt, T, code, department, records, by="t")


def _listed(found: datahub.ConflictList) -> set[tuple[str, str, str, Any, Any]]:
    return {(c.department, c.record, c.item, c.offered, c.held) for c in found.conflicts}


@pytest.fixture
def fed(rt: Runtime) -> Runtime:
    """Public security's three persons; civil affairs and the street office disagreeing on three values."""
    _entries(rt)
    _feed(rt, SOURCE, PERSONS, PEOPLE)
    _feed(rt, CIVIL, MARRIAGES, [{"partyA": A, "partyAName": "张玮", "maritalStatus": "已婚"},
                                 {"partyA": B, "partyAName": "欧阳娜", "maritalStatus": "未婚"}])  # fmt: skip
    _feed(rt, OFFICE, STREET, [
        {"idCard": A, "registeredAddress": "黄浦区南京东路123弄4号501室", "neighbourhood": "贵州"},
        {"idCard": C, "registeredAddress": "上海市黄浦区复兴东路188弄17号甲", "neighbourhood": "宁波"},
    ])  # fmt: skip
    return rt


def test_the_source_lists_the_latest_offered_values_counted_per_item_and_department(fed: Runtime) -> None:
    rt = fed
    found = datahub.open_conflicts(rt, T, SOURCE)
    assert _listed(found) == {
        (CIVIL, A, "name", "张玮", "张伟"),
        (OFFICE, A, "registeredAddress", "黄浦区南京东路123弄4号501室", ADDRESS[A]),
        (OFFICE, C, "registeredAddress", "上海市黄浦区复兴东路188弄17号甲", ADDRESS[C]),
    }
    assert found.total == 3 and found.by_item == {"registeredAddress": 2, "name": 1}
    assert found.by_department == {OFFICE: 2, CIVIL: 1}
    assert {(c.offered_as, c.code) for c in found.conflicts if c.department == CIVIL} == {("partyAName", MARRIAGES)}
    assert all(c.entity_id == person_id(rt, c.record) and c.source == SOURCE for c in found.conflicts)

    only = datahub.open_conflicts(rt, T, SOURCE, item="registeredAddress", department=OFFICE, limit=1)
    assert only.total == 2 and len(only.conflicts) == 1 and only.by_item == found.by_item  # the counts: all
    assert datahub.open_conflicts(rt, T, CIVIL).total == 0  # no one disagrees with civil affairs' items

    _feed(rt, CIVIL, MARRIAGES, [{"partyA": A, "partyAName": "张炜", "maritalStatus": "已婚"}])
    assert (CIVIL, A, "name", "张炜", "张伟") in _listed(datahub.open_conflicts(rt, T, SOURCE))  # the latest offer


def test_a_conflict_goes_once_the_source_takes_the_value_or_the_offering_department_agrees(fed: Runtime) -> None:
    rt = fed
    _feed(rt, SOURCE, PERSONS, [{**PEOPLE[2], "registeredAddress": "上海市黄浦区复兴东路188弄17号甲"}])
    _feed(rt, CIVIL, MARRIAGES, [{"partyA": A, "partyAName": "张伟", "maritalStatus": "已婚"}])
    assert _listed(datahub.open_conflicts(rt, T, SOURCE)) == {
        (OFFICE, A, "registeredAddress", "黄浦区南京东路123弄4号501室", ADDRESS[A])
    }
    # a run of the street office that leaves out the record settles nothing; one that agrees does
    _feed(rt, OFFICE, STREET, [{"idCard": C, "neighbourhood": "宁波"}])
    assert datahub.open_conflicts(rt, T, SOURCE).total == 1
    _feed(rt, OFFICE, STREET, [{"idCard": A, "registeredAddress": ADDRESS[A], "neighbourhood": "贵州"}])
    assert datahub.open_conflicts(rt, T, SOURCE) == datahub.ConflictList([], 0, {}, {})
    # disagreeing again opens it again
    _feed(rt, CIVIL, MARRIAGES, [{"partyA": A, "partyAName": "张玮", "maritalStatus": "已婚"}])
    assert _listed(datahub.open_conflicts(rt, T, SOURCE)) == {(CIVIL, A, "name", "张玮", "张伟")}


def test_the_city_sees_the_conflicts_as_its_access_shows_them(fed: Runtime) -> None:
    # the marriage entry ranks the party's name core data (核心数据): the city reads it masked
    seen = datahub.open_conflicts(fed, T, None, sight=Reader("duty", None, True))
    assert {(c.record, c.item, c.offered, c.held) for c in seen.conflicts} == {
        (A, "name", "张*", "张*"),
        (A, "registeredAddress", "黄浦区南京东路123弄4号501室", ADDRESS[A]),
        (C, "registeredAddress", "上海市黄浦区复兴东路188弄17号甲", ADDRESS[C]),
    }


def test_the_route_keeps_a_department_to_its_own_items(api: Api, fed: Runtime) -> None:
    rt = fed
    tokens = {d: create_token(rt.db, d, role="department", kind="department") for d in (SOURCE, CIVIL)}
    operator = create_token(rt.db, "duty-officer", role="operator", kind="staff")
    r = api.get("/datahub/feeds/conflicts", params={"item": "registeredAddress"}, token=tokens[SOURCE])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2 and body["byItem"] == {"registeredAddress": 2, "name": 1}
    assert {(c["record"], c["department"], c["offeredAs"]) for c in body["conflicts"]} == {
        (A, OFFICE, "registeredAddress"), (C, OFFICE, "registeredAddress")}  # fmt: skip
    assert api.get("/datahub/feeds/conflicts", token=tokens[CIVIL]).json()["total"] == 0
    r = api.get("/datahub/feeds/conflicts", params={"department": SOURCE}, token=tokens[CIVIL])
    assert r.status_code == 403 and r.json()["status"] == 403
    r = api.get("/datahub/feeds/conflicts", params={"department": SOURCE, "offeredBy": CIVIL}, token=operator)
    assert [(c["record"], c["offered"], c["held"]) for c in r.json()["conflicts"]] == [(A, "张*", "张*")]
    assert api.get("/datahub/feeds/conflicts", params={"limit": 0}, token=operator).status_code == 400
    # the source sees its own value, and another department's offer as its access to the offering entry shows
    # it (the source of an item reads it in any entry); every listing is a read of those records, audited with
    # the persons it names
    r = api.get("/datahub/feeds/conflicts", params={"offeredBy": CIVIL}, token=tokens[SOURCE])
    assert [(c["record"], c["held"], c["offered"]) for c in r.json()["conflicts"]] == [(A, "张伟", "张玮")]
    routes = {x.route for x in datahub.reads_of_subject(rt, "default", datahub.subject_hash(rt, A))}
    assert "GET /datahub/feeds/conflicts" in routes
