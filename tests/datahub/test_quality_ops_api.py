"""Data quality as operations (issue 18 item 3) over HTTP on both databases: runs started by a person over the
dataset's records as the data hub reads them, after each feed run over the run's records (linked to it), and on
the schedule with timeliness measured from the run's time; references resolved by catalogue code (an entry fed
into the persons registry read from its Person entities, so accuracy compares with the registry); each
department sees its own datasets' quality, operators and the big-data centre all; failing records masked for the
reader; scores per dataset and per department; bad input answered with problem documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Api, wait_for
from samples import lights_entry, person_entry

from cityos.auth.service import create_token
from cityos.datahub import Backing, DataItem, QualityOrigin, RuleSet, register_entry, run_quality
from cityos.datahub import quality_scores as scores
from cityos.datahub import run_due_quality as run_due
from cityos.datahub.quality_keeper import QualitySchedule
from cityos.runtime import Runtime

PERSONS, MARRIAGE, INSURED = "HP-01-01-0001", "HP-11-03-0002", "HP-16-01-0002"
SOURCE, CIVIL, HR, CENTRE = "public-security", "civil-affairs", "human-resources", "big-data"
A, B, C = "310101199001011234", "310101198502023458", "310101197003034561"
NOW = datetime.now(UTC).replace(microsecond=0)
FRESH = (NOW - timedelta(days=10)).isoformat()


def _item(name: str, zh: str, kind: str, level: str = "general-3", source: str | None = None) -> DataItem:
    return DataItem(name, zh, kind, level, key=f"person.{name}", source=source)


def persons_entry() -> Any:
    items = (_item("idCard", "身份证号", "id-card", "important"), _item("name", "姓名", "name"),
             _item("gender", "性别", "code"), _item("birthDate", "出生日期", "date"),
             _item("mobile", "手机号码", "mobile"), _item("registeredAddress", "户籍地址", "address"),
             _item("updatedAt", "更新时间", "date", "general-1"))  # fmt: skip
    return person_entry(items=items, backing=Backing(entity_types=("Person",)))


def fed_entry(code: str, provider: str, name: str, own: tuple[DataItem, ...]) -> Any:
    """An entry of the persons registry's items, backed by no entities: its records are read from the registry."""
    items = (_item("idCard", "身份证号", "id-card", "important", SOURCE), _item("name", "姓名", "name", source=SOURCE))
    return person_entry(code=code, provider=provider, name=name, items=items + own)


def person(id_card: str, name: str, gender: str, birth: str, mobile: str | None) -> dict[str, Any]:
    record = {"idCard": id_card, "name": name, "gender": gender, "birthDate": birth, "updatedAt": FRESH,
              "registeredAddress": "上海市黄浦区南京东路123弄4号", "maritalStatus": "已婚"}  # fmt: skip
    return record if mobile is None else {**record, "mobile": mobile}


PEOPLE = [person(A, "张伟", "男", "1990-01-01", "13912345678"), person(B, "欧阳娜", "女", "1985-02-02", None),
          person(C, "李建国", "男", "1970-03-03", "1234")]  # fmt: skip
BAD_CARD = A[:-1] + "9"


@pytest.fixture
def tokens(api: Api, rt: Runtime) -> dict[str, str]:
    register_entry(rt, "default", persons_entry(), by="data-officer")
    marital = _item("maritalStatus", "婚姻状况", "code")
    register_entry(rt, "default", fed_entry(MARRIAGE, CIVIL, "婚姻状况信息", (marital,)), by="data-officer")
    made = {d: create_token(rt.db, d, role="department", kind="department") for d in (SOURCE, CIVIL, HR, CENTRE)}
    made["operator"] = create_token(rt.db, "duty-officer", role="operator", kind="staff")
    return made


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _push(api: Api, token: str, code: str, records: list[Any]) -> dict[str, Any]:
    """Push a feed and wait for its quality run, made in the background after the feed's commit (so that the next
    feed's records are not in this one's references)."""
    fed = dict(_ok(api.post(f"/datahub/feeds/{code}/records", json={"records": records}, token=token)))
    assert fed["quality"] == "pending" and fed["qualityRun"] is None
    run = wait_for(lambda: _checked(api, token, fed["id"]), what=lambda: api.get(f"/datahub/feeds/runs/{fed['id']}",
                                                                                 token=token).json())  # fmt: skip
    assert run["quality"] == "done", run
    return fed


def _checked(api: Api, token: str, run_id: str) -> dict[str, Any] | None:
    run = dict(_ok(api.get(f"/datahub/feeds/runs/{run_id}", token=token)))
    return run if run["quality"] != "pending" else None


def _quality_of_feed(api: Api, token: str, feed: dict[str, Any]) -> dict[str, Any]:
    (listed,) = _ok(api.get("/datahub/quality/runs", params={"feedRun": feed["id"]}, token=token))
    # the feed run links its quality run once done
    assert _ok(api.get(f"/datahub/feeds/runs/{feed['id']}", token=token))["qualityRun"] == listed["id"]
    return dict(_ok(api.get(f"/datahub/quality/runs/{listed['id']}", token=token)))


def _results(run: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {r["rule"]: (r["checked"], r["failed"]) for r in run["results"]}


def test_a_feed_run_is_checked_by_its_entrys_rules_and_linked_to_it(api: Api, tokens: dict[str, str]) -> None:
    feed = _push(api, tokens[SOURCE], PERSONS, [*PEOPLE, {**PEOPLE[0], "idCard": BAD_CARD}])
    run = _quality_of_feed(api, tokens[SOURCE], feed)
    assert (run["dataset"], run["records"], run["trigger"], run["feedRun"]) == (PERSONS, 4, "feed", feed["id"])
    assert (run["department"], run["by"]) == (SOURCE, SOURCE)
    results = _results(run)
    assert results["mobile-present"] == (4, 1) and results["mobile-valid"] == (3, 1)
    assert results["id-card-valid"] == (4, 1) and results["updated-within-90-days"] == (4, 0)
    # the marriage reference is read from the registry (nothing fed yet); the social-security one is not in
    # this catalogue: a feed's run leaves its rule out rather than lose the run
    assert results["marriage-agrees-with-civil-affairs"] == (0, 0)
    assert "social-security-agrees-with-hr" not in results
    failures = _ok(api.get(f"/datahub/quality/runs/{run['id']}/failures", params={"rule": "mobile-valid"},
                           token=tokens[SOURCE]))  # fmt: skip
    assert [(f["rule"], f["values"]) for f in failures] == [("mobile-valid", {"mobile": "1234"})]
    assert failures[0]["record"].startswith("urn:ngsi-ld:Person:") and C not in failures[0]["record"]
    assert failures[0]["reason"] == "mobile: a mobile number has 11 digits, found 4"


def test_accuracy_compares_a_feed_with_the_persons_registry(api: Api, tokens: dict[str, str]) -> None:
    _push(api, tokens[SOURCE], PERSONS, PEOPLE)
    offered = [{"idCard": A, "name": "张玮", "maritalStatus": "已婚"},
               {"idCard": B, "name": "欧阳娜", "maritalStatus": "未婚"},
               {"idCard": C, "maritalStatus": "同居"}]  # fmt: skip
    run = _quality_of_feed(api, tokens[CIVIL], _push(api, tokens[CIVIL], MARRIAGE, offered))
    assert _results(run)["name-agrees-with-registry"] == (2, 1)
    assert _results(run)["marital-status-coded"] == (3, 1)
    assert run["dimensions"]["accuracy"] == pytest.approx(0.5)
    (wrong,) = _ok(api.get(f"/datahub/quality/runs/{run['id']}/failures",
                           params={"rule": "name-agrees-with-registry"}, token=tokens[CIVIL]))  # fmt: skip
    # the registry's value is public security's: civil affairs, with no grant for it, sees it hidden
    assert wrong["reason"] == f"name 张玮 disagrees with {PERSONS}'s ***"
    whole = _ok(api.get(f"/datahub/quality/runs/{run['id']}/failures",
                        params={"rule": "name-agrees-with-registry"}, token=tokens["operator"]))  # fmt: skip
    assert whole[0]["reason"] == f"name 张玮 disagrees with {PERSONS}'s 张伟"  # the city: as its access shows it
    # the persons run started now reads the Person entities, with civil affairs' marital status applied
    r = api.post("/datahub/quality/runs", json={"dataset": PERSONS}, token=tokens["operator"])
    assert r.status_code == 422 and r.json()["type"].endswith("/quality-reference-missing"), r.text
    assert INSURED in r.json()["detail"]
    insured = fed_entry(INSURED, HR, "社会保险参保状态", (_item("socialSecurity", "参保状态", "code"),))
    register_entry(api.rt, "default", insured, by="data-officer")
    r = api.post("/datahub/quality/runs", json={"dataset": PERSONS}, token=tokens["operator"])
    run = _ok(r, 201)
    assert r.headers["Location"] == f"/datahub/quality/runs/{run['id']}"
    assert (run["records"], run["trigger"], run["by"], run["feedRun"]) == (3, "api", "duty-officer", None)
    results = _results(run)
    assert results["marriage-agrees-with-civil-affairs"] == (3, 0)  # the registry agrees with itself
    assert results["mobile-present"] == (3, 1)


def test_each_department_sees_its_own_datasets_quality_and_the_centre_all(api: Api, tokens: dict[str, str]) -> None:
    persons = _quality_of_feed(api, tokens[SOURCE], _push(api, tokens[SOURCE], PERSONS, PEOPLE))
    marriage = _quality_of_feed(
        api, tokens[CIVIL], _push(api, tokens[CIVIL], MARRIAGE, [{"idCard": A, "name": "张玮"}])
    )
    for who, sees in ((SOURCE, {persons["id"]}), (CIVIL, {marriage["id"]}), (CENTRE, {persons["id"], marriage["id"]}),
                      ("operator", {persons["id"], marriage["id"]})):  # fmt: skip
        r = api.get("/datahub/quality/runs", token=tokens[who])
        assert {x["id"] for x in _ok(r)} == sees and r.headers["X-Total-Count"] == str(len(sees))
    assert api.get(f"/datahub/quality/runs/{persons['id']}", token=tokens[CIVIL]).status_code == 404
    assert api.get(f"/datahub/quality/runs/{persons['id']}/failures", token=tokens[CIVIL]).status_code == 404
    assert api.get(f"/datahub/quality/rules/{PERSONS}", token=tokens[CIVIL]).status_code == 404
    r = api.get("/datahub/quality/runs", params={"department": SOURCE}, token=tokens[CIVIL])
    assert r.status_code == 403 and r.json()["status"] == 403
    r = api.post("/datahub/quality/runs", json={"dataset": PERSONS}, token=tokens[CIVIL])
    assert r.status_code == 404 and r.json()["type"].endswith("/catalogue-entry-not-found")
    rules = _ok(api.get(f"/datahub/quality/rules/{MARRIAGE}", token=tokens[CIVIL]))
    assert rules["dataset"] == MARRIAGE and rules["references"] == [PERSONS] and rules["key"] == "id"
    assert {r["id"] for r in rules["rules"]} >= {"name-agrees-with-registry", "marital-status-coded"}
    scored = _ok(api.get("/datahub/quality/scores", token=tokens[CIVIL]))
    assert [d["dataset"] for d in scored["datasets"]] == [MARRIAGE]
    assert [d["department"] for d in scored["departments"]] == [CIVIL]
    every = _ok(api.get("/datahub/quality/scores", token=tokens[CENTRE]))
    assert {d["department"] for d in every["departments"]} == {SOURCE, CIVIL}


def test_failing_values_are_masked_for_a_reader_as_a_read_masks_them(api: Api, tokens: dict[str, str]) -> None:
    run = _quality_of_feed(api, tokens[SOURCE], _push(api, tokens[SOURCE], PERSONS, [PEOPLE[0], PEOPLE[0]]))
    url = f"/datahub/quality/runs/{run['id']}/failures"
    (own,) = _ok(api.get(url, params={"rule": "id-card-unique"}, token=tokens[SOURCE]))
    assert own["values"] == {"idCard": A} and A in own["reason"]
    # the big-data centre sees every run but reads the persons entry through no grant: the values are hidden
    (seen,) = _ok(api.get(url, params={"rule": "id-card-unique"}, token=tokens[CENTRE]))
    assert A not in seen["reason"] and A not in str(seen["values"]) and seen["record"] == own["record"]
    assert seen["reason"].startswith("idCard ") and "repeats that of record" in seen["reason"]


def test_bad_input_is_answered_with_problem_documents(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    op = tokens["operator"]
    register_entry(rt, "default", lights_entry(), by="data-officer")
    for body, status, kind in (({"dataset": "HP-99-99-0001"}, 404, "/catalogue-entry-not-found"),
                               ({"dataset": "HP-04-01-0001"}, 404, "/quality-rules-not-found"),
                               ({}, 400, None), ({"dataset": PERSONS, "extra": 1}, 400, None)):  # fmt: skip
        r = api.post("/datahub/quality/runs", json=body, token=op)
        assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert kind is None or r.json()["type"].endswith(kind)
    r = api.get("/datahub/quality/rules/HP-04-01-0001", token=op)
    assert r.status_code == 404 and "has no quality rules" in r.json()["detail"]
    assert api.get("/datahub/quality/runs/nope", token=op).json()["status"] == 404
    assert api.get("/datahub/quality/runs/nope/failures", token=op).status_code == 404
    register_entry(rt, "default", person_entry(code="HP-02-01-0001", provider="market-regulation", items=(
        DataItem("creditCode", "统一社会信用代码", "credit-code", "general-1", key="enterprise.creditCode"),)),
        by="data-officer")  # fmt: skip
    # its records are the legal entities registry's; the tax dataset its rules compare with is not catalogued
    r = api.post("/datahub/quality/runs", json={"dataset": "HP-02-01-0001"}, token=op)
    assert r.status_code == 422 and r.json()["type"].endswith("/quality-reference-missing"), r.text
    assert "HP-02-04-0001" in r.json()["detail"]
    assert api.get("/datahub/quality/runs", token=None).status_code == 401


def test_the_schedule_checks_every_dataset_with_rules_timeliness_from_the_run(api: Api, tokens: dict[str, str]) -> None:
    rt = api.rt
    _push(api, tokens[SOURCE], PERSONS, PEOPLE)  # its feed's quality run is the latest run of the persons
    assert [r.dataset for r in run_due(rt, 3600, now=NOW)] == [MARRIAGE]
    at = NOW + timedelta(hours=2)
    runs = {r.dataset: r for r in run_due(rt, 3600, now=at)}
    assert set(runs) == {PERSONS, MARRIAGE}  # every dataset with rules the catalogue holds, each once
    first = runs[PERSONS]
    assert (first.dataset, first.trigger, first.at[:19], first.by) == (PERSONS, "schedule", at.isoformat()[:19], None)
    assert {r.rule: r.failed for r in first.results}["updated-within-90-days"] == 0
    assert run_due(rt, 3600, now=at + timedelta(minutes=30)) == []  # not due yet
    later = {r.dataset: r for r in run_due(rt, 3600, now=NOW + timedelta(days=100))}
    assert {r.rule: r.failed for r in later[PERSONS].results}["updated-within-90-days"] == 3  # now older than 90d


@pytest.mark.settings(quality_every=0)
def test_a_schedule_of_zero_makes_no_runs(rt: Runtime) -> None:
    schedule = QualitySchedule(rt)
    schedule.start()
    assert schedule._thread is None
    schedule.close()


def test_a_departments_score_is_its_datasets_weighted_by_records(rt: Runtime) -> None:
    rules = RuleSet.model_validate({"dataset": "-", "rules": [
        {"id": "a", "dimension": "completeness", "check": "present", "item": "x"}]})  # fmt: skip
    origin = QualityOrigin(department="d", trigger="api")
    run_quality(rt, "t", "X1", [{"id": "1"}], rules=rules, origin=origin)
    run_quality(rt, "t", "X2", [{"id": str(n), "x": 1} for n in range(3)], rules=rules, origin=origin)
    run_quality(rt, "t", "X3", [{"id": "1", "x": 1}], rules=rules, origin=QualityOrigin(department="e"))
    datasets, departments = scores(rt, "t")
    assert [(d.dataset, d.score) for d in datasets] == [("X1", 0.0), ("X2", 1.0), ("X3", 1.0)]
    (d, e) = departments
    assert (d.department, d.datasets, d.records, d.score, d.dimensions) == ("d", 2, 4, 0.75, {"completeness": 0.75})
    assert (e.department, e.score) == ("e", 1.0)
    later = run_quality(rt, "t", "X1", [{"id": "1", "x": 1}], rules=rules, origin=origin,
                        now=datetime.now(UTC) + timedelta(seconds=5))  # fmt: skip
    assert scores(rt, "t", "d")[0][0].run == later.id and scores(rt, "t", "d")[1][0].score == 1.0


def test_a_reference_backed_by_entities_is_read_as_a_dataset_read_reads_its_items(
    api: Api, tokens: dict[str, str]
) -> None:
    from cityos.datahub.catalogue import get_entry
    from cityos.datahub.quality_ops import dataset_records, references_of
    from cityos.datahub.quality_runs import rules_for

    _push(api, tokens[SOURCE], PERSONS, PEOPLE)
    found, _ = references_of(api.rt, "default", rules_for(MARRIAGE))
    # the persons entry is backed by Person entities: read in keyset chunks of the items the rules read only
    read = dataset_records(api.rt, "default", get_entry(api.rt, "default", PERSONS))
    wanted = {"id", "type", "idCard", "name"}
    assert len(read) == 3 and found[PERSONS] == [{k: v for k, v in r.items() if k in wanted} for r in read]
    assert {r["name"] for r in found[PERSONS]} == {"张伟", "欧阳娜", "李建国"}
