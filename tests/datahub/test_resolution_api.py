"""Entity resolution decisions over HTTP, on both databases: a department lists the decisions on the records it
fed and on its entries' records (others answer 404, as if absent); a review decision is settled by the data
officer of the entry's provider or by the city, not by another department, once; bad settlements are 400s."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from conftest import Api
from samples import person_entry

from cityos import datahub
from cityos.auth.service import create_token
from cityos.datahub import Candidate, DataItem
from cityos.datahub.resolution import get_model
from cityos.runtime import Runtime

T, CODE, STREET, MARKET, HEALTH = "default", "HP-20-01-0001", "waitan-street", "market-regulation", "health"
A, B = "urn:ngsi-ld:Organization:a", "urn:ngsi-ld:Organization:b"
REGISTRY = [Candidate(A, {"name": "上海华新商贸有限公司", "address": "上海市黄浦区九江路3号201室"}),
            Candidate(B, {"name": "上海华新商贸股份有限公司", "address": "上海市黄浦区九江路3号201室"})]  # fmt: skip
FEED = [
    {"name": "华新商贸有限公司", "address": "九江路三号二〇一室"},
    {"name": "上海远博科技有限公司", "address": "福州路1号"},
]


@pytest.fixture
def run(api: Api, rt: Runtime) -> dict[str, Any]:
    items = (DataItem("name", "企业名称", "text", "general-1"), DataItem("address", "经营地址", "address", "general-1"))
    entry = dataclasses.replace(person_entry(code=CODE, provider=STREET, name="辖区企业名录"), items=items)
    datahub.register_entry(rt, T, entry, by="data-officer")
    index = datahub.index_candidates(get_model("legal-entity"), REGISTRY)
    done = datahub.resolve(rt, T, CODE, MARKET, FEED, index, by="clerk")  # fed by market regulation
    tokens = {d: create_token(rt.db, d, role="department", kind="department") for d in (STREET, MARKET, HEALTH)}
    tokens["operator"] = create_token(rt.db, "duty-officer", role="operator", kind="staff")
    return {"id": done.id, "review": done.decisions[0].id, "new": done.decisions[1].id, "tokens": tokens}


def test_a_department_lists_the_decisions_on_its_records_and_its_entries(api: Api, run: dict[str, Any]) -> None:
    tokens = run["tokens"]
    for who in (STREET, MARKET, "operator"):
        r = api.get(f"/datahub/resolutions?run={run['id']}&decision=review", token=tokens[who])
        assert r.status_code == 200 and r.headers["X-Total-Count"] == "1", r.text
        (body,) = r.json()
        assert (body["id"], body["runnerUp"]["candidate"] in (A, B), body["settlement"]) == (run["review"], True, None)
        assert {f["field"]: f["level"] for f in body["best"]["fields"]} == {
            "name": "normalised", "address": "normalised", "legalRepresentative": "null"}  # fmt: skip
    r = api.get(f"/datahub/resolutions?run={run['id']}", token=tokens[HEALTH])
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"
    assert api.get(f"/datahub/resolutions/{run['review']}", token=tokens[HEALTH]).status_code == 404
    assert api.get(f"/datahub/resolutions/{run['new']}", token=tokens[MARKET]).json()["decision"] == "new"
    assert api.get("/datahub/resolutions?decision=maybe", token=tokens[STREET]).status_code == 400


def test_the_entrys_provider_or_the_city_settles_a_review_decision_once(api: Api, run: dict[str, Any]) -> None:
    tokens, url = run["tokens"], f"/datahub/resolutions/{run['review']}/settle"
    r = api.post(url, json={"outcome": "matched", "entity": A}, token=tokens[MARKET])
    assert r.status_code == 403 and STREET in r.json()["detail"]  # it fed the records; the street provides them
    assert api.post(url, json={"outcome": "new"}, token=tokens[HEALTH]).status_code == 404
    r = api.post(url, json={"outcome": "matched", "entity": "urn:ngsi-ld:Organization:z"}, token=tokens[STREET])
    assert r.status_code == 400 and r.json()["type"].endswith("invalid-settlement")
    assert api.post(url, json={"outcome": "maybe"}, token=tokens[STREET]).status_code == 400
    r = api.post(url, json={"outcome": "matched", "entity": B, "note": "股份公司"}, token=tokens[STREET])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["resolvedTo"], body["settlement"]["by"], body["settlement"]["outcome"]) == (B, STREET, "matched")
    r = api.post(url, json={"outcome": "new"}, token=tokens["operator"])
    assert r.status_code == 409 and r.json()["type"].endswith("settlement-refused")
    r = api.post(f"/datahub/resolutions/{run['new']}/settle", json={"outcome": "new"}, token=tokens["operator"])
    assert r.status_code == 409 and "only a review decision" in r.json()["detail"]
    listed = api.get("/datahub/resolutions?settled=true", token=tokens["operator"]).json()
    assert [d["id"] for d in listed] == [run["review"]]


def test_candidates_values_are_shown_by_the_readers_access_and_the_read_audited(
    api: Api, rt: Runtime, run: dict[str, Any]
) -> None:
    # once an entry governs the registry's entities, a candidate's values are read under it
    entry = dataclasses.replace(person_entry(code="HP-02-01-0001", provider=MARKET, name="企业登记基本信息"),
                                items=(DataItem("name", "企业名称", "text", "core"),
                                       DataItem("domicile", "住所", "address", "core")),
                                backing=datahub.Backing(entity_types=("Organization",)))  # fmt: skip
    datahub.register_entry(rt, T, entry, by="data-officer")
    tokens = run["tokens"]
    body = api.get(f"/datahub/resolutions/{run['review']}", token=tokens[STREET]).json()
    held = {f["field"]: f["held"] for f in body["best"]["fields"]}
    assert held["name"] not in {c.values["name"] for c in REGISTRY}  # no grant: hidden
    whole = api.get(f"/datahub/resolutions/{run['review']}", token=tokens[MARKET]).json()
    assert {f["field"]: f["held"] for f in whole["best"]["fields"]}["name"] in {c.values["name"] for c in REGISTRY}
    audited = api.get("/datahub/audit", params={"code": "HP-02-01-0001"})
    assert audited.status_code == 200, audited.text
    assert {(a["department"], a["route"]) for a in audited.json()} >= {
        (STREET, "GET /datahub/resolutions/{id}"), (MARKET, "GET /datahub/resolutions/{id}")}  # fmt: skip
