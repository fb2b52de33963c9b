"""Feeds into the legal entities (法人库) and places (空间地理库) base registries, on both databases, with the
demo catalogue's entries and the demo's generated records: market regulation makes the ``Organization``
entities (ids holding the public credit code), tax and human resources add their own items and their
disagreeing names are conflicts; planning and natural resources' buildings and addresses merge into the
district's existing ``Building`` entities (no duplicate), their address ``PostalAddress``-shaped, housing's
floors that disagree with planning's are conflicts; reruns are unchanged; bad records are rejected with their
line and reason; every applied value is kept in the hub's history (the NGSI-LD temporal API)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

from cityos import context as hub
from cityos import datahub
from cityos.auth.service import create_token
from cityos.core.timefmt import now_iso
from cityos.datahub import registry_entity_id
from cityos.datahub.errors import NotASource
from cityos.demo import registries as reg
from cityos.demo.district import build_district
from cityos.runtime import Runtime

T = "default"
COMPANIES, TAX, INSURED = "HP-02-01-0001", "HP-02-04-0001", "HP-16-04-0001"
BUILDINGS, ADDRESSES, HOUSING = "HP-03-03-0001", "HP-03-02-0001", "HP-08-05-0001"
MR, PR = "market-regulation", "planning-resources"
COMPANY_ITEMS = ("creditCode", "name", "kind", "legalRepresentative", "domicile", "foundedOn")


def _values(rt: Runtime, entity_id: str) -> dict[str, Any]:
    row = hub.get_entity(rt, T, entity_id)
    return {iri.rsplit("/", 1)[-1]: inst[0].get("value", inst[0].get("object")) for iri, inst in row.attrs.items()}


def _counts(run: datahub.FeedRun) -> tuple[int, ...]:
    return run.records, run.new, run.changed, run.unchanged, run.conflicting, run.rejected


def _district_buildings(rt: Runtime, count: int) -> list[dict[str, Any]]:
    """The first ``count`` buildings of the demo district, written into the hub as the demo writes them."""
    buildings = [e for e in build_district(sensors=13) if e["type"] == "Building"][:count]
    tm = hub.term_map(rt)
    ops = [(b["id"], hub.m_merge(hub.parse_entity(b, tm, now=now_iso()), create=True)) for b in buildings]
    hub.apply(rt, T, ops, creates=True)
    return buildings


@pytest.fixture
def catalogue(rt: Runtime) -> Runtime:
    datahub.load_catalogue(rt, T, by="cityos-demo")
    return rt


def test_legal_entities_merge_from_market_regulation_tax_and_human_resources(catalogue: Runtime) -> None:
    rt = catalogue
    companies = reg.entities(12)
    records = [{k: c[k] for k in COMPANY_ITEMS} for c in companies]
    first = datahub.run_feed(rt, T, COMPANIES, MR, records, by="t")
    assert _counts(first) == (12, 12, 0, 0, 0, 0)
    eid = registry_entity_id(rt, "legal-entities", companies[0]["creditCode"])
    assert eid == f"urn:ngsi-ld:Organization:{companies[0]['creditCode']}"  # a public key: the id holds it
    assert hub.get_entity(rt, T, eid).types == [hub.term_map(rt).expand("Organization")]
    assert _values(rt, eid) == {k: records[0][k] for k in COMPANY_ITEMS}
    assert hub.get_entity(rt, T, eid).owner == MR

    tax = reg.tax_records(companies, 0.3, seed=4)
    assert 0 < len(tax.defects) < 12
    run = datahub.run_feed(rt, T, TAX, "tax", tax.records, by="t")
    planted = len(tax.defects)
    assert _counts(run) == (12, 0, 12 - planted, 0, planted, 0)
    assert {(c.entity_id.rsplit(":", 1)[-1], c.item, c.source) for c in run.conflicts} == {
        (companies[int(d.key[1:]) - 1]["creditCode"], "name", MR) for d in tax.defects}  # fmt: skip
    for company, offered in zip(companies, tax.records, strict=True):
        held = _values(rt, registry_entity_id(rt, "legal-entities", company["creditCode"]))
        assert held["name"] == company["name"]  # market regulation's name, whatever tax offered
        assert (held["taxStatus"], held["taxCreditRating"]) == (offered["taxStatus"], offered["taxCreditRating"])

    insured = reg.insured_employer_records(companies, 0.0)
    assert _counts(datahub.run_feed(rt, T, INSURED, "human-resources", insured.records, by="t"))[2] == 12
    assert _values(rt, eid)["insuredEmployees"] == insured.records[0]["insuredEmployees"]

    again = datahub.run_feed(rt, T, TAX, "tax", tax.records, by="t")  # idempotent: conflicts again, nothing applied
    assert _counts(again) == (12, 0, 0, 12 - planted, planted, 0)
    with pytest.raises(NotASource, match="market-regulation"):
        datahub.run_feed(rt, T, COMPANIES, "tax", records, by="t")


def test_a_bad_legal_entity_record_is_rejected_with_its_line_and_reason(catalogue: Runtime) -> None:
    rt = catalogue
    good = {k: reg.entities(1)[0][k] for k in COMPANY_ITEMS}
    batch = [good, {**good, "creditCode": good["creditCode"][:-1] + "0"}, {"name": "某某公司"},
             {**good, "creditCode": "91310101CY00000IO1"}, ["not", "a", "record"],
             {"creditCode": "9" * 300}]  # fmt: skip
    run = datahub.run_feed(rt, T, COMPANIES, MR, batch, by="t", lines=[2, 3, 4, 5, 6, 7])
    assert _counts(run) == (6, 1, 0, 0, 0, 5)
    assert datahub.get_feed_run(rt, T, run.id).rejections[-1].record == "9" * 64  # kept as far as it fits
    reasons = {r.line: r.reason for r in run.rejections}
    assert reasons[3].startswith("creditCode: check character should be")
    assert reasons[4].startswith("no record key: creditCode (the unified social credit code) is missing")
    assert "by its key only" in reasons[4]  # not matched by name: entity resolution is not done on feeds
    assert "digits and capitals without I, O, Z, S, V" in reasons[5] and reasons[6].startswith("a record is")


def test_places_merge_into_the_districts_buildings_without_duplicates(catalogue: Runtime) -> None:
    rt = catalogue
    buildings = _district_buildings(rt, 6)
    district = buildings
    ids = [b["id"] for b in buildings]
    planning = datahub.run_feed(rt, T, BUILDINGS, PR, reg.building_records(district), by="t")
    assert _counts(planning) == (6, 0, 6, 0, 0, 0)  # the code set on each, nothing new
    assert [registry_entity_id(rt, "places", b["buildingCode"]) for b in reg.building_records(district)] == ids
    assert [e.id for e in hub.entities_of_types(rt, T, ["Building"], hub.term_map(rt))] == ids  # no duplicate
    addresses = datahub.run_feed(rt, T, ADDRESSES, PR, reg.address_records(district), by="t")
    assert _counts(addresses) == (6, 0, 6, 0, 0, 0)
    first = _values(rt, ids[0])
    assert first["buildingCode"] == "HP-B0001" and first["addressCode"] == "31010100000001"
    assert first["address"] == {"addressCountry": "CN", "addressRegion": "上海市", "addressLocality": "黄浦区",
                                "streetAddress": "南京东路233号", "postalCode": "200002"}  # fmt: skip

    housing = reg.housing_records(district, 0.5, seed=3)
    planted = {d.key for d in housing.defects}
    assert 0 < len(planted) < 6
    run = datahub.run_feed(rt, T, HOUSING, "housing", housing.records, by="t")
    assert _counts(run) == (6, 0, 6 - len(planted), 0, len(planted), 0)
    assert {c.record for c in run.conflicts} == planted and {c.source for c in run.conflicts} == {PR}
    for b, offered in zip(buildings, housing.records, strict=True):
        held = _values(rt, b["id"])
        assert held["floorsAboveGround"] == b["floorsAboveGround"]["value"]  # planning's count stands
        assert held["propertyUse"] == offered["propertyUse"]
    rerun = datahub.run_feed(rt, T, BUILDINGS, PR, reg.building_records(district), by="t")
    assert _counts(rerun) == (6, 0, 0, 6, 0, 0)

    fresh = datahub.run_feed(rt, T, BUILDINGS, PR, [{"buildingCode": "hp-b9001", "name": "新建楼"},
                                                    {"buildingCode": "HP B9002", "name": "坏编码"},
                                                    {"name": "无编码"}], by="t")  # fmt: skip
    assert _counts(fresh) == (3, 1, 0, 0, 0, 2)
    assert _values(rt, "urn:ngsi-ld:Building:HP-B9001") == {"buildingCode": "HP-B9001", "name": "新建楼"}
    assert [r.reason[:40] for r in fresh.rejections] == [
        "buildingCode: a building code is 3 to 32",
        "no record key: buildingCode (the buildin",
    ]
    with pytest.raises(NotASource):
        datahub.run_feed(rt, T, BUILDINGS, "housing", housing.records, by="t")


@pytest.fixture
def tokens(api: Api, rt: Runtime) -> dict[str, str]:
    datahub.load_catalogue(rt, T, by="cityos-demo")
    made = {d: create_token(rt.db, d, role="department", kind="department") for d in (MR, "tax", PR, "housing")}
    made["operator"] = create_token(rt.db, "duty-officer", role="operator", kind="staff")
    return made


def _push(api: Api, token: str, code: str, records: list[Any]) -> dict[str, Any]:
    r = api.post(f"/datahub/feeds/{code}/records", json={"records": records}, token=token)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _history(api: Api, token: str, entity_id: str, attr: str) -> list[dict[str, Any]]:
    r = api.get(f"/ngsi-ld/v1/temporal/entities/{entity_id}", token=token)
    assert r.status_code == 200, r.text
    return list(r.json()[attr])


def test_every_applied_value_is_kept_in_the_history(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    company = {k: reg.entities(1)[0][k] for k in COMPANY_ITEMS}
    eid = registry_entity_id(rt, "legal-entities", company["creditCode"])
    assert _push(api, tokens[MR], COMPANIES, [company])["new"] == 1
    moved = {**company, "domicile": "上海市黄浦区中山东一路1号"}
    assert _push(api, tokens[MR], COMPANIES, [moved])["changed"] == 1
    kept = _history(api, tokens["operator"], eid, "domicile")
    assert [i["value"] for i in kept] == [company["domicile"], moved["domicile"]]
    times = [i.get("modifiedAt") or i.get("observedAt") or i.get("createdAt") for i in kept]
    assert all(times) and times[0] <= times[1]

    building = _district_buildings(rt, 1)[0]
    record = {"buildingCode": "HP-B0001", "doorplate": "南京东路233号", "postalCode": "200002"}
    _push(api, tokens[PR], ADDRESSES, [record])
    _push(api, tokens[PR], ADDRESSES, [{**record, "postalCode": "200001"}])
    kept = _history(api, tokens["operator"], building["id"], "address")
    assert [i["value"].get("postalCode") for i in kept] == [None, "200002", "200001"]  # the district's, then each


def test_the_route_serves_every_registry_and_refuses_what_it_must(
    api: Api, rt: Runtime, tokens: dict[str, str]
) -> None:
    company = {k: reg.entities(1)[0][k] for k in COMPANY_ITEMS}
    report = _push(api, tokens[MR], COMPANIES, [company, {"name": "无代码"}])
    assert (report["new"], report["rejected"]) == (1, 1) and report["rejections"][0]["line"] == 1
    code = company["creditCode"]
    report = _push(api, tokens["tax"], TAX, [{"creditCode": code, "name": "别名公司", "taxStatus": "正常"}])
    assert report["conflicts"] == [{"record": code, "item": "name", "source": MR, "offered": "别名公司",
                                    "entityId": f"urn:ngsi-ld:Organization:{code}"}]  # fmt: skip
    report = _push(api, tokens["housing"], HOUSING, [{"buildingCode": "HP-B0100", "propertyUse": "住宅"}])
    assert report["new"] == 1 and _values(rt, "urn:ngsi-ld:Building:HP-B0100")["propertyUse"] == "住宅"
    r = api.post(f"/datahub/feeds/{BUILDINGS}/records", json={"records": [{"buildingCode": "HP-B0100"}]},
                 token=tokens["housing"])  # fmt: skip
    assert r.status_code == 403 and r.json()["type"].endswith("/not-a-source") and PR in r.json()["detail"]
    r = api.post("/datahub/feeds/HP-03-01-0001/records", json={"records": [{"code": "310101"}]}, token=tokens[PR])
    assert r.status_code == 422 and "place.buildingCode" in r.json()["detail"], r.text


def test_a_persons_value_changed_by_a_second_run_keeps_both_instances(catalogue: Runtime) -> None:
    rt = catalogue
    person = {k: reg.persons(1)[0][k] for k in ("idCard", "name", "registeredAddress")}
    moved = {**person, "registeredAddress": "上海市黄浦区中山南路1号"}
    for record in (person, moved):
        datahub.run_feed(rt, T, "HP-01-01-0001", "public-security", [record], by="t")
    pid, iri = datahub.person_id(rt, person["idCard"]), hub.term_map(rt).expand("registeredAddress")
    kept = hub.attribute_history(rt, T, [pid], [iri], None, None)[(pid, iri)]
    assert [s.instance["value"] for s in kept] == [person["registeredAddress"], moved["registeredAddress"]]
    assert kept[0].ts <= kept[1].ts and kept[0].key < kept[1].key  # each with its time, in order


def test_another_department_reads_a_legal_entity_cut_to_the_registration_entrys_items(
    api: Api, rt: Runtime, tokens: dict[str, str]
) -> None:
    # the Organization entities back HP-02-01-0001 (market regulation): another department reads them as
    # records of that entry, so tax's and human resources' items on them are not shown to it
    company = {k: reg.entities(1)[0][k] for k in COMPANY_ITEMS}
    _push(api, tokens[MR], COMPANIES, [company])
    _push(api, tokens["tax"], TAX, [{"creditCode": company["creditCode"], "taxCreditRating": "A"}])
    url = f"/ngsi-ld/v1/entities/urn:ngsi-ld:Organization:{company['creditCode']}"
    r = api.get(url, params={"options": "keyValues"}, token=tokens["housing"])
    assert r.status_code == 200, r.text
    assert r.json()["name"] == company["name"] and "taxCreditRating" not in r.json()
