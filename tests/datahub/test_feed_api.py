"""Feeds into the persons base registry (数据归集, issue 18 items 1 and 2) over HTTP, on both databases: the
source's values are applied to the Person entities (ids keyed hashes, never the ID number); another
department's disagreeing value is recorded as a conflict and not applied, an agreeing one is fine; a
malformed record is rejected with its index and reason while the rest goes on; a rerun reports every record
unchanged; runs are read back with their conflicts, a department seeing only its own."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api, wait_for
from samples import person_entry

from cityos import context as hub
from cityos.auth.service import create_token
from cityos.datahub import DataItem, Rejection, person_id, register_entry, run_feed
from cityos.runtime import Runtime

PERSONS, MARRIAGES = "HP-01-01-0001", "HP-11-03-0001"
SOURCE, CIVIL = "public-security", "civil-affairs"
A, B, C = "310101199001011234", "310101198502023458", "310101197003034561"
PEOPLE = [{"idCard": A, "name": "张伟", "registeredAddress": "上海市黄浦区南京东路123弄4号501室"},
          {"idCard": B, "name": "欧阳娜", "registeredAddress": "上海市黄浦区淮海中路88号"},
          {"idCard": C, "name": "李建国", "registeredAddress": "上海市黄浦区复兴东路188弄17号"}]  # fmt: skip


def marriage_entry() -> Any:
    items = (DataItem("idCard", "公民身份号码", "id-card", "important", key="person.idCard", source=SOURCE),
             DataItem("name", "姓名", "name", "general-3", key="person.name", source=SOURCE),
             DataItem("maritalStatus", "婚姻状况", "code", "general-3", key="person.maritalStatus"))  # fmt: skip
    return person_entry(code=MARRIAGES, provider=CIVIL, name="婚姻登记信息", items=items)


@pytest.fixture
def tokens(api: Api, rt: Runtime) -> dict[str, str]:
    register_entry(rt, "default", person_entry(), by="data-officer")
    register_entry(rt, "default", marriage_entry(), by="data-officer")
    made = {d: create_token(rt.db, d, role="department", kind="department") for d in (SOURCE, CIVIL)}
    made["operator"] = create_token(rt.db, "duty-officer", role="operator", kind="staff")
    return made


def _push(api: Api, token: str, code: str, records: list[Any]) -> dict[str, Any]:
    r = api.post(f"/datahub/feeds/{code}/records", json={"records": records}, token=token)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _values(rt: Runtime, id_card: str) -> dict[str, Any]:
    row = hub.get_entity(rt, "default", person_id(rt, id_card))
    return {iri.rsplit("/", 1)[-1]: inst[0]["value"] for iri, inst in row.attrs.items()}


def _counts(report: dict[str, Any]) -> tuple[int, ...]:
    return tuple(report[k] for k in ("records", "new", "changed", "unchanged", "conflicting", "rejected"))


def test_a_feed_applies_the_sources_values_records_conflicts_and_rejects_bad_records(
    api: Api, rt: Runtime, tokens: dict[str, str]
) -> None:
    bad_check = {**PEOPLE[1], "idCard": B[:-1] + "9"}
    batch = [PEOPLE[0], bad_check, PEOPLE[1], {"name": "无名"}, "not a record", PEOPLE[2]]
    report = _push(api, tokens[SOURCE], PERSONS, batch)
    assert _counts(report) == (6, 3, 0, 0, 0, 3)
    assert [(x["line"], x["reason"][:41]) for x in report["rejections"]] == [
        (1, "idCard: check digit should be 8, found 9"),
        (3, "no record key: idCard (the ID number) is "),
        (4, "a record is an object of item names and v"),
    ]
    assert _values(rt, A) == {"idCard": A, "name": "张伟", "registeredAddress": PEOPLE[0]["registeredAddress"]}
    assert A not in person_id(rt, A) and person_id(rt, A).startswith("urn:ngsi-ld:Person:")

    offered = [{"idCard": A, "name": "张玮", "maritalStatus": "已婚"},  # disagrees with the source's name
               {"idCard": B, "name": "欧阳娜", "maritalStatus": "未婚"},  # agrees: fine
               {"idCard": C, "maritalStatus": "丧偶"}]  # fmt: skip
    report = _push(api, tokens[CIVIL], MARRIAGES, offered)
    assert _counts(report) == (3, 0, 2, 0, 1, 0)
    assert report["conflicts"] == [{"record": A, "entityId": person_id(rt, A), "item": "name", "source": SOURCE,
                                    "offered": "张玮"}]  # fmt: skip
    assert _values(rt, A)["name"] == "张伟" and _values(rt, A)["maritalStatus"] == "已婚"  # its own item applied
    assert _values(rt, B)["maritalStatus"] == "未婚"
    assert hub.get_entity(rt, "default", person_id(rt, A)).owner == SOURCE  # kept by the source of its key

    changed = [{**PEOPLE[0], "registeredAddress": "上海市黄浦区南京东路123弄4号502室"}]
    assert _counts(_push(api, tokens[SOURCE], PERSONS, changed)) == (1, 0, 1, 0, 0, 0)
    assert _values(rt, A)["registeredAddress"].endswith("502室")


def test_a_rerun_reports_every_record_unchanged(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    first = _push(api, tokens[SOURCE], PERSONS, PEOPLE)
    before = {p["idCard"]: _values(rt, p["idCard"]) for p in PEOPLE}
    again = _push(api, tokens[SOURCE], PERSONS, PEOPLE)
    assert _counts(first) == (3, 3, 0, 0, 0, 0) and _counts(again) == (3, 0, 0, 3, 0, 0)
    assert {p["idCard"]: _values(rt, p["idCard"]) for p in PEOPLE} == before


def test_runs_are_read_back_each_department_its_own(api: Api, tokens: dict[str, str]) -> None:
    ps = _push(api, tokens[SOURCE], PERSONS, PEOPLE)
    ca = _push(api, tokens[CIVIL], MARRIAGES, [{"idCard": A, "name": "张玮"}])
    r = api.get("/datahub/feeds/runs", token=tokens[CIVIL])
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [ca["id"]] and r.headers["X-Total-Count"] == "1"
    r = api.get("/datahub/feeds/runs", token=tokens["operator"])
    assert {x["id"] for x in r.json()} == {ps["id"], ca["id"]} and r.json()[0]["conflicts"] is None
    r = api.get(f"/datahub/feeds/runs/{ca['id']}", token=tokens["operator"])
    assert r.status_code == 200 and r.json()["conflicts"][0]["offered"] == "张玮"
    assert api.get(f"/datahub/feeds/runs/{ps['id']}", token=tokens[CIVIL]).status_code == 404
    assert api.get("/datahub/feeds/runs", params={"department": SOURCE}, token=tokens[CIVIL]).status_code == 403


def test_what_a_feed_refuses(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    body = {"records": PEOPLE}
    assert api.post(f"/datahub/feeds/{PERSONS}/records", json=body, token=tokens["operator"]).status_code == 403
    r = api.post("/datahub/feeds/HP-99-99-0001/records", json=body, token=tokens[SOURCE])
    assert r.status_code == 404
    register_entry(rt, "default", person_entry(code="HP-01-09-0001", items=(
        DataItem("street", "街道", "code", "general-1"),)), by="data-officer")  # fmt: skip
    r = api.post("/datahub/feeds/HP-01-09-0001/records", json=body, token=tokens[SOURCE])
    assert r.status_code == 422 and r.json()["type"].endswith("/invalid-feed"), r.text
    assert api.post(f"/datahub/feeds/{PERSONS}/records", json={"records": []}, token=tokens[SOURCE]).status_code == 400
    assert api.get("/datahub/feeds/runs/nope", token=tokens[SOURCE]).status_code == 404


def test_only_a_source_feeds_an_entry(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    # civil affairs is the source of no item of the persons entry: its feed could only test guesses of other
    # sources' values (each a conflict or not) and make registry entries, so it is refused whole
    r = api.post(f"/datahub/feeds/{PERSONS}/records", json={"records": PEOPLE}, token=tokens[CIVIL])
    assert r.status_code == 403 and r.json()["type"].endswith("/not-a-source"), r.text
    assert "public-security" in r.json()["detail"]
    assert api.get("/datahub/feeds/runs", token=tokens[CIVIL]).json() == []


def test_a_value_holding_a_nul_is_rejected_with_its_line_and_the_rest_goes_on(
    rt: Runtime, tokens: dict[str, str]
) -> None:
    # the API refuses such a body whole (400); a file fed by the CLI reaches the feed with it
    records = [PEOPLE[0], {**PEOPLE[1], "name": "欧阳\x00娜"}, PEOPLE[2]]
    run = run_feed(rt, "default", PERSONS, SOURCE, records, by="cli:public-security", lines=[2, 3, 4])
    assert (run.records, run.new, run.rejected) == (3, 2, 1)
    assert run.rejections == (Rejection(3, B, "name: holds the character U+0000 (NUL), which cannot be stored: "
                                              "remove it"),)  # fmt: skip
    assert _values(rt, C)["name"] == "李建国"


def test_the_quality_run_of_a_feed_is_pending_then_done_and_linked(api: Api, tokens: dict[str, str]) -> None:
    report = _push(api, tokens[SOURCE], PERSONS, PEOPLE)
    assert (report["quality"], report["qualityRun"]) == ("pending", None)  # made after the feed's commit

    def checked() -> dict[str, Any] | None:
        run = api.get(f"/datahub/feeds/runs/{report['id']}", token=tokens[SOURCE]).json()
        return run if run["quality"] != "pending" else None

    run = wait_for(checked)
    assert (run["quality"], run["qualityTakenUp"]) == ("done", None)  # made by the process that took the feed
    quality = api.get(f"/datahub/quality/runs/{run['qualityRun']}", token=tokens[SOURCE]).json()
    assert (quality["feedRun"], quality["records"], quality["trigger"]) == (report["id"], 3, "feed")
    # an entry without quality rules has no quality run to wait for
    other = _push(api, tokens[CIVIL], MARRIAGES, [{"idCard": A, "maritalStatus": "已婚"}])
    assert (other["quality"], other["qualityRun"]) == (None, None)
