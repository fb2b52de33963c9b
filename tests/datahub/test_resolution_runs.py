"""Entity resolution runs as plain functions, on both databases: a street office's list of enterprises by name
and address (no credit code) resolved against the registry's entities, each decision kept with its evidence
under the run id; a run's review decisions listed and settled by a person, once, with who and when; the
candidates supplied as a mapping of blocking keys or as a callable asked once per key."""

from __future__ import annotations

import dataclasses

import pytest
from samples import person_entry

from cityos import datahub
from cityos.datahub import Candidate, DataItem
from cityos.datahub.errors import EntryNotFound, InvalidResolution, InvalidSettlement, SettlementRefused
from cityos.datahub.resolution import get_model
from cityos.runtime import Runtime

T, CODE, STREET = "default", "HP-20-01-0001", "waitan-street"
ORG = "urn:ngsi-ld:Organization:"
REGISTRY = [
    Candidate(ORG + "a", {"name": "上海华新商贸有限公司", "address": "上海市黄浦区九江路3号201室"}),
    Candidate(ORG + "b", {"name": "上海华新商贸股份有限公司", "address": "上海市黄浦区福州路8号"}),
    Candidate(ORG + "c", {"name": "上海华新商贸有限公司福州路分公司", "address": "上海市黄浦区福州路8号"}),
    Candidate(ORG + "d", {"name": "上海瑞丰文化传播有限公司", "address": "上海市黄浦区淮海中路88号"}),
]
FEED = [
    {"name": "瑞丰（上海）文化传播有限责任公司", "address": "淮海中路八十八号"},  # d, written otherwise
    {"name": "上海华新商贸有限公司", "address": "九江路3号"},  # a or b: the same normalised name, another room
    {"name": "上海远博信息科技有限公司", "address": "黄浦区西藏南路1号"},  # none
    {"name": 5, "address": ["x"]},  # not comparable
    {"address": "九江路3号201室"},  # by its address alone: a, between the thresholds
]


def street_entry() -> datahub.CatalogueEntry:
    items = (DataItem("name", "企业名称", "text", "general-1"), DataItem("address", "经营地址", "address", "general-1"))
    return dataclasses.replace(person_entry(code=CODE, provider=STREET, name="辖区企业名录"), items=items)


@pytest.fixture
def rt_street(rt: Runtime) -> Runtime:
    datahub.register_entry(rt, T, street_entry(), by="data-officer")
    return rt


def test_a_run_keeps_each_decision_with_its_evidence(rt_street: Runtime) -> None:
    rt = rt_street
    index = datahub.index_candidates(get_model("legal-entity"), REGISTRY)
    run = datahub.resolve(rt, T, CODE, STREET, FEED, index, by="clerk", lines=[2, 3, 4, 5, 6])
    assert (run.records, run.matched, run.review, run.new, run.rejected) == (5, 1, 2, 1, 1)
    assert run.rejections[0].line == 5 and run.rejections[0].reason.startswith("address: a value is text")
    first, second, third, fourth = run.decisions
    assert (first.decision, first.entity, first.line) == ("matched", "urn:ngsi-ld:Organization:d", 2)
    assert first.best is not None and [f.level for f in first.best.fields] == ["normalised", "normalised", "null"]
    assert second.decision == "review" and second.runner_up is not None and "between the thresholds" in second.reason
    assert {c for c, _ in second.scored} == {f"urn:ngsi-ld:Organization:{x}" for x in "abc"}
    assert third.decision == "new" and fourth.decision == "review" and fourth.record == FEED[4]
    kept, total = datahub.list_resolutions(rt, T, run=run.id)
    assert (total, kept) == (4, list(run.decisions))  # read back as made, evidence and all
    assert [r.id for r in datahub.list_resolutions(rt, T, run=run.id, decision="review")[0]] == [second.id, fourth.id]
    assert datahub.list_resolutions(rt, T, party="market-regulation") == ([], 0)
    assert datahub.list_resolutions(rt, T, party=STREET)[1] == 4


def test_a_review_decision_is_settled_once_by_a_person(rt_street: Runtime) -> None:
    rt = rt_street
    index = datahub.index_candidates(get_model("legal-entity"), REGISTRY)
    run = datahub.resolve(rt, T, CODE, STREET, FEED[:3], index, by="clerk")
    matched, review, new = run.decisions
    with pytest.raises(InvalidSettlement, match="urn:ngsi-ld:Organization:a"):
        datahub.settle_resolution(rt, T, review.id, "matched", by="officer", entity="urn:ngsi-ld:Organization:d")
    with pytest.raises(InvalidSettlement, match="names no entity"):
        datahub.settle_resolution(rt, T, review.id, "new", by="officer", entity="urn:ngsi-ld:Organization:a")
    done = datahub.settle_resolution(rt, T, review.id, "matched", by="officer", entity="urn:ngsi-ld:Organization:a",
                                     note="营业执照核对")  # fmt: skip
    assert done.settlement is not None and (done.settlement.by, done.settlement.note) == ("officer", "营业执照核对")
    assert done.decision == "review" and done.resolved_to == "urn:ngsi-ld:Organization:a"
    with pytest.raises(SettlementRefused, match="settled matched to urn:ngsi-ld:Organization:a by officer"):
        datahub.settle_resolution(rt, T, review.id, "new", by="other")
    for other in (matched, new):
        with pytest.raises(SettlementRefused, match="only a review decision"):
            datahub.settle_resolution(rt, T, other.id, "new", by="officer")
    assert datahub.list_resolutions(rt, T, run=run.id, decision="review", settled=False) == ([], 0)
    assert [r.id for r in datahub.list_resolutions(rt, T, settled=True)[0]] == [review.id]


def test_candidates_from_a_callable_are_asked_once_per_key(rt_street: Runtime) -> None:
    asked: list[str] = []
    index = datahub.index_candidates(get_model("legal-entity"), REGISTRY)

    def lookup(key: str) -> list[Candidate]:
        asked.append(key)
        return index.get(key, [])

    run = datahub.resolve(rt_street, T, CODE, STREET, [FEED[0], FEED[0], FEED[1]], lookup, by="clerk")
    assert [d.decision for d in run.decisions] == ["matched", "matched", "review"]
    assert sorted(asked) == sorted(set(asked)) and "name:瑞丰文化传播" in asked


def test_a_run_that_cannot_start_is_refused(rt_street: Runtime) -> None:
    with pytest.raises(InvalidResolution, match="no records"):
        datahub.resolve(rt_street, T, CODE, STREET, [], {}, by="clerk")
    with pytest.raises(InvalidResolution, match="no resolution model 'x'"):
        datahub.resolve(rt_street, T, CODE, STREET, FEED, {}, by="clerk", model="x")
    with pytest.raises(EntryNotFound):
        datahub.resolve(rt_street, T, "HP-99-99-9999", STREET, FEED, {}, by="clerk")
