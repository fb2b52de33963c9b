"""A base registry's entity gathers items of many entries (a ``Person`` carries public security's identity and
health's date of death): each attribute is read under the rules of the entry that governs it, on the NGSI-LD
API as on a dataset read. The provider of the entry backing ``Person`` sees its own items whole, but another
entry's item only through a grant for it; a department granted that item sees it (masked as its grant says)
beside the backing entry's items it may see; every such read is audited under the governing entry too."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from conftest import Api
from samples import person_entry

from cityos.auth.service import create_token
from cityos.datahub import (
    Backing,
    CatalogueEntry,
    DataItem,
    OpeningType,
    SharingType,
    governors,
    move_grant,
    reads_of_subject,
    register_entry,
    request_grant,
    subject_hash,
)
from cityos.runtime import Runtime

ID_CARD = "310101199001011234"
PERSON = "urn:ngsi-ld:Person:1"
DEATHS = "HP-01-02-0002"
SCENARIO = "养老金停发核验"
HEADERS = {"Cityos-Scenario": quote(SCENARIO), "Cityos-Purpose": quote("核对死亡登记")}


def _deaths() -> CatalogueEntry:
    return CatalogueEntry(
        code=DEATHS, name="死亡医学证明信息", abstract="居民死亡医学证明的死者身份和死亡日期。", provider="health",
        classification=("基础信息", "人口", "死亡"), format="database",
        items=(DataItem("idCard", "公民身份号码", "id-card", "important", key="person.idCard",
                        source="public-security"),
               DataItem("deathDate", "死亡日期", "date", "general-3", key="person.diedOn")),
        sharing=SharingType.CONDITIONAL, opening=OpeningType.NONE, update_cycle="daily", published="2024-03-01",
        sharing_conditions="用于身后一件事和养老金停发", sharing_method="api",
    )  # fmt: skip


@pytest.fixture
def tokens(api: Api, rt: Runtime) -> dict[str, str]:
    register_entry(rt, "default", dataclasses.replace(person_entry(), backing=Backing(entity_types=("Person",))),
                   by="data-officer")  # fmt: skip
    register_entry(rt, "default", _deaths(), by="data-officer")
    values = {"idCard": ID_CARD, "name": "张伟", "registeredAddress": "上海市黄浦区南京东路1号", "diedOn": "2026-03-01"}
    doc: dict[str, Any] = {"id": PERSON, "type": "Person"}
    doc |= {k: {"type": "Property", "value": v} for k, v in values.items()}
    assert api.post("/ngsi-ld/v1/entities", json=doc).status_code == 201
    return {who: create_token(rt.db, dept, role="department", kind="department")
            for who, dept in (("public-security", "public-security"), ("health", "health"),
                              ("human-resources", "human-resources"))} | {
        "operator": create_token(rt.db, "duty-officer", role="operator", kind="staff")}  # fmt: skip


def _grant(rt: Runtime, entry: CatalogueEntry, department: str, items: list[str], source: str) -> None:
    now = datetime.now(UTC)
    asked = request_grant(rt, "default", entry, department, SCENARIO, "核对死亡登记", "《社会保险法》", items, None,
                          now + timedelta(days=30), None, "officer")  # fmt: skip
    move_grant(rt, "default", entry, asked.grant.id, "approve", "officer", source)


def _read(api: Api, token: str) -> Any:
    r = api.get(f"/ngsi-ld/v1/entities/{PERSON}", headers=HEADERS, token=token)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_governing_entry_is_found_for_each_other_entrys_registry_item() -> None:
    backing = dataclasses.replace(person_entry(), backing=Backing(entity_types=("Person",)))
    sources = [("person.idCard", "HP-01-01-0001", "idCard"), ("person.diedOn", DEATHS, "deathDate"),
               ("enterprise.name", "HP-02-01-0001", "name"), (f"{DEATHS}.cause", DEATHS, "cause")]  # fmt: skip
    found = governors([backing, _deaths()], sources)
    # only the Person registry's item another entry is the one source of; not its own, another registry's or
    # an item of one entry alone
    assert {code: {a: (e.code, i) for a, (e, i) in g.items()} for code, g in found.items()} == {
        "HP-01-01-0001": {"diedOn": (DEATHS, "deathDate")}
    }


def test_the_provider_of_the_registry_sees_another_entrys_item_only_through_a_grant(
    api: Api, rt: Runtime, tokens: dict[str, str]
) -> None:
    own = _read(api, tokens["public-security"])
    assert set(own) == {"id", "type", "idCard", "name", "registeredAddress"}  # health's date of death left out
    query = api.get("/ngsi-ld/v1/entities", params={"type": "Person", "q": 'diedOn=="2026-03-01"'},
                    token=tokens["public-security"])  # fmt: skip
    assert query.status_code == 200 and query.json() == []  # nor matched by a filter on it
    temporal = api.get(f"/ngsi-ld/v1/temporal/entities/{PERSON}", token=tokens["public-security"]).json()
    assert "diedOn" not in temporal

    _grant(rt, _deaths(), "public-security", ["idCard", "deathDate"], "health")
    granted = _read(api, tokens["public-security"])
    assert granted["diedOn"]["value"] == "2026"  # the grant's date masked to its year (general-3 for a department)
    assert granted["idCard"]["value"] == ID_CARD  # its own items still whole
    assert {r.code for r in reads_of_subject(rt, "default", subject_hash(rt, ID_CARD))} == {"HP-01-01-0001", DEATHS}


def test_a_department_granted_both_entries_sees_each_item_by_its_own_grant(
    api: Api, rt: Runtime, tokens: dict[str, str]
) -> None:
    _grant(rt, person_entry(), "human-resources", ["idCard", "name"], "public-security")
    first = _read(api, tokens["human-resources"])
    assert set(first) == {"id", "type", "idCard", "name"}
    _grant(rt, _deaths(), "human-resources", ["idCard", "deathDate"], "health")
    both = _read(api, tokens["human-resources"])
    assert set(both) == {"id", "type", "idCard", "name", "diedOn"}
    # the provider of the deaths entry with no grant for the backing entry reads no Person at all
    refused = api.get(f"/ngsi-ld/v1/entities/{PERSON}", token=tokens["health"])
    assert refused.status_code == 403 and refused.json()["code"] == "HP-01-01-0001"
    # the city reads the entity as stored, audited under both entries
    whole = api.get(f"/ngsi-ld/v1/entities/{PERSON}", token=tokens["operator"]).json()
    assert whole["diedOn"]["value"] == "2026-03-01"


def test_a_lookup_by_value_that_finds_nothing_is_audited(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    absent = "31010119851231002X"
    _grant(rt, person_entry(), "human-resources", ["idCard", "name"], "public-security")
    q = {"type": "Person", "q": f'idCard=="{absent}"'}
    assert api.get("/ngsi-ld/v1/entities", params=q, headers=HEADERS, token=tokens["human-resources"]).json() == []
    query = {"type": "Query", "entities": [{"type": "Person"}], "q": f'idCard=="{absent}"'}
    found = api.post("/ngsi-ld/v1/entityOperations/query", json=query, headers=HEADERS, token=tokens["operator"])
    assert found.status_code == 200 and found.json() == []
    records = api.get("/datahub/datasets/HP-01-01-0001/records", params={"q": f'idCard=="{absent}"'}, headers=HEADERS,
                      token=tokens["human-resources"])  # fmt: skip
    assert records.status_code == 200 and records.json()["records"] == [], records.text
    # a query on another type, or by a value not looked up for equality, is no lookup of this person
    other = {"type": "Streetlight", "q": f'idCard=="{absent}"'}
    assert api.get("/ngsi-ld/v1/entities", params=other, token=tokens["operator"]).json() == []
    seen = [(r.route, r.department, r.code) for r in reads_of_subject(rt, "default", subject_hash(rt, absent))]
    assert sorted(seen, key=str) == sorted([
        ("GET /ngsi-ld/v1/entities", "human-resources", "HP-01-01-0001"),
        ("POST /ngsi-ld/v1/entityOperations/query", None, "HP-01-01-0001"),
        ("GET /datahub/datasets/{code}/records", "human-resources", "HP-01-01-0001"),
    ], key=str)  # fmt: skip
