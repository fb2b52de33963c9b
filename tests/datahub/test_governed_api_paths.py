"""Every other read path of the NGSI-LD API applies the rules to a department's token too (issue 17): the
temporal API, counts (``count=true&limit=0``), type and attribute discovery, and the notifications of a
department's subscriptions. For each: a department with no grant is refused or left out, one with a grant
sees the granted items masked, the provider and an operator see everything, and the read is audited under
the route that served it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from conftest import Api, running
from receivers import Receiver
from samples import person_entry

from cityos.auth.service import create_token
from cityos.context.subscriptions.notify import Notifier
from cityos.datahub import Backing, move_grant, reads_of_subject, register_entry, request_grant, subject_hash, verify
from cityos.runtime import Runtime

SCENARIO = "低保资格核验"
HEADERS = {"Cityos-Scenario": quote(SCENARIO), "Cityos-Purpose": quote("核对低保申请人户籍")}
ID_CARD, OTHER_CARD = "310101199001011234", "310101198502023456"
ONE = "urn:ngsi-ld:Person:1"
T = "/ngsi-ld/v1/temporal/entities"


def _person(n: int, id_card: str, name: str, address: str) -> dict[str, Any]:
    values = {"idCard": id_card, "name": name, "registeredAddress": address, "religion": "not in the catalogue"}
    attrs = {k: {"type": "Property", "value": v, "observedAt": "2026-01-01T00:00:00Z"} for k, v in values.items()}
    return {"id": f"urn:ngsi-ld:Person:{n}", "type": "Person", **attrs}


@pytest.fixture
def tokens(api: Api, rt: Runtime) -> dict[str, str]:
    entry = dataclasses.replace(person_entry(), backing=Backing(entity_types=("Person",)))
    register_entry(rt, "default", entry, by="data-officer")
    light = {"id": "urn:ngsi-ld:Streetlight:1", "type": "Streetlight", "powerState": {"type": "Property", "value": 1}}
    people = (_person(1, ID_CARD, "张伟", "上海市黄浦区南京东路1号"), _person(2, OTHER_CARD, "欧阳娜", "淮海中路8号"))
    for doc in (*people, light):
        assert api.post("/ngsi-ld/v1/entities", json=doc).status_code == 201
    later = {"name": {"type": "Property", "value": "张伟伟", "observedAt": "2026-01-02T00:00:00Z"}}
    assert api.patch(f"/ngsi-ld/v1/entities/{ONE}/attrs", json=later).status_code == 204
    return {
        "provider": create_token(rt.db, "public-security", role="department", kind="department"),
        "reader": create_token(rt.db, "civil-affairs", role="department", kind="department"),
        "operator": create_token(rt.db, "duty-officer", role="operator", kind="staff"),
    }


def _grant(rt: Runtime) -> None:
    entry = person_entry()
    now = datetime.now(UTC)
    asked = request_grant(rt, "default", entry, "civil-affairs", SCENARIO, "核对低保申请人户籍", "《社会救助暂行办法》",
                          ["idCard", "name"], None, now + timedelta(days=30), None, "officer")  # fmt: skip
    move_grant(rt, "default", entry, asked.grant.id, "approve", "ps-officer", "public-security")


def _routes(rt: Runtime, id_card: str = ID_CARD) -> list[str]:
    return [r.route for r in reads_of_subject(rt, "default", subject_hash(rt, id_card))]


def test_the_temporal_api_refuses_cuts_masks_and_audits(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    reader = tokens["reader"]
    refused = api.get(f"{T}/{ONE}", headers=HEADERS, token=reader)
    assert refused.status_code == 403 and refused.json()["code"] == "HP-01-01-0001", refused.text
    assert api.get(T, params={"type": "Person"}, headers=HEADERS, token=reader).json() == []
    counted = api.get(T, params={"type": "Person", "count": "true", "limit": "0"}, token=reader)
    assert counted.headers["NGSILD-Results-Count"] == "0"
    query = {"type": "Query", "entities": [{"type": "Person"}]}
    assert api.post("/ngsi-ld/v1/temporal/entityOperations/query", json=query, token=reader).json() == []
    assert _routes(rt) == []  # nothing was read, so nothing is audited

    _grant(rt)
    r = api.get(f"{T}/{ONE}", headers=HEADERS, token=reader)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert set(doc) == {"id", "type", "idCard", "name"}  # the address is not granted, religion not catalogued
    assert [i["value"] for i in doc["name"]] == ["张*", "张**"]  # every instance of the history masked
    assert doc["idCard"][0]["value"] == "310101********1234" and ID_CARD not in r.text
    many = api.post("/ngsi-ld/v1/temporal/entityOperations/query", json=query, headers=HEADERS, token=reader)
    assert many.status_code == 200 and len(many.json()) == 2 and OTHER_CARD not in many.text
    aggregated = api.get(
        f"{T}/{ONE}", params={"options": "aggregatedValues", "aggrMethods": "totalCount"}, headers=HEADERS, token=reader
    )
    assert aggregated.status_code == 200 and set(aggregated.json()) == {"id", "type"}  # masked: no aggregates
    assert _routes(rt) == [
        "GET /ngsi-ld/v1/temporal/entities/{entityId}",
        "POST /ngsi-ld/v1/temporal/entityOperations/query",
        "GET /ngsi-ld/v1/temporal/entities/{entityId}",
    ]
    assert verify(rt).ok
    for token in (tokens["provider"], tokens["operator"]):
        whole = api.get(f"{T}/{ONE}", token=token).json()
        assert [i["value"] for i in whole["name"]] == ["张伟", "张伟伟"] and whole["idCard"][0]["value"] == ID_CARD
        assert "religion" in whole


def test_a_count_holds_only_what_the_department_may_read(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    params = {"type": "Person", "count": "true", "limit": "0"}
    assert api.get("/ngsi-ld/v1/entities", params=params, token=tokens["reader"]).headers["NGSILD-Results-Count"] == "0"
    both = {"type": "Person,Streetlight", "count": "true", "limit": "10"}
    r = api.get("/ngsi-ld/v1/entities", params=both, token=tokens["reader"])
    assert r.headers["NGSILD-Results-Count"] == "1" and [e["id"] for e in r.json()] == ["urn:ngsi-ld:Streetlight:1"]
    _grant(rt)
    granted = api.get("/ngsi-ld/v1/entities", params=params, headers=HEADERS, token=tokens["reader"])
    assert granted.headers["NGSILD-Results-Count"] == "2"
    for token in (tokens["provider"], tokens["operator"]):
        assert api.get("/ngsi-ld/v1/entities", params=params, token=token).headers["NGSILD-Results-Count"] == "2"


def test_a_filter_tests_only_what_the_department_sees_in_full(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    _grant(rt)
    reader = tokens["reader"]
    # a pattern or a range on a masked item (it would lift the mask a digit at a time), any filter on an item
    # it may not see
    probes = {f'idCard~="^{ID_CARD[:10]}"': 1, 'idCard>="0"': 2, 'religion=="not in the catalogue"': 2,
              'registeredAddress~=".*南京东路.*"': 1}  # fmt: skip
    for q, found in probes.items():
        params = {"type": "Person", "q": q, "count": "true"}
        for url in ("/ngsi-ld/v1/entities", T):
            r = api.get(url, params=params, headers=HEADERS, token=reader)
            assert r.status_code == 200 and r.json() == [] and r.headers["NGSILD-Results-Count"] == "0", (url, q)
        assert len(api.get("/ngsi-ld/v1/entities", params=params, token=tokens["provider"]).json()) == found
    # a lookup by a value it already holds (核验) is matched, the answer masked
    looked = api.get("/ngsi-ld/v1/entities", params={"type": "Person", "q": f'idCard=="{ID_CARD}"'}, headers=HEADERS,
                     token=reader)  # fmt: skip
    assert [e["idCard"]["value"] for e in looked.json()] == ["310101********1234"], looked.text
    # attrs selects the entities having an attribute: one it sees masked is fine, one it may not see is not
    picked = api.get(
        "/ngsi-ld/v1/entities", params={"type": "Person", "attrs": "idCard"}, headers=HEADERS, token=reader
    )
    assert len(picked.json()) == 2 and ID_CARD not in picked.text
    hidden = {"type": "Person", "attrs": "registeredAddress"}
    assert api.get("/ngsi-ld/v1/entities", params=hidden, headers=HEADERS, token=reader).json() == []
    query = {"type": "Query", "entities": [{"type": "Person"}], "q": f'idCard~="^{ID_CARD[:10]}"'}
    assert api.post("/ngsi-ld/v1/entityOperations/query", json=query, headers=HEADERS, token=reader).json() == []
    query["q"] = f'idCard=="{ID_CARD}"'
    found = api.post("/ngsi-ld/v1/entityOperations/query", json=query, headers=HEADERS, token=reader).json()
    assert [e["id"] for e in found] == [ONE] and ID_CARD not in str(found)


def test_discovery_leaves_out_the_types_a_department_may_read_nothing_of(
    api: Api, rt: Runtime, tokens: dict[str, str]
) -> None:
    reader = tokens["reader"]
    types = api.get("/ngsi-ld/v1/types", token=reader).json()["typeList"]
    assert "Streetlight" in types and "Person" not in types
    detailed_types = api.get("/ngsi-ld/v1/types", params={"details": "true"}, token=reader).json()
    assert "Person" not in [t["typeName"] for t in detailed_types]
    assert all("idCard" not in t["attributeNames"] for t in detailed_types)
    assert api.get("/ngsi-ld/v1/types/Person", token=reader).status_code == 404
    attributes = api.get("/ngsi-ld/v1/attributes", token=reader).json()["attributeList"]
    assert "powerState" in attributes and not {"idCard", "religion", "registeredAddress"} & set(attributes)
    assert api.get("/ngsi-ld/v1/attributes/idCard", token=reader).status_code == 404
    detailed = api.get("/ngsi-ld/v1/attributes", params={"details": "true"}, token=reader).json()
    assert all("Person" not in a["typeNames"] for a in detailed)
    _grant(rt)
    person = api.get("/ngsi-ld/v1/types/Person", headers=HEADERS, token=reader)
    assert person.status_code == 200 and person.json()["entityCount"] == 2
    for token in (tokens["provider"], tokens["operator"]):
        assert {"Person", "Streetlight"} <= set(api.get("/ngsi-ld/v1/types", token=token).json()["typeList"])
        assert api.get("/ngsi-ld/v1/attributes/idCard", token=token).json()["attributeCount"] == 2


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    made = {who: Receiver() for who in ("reader", "granted", "probe", "provider", "operator")}
    yield made
    for r in made.values():
        r.close()


def _subscribe(api: Api, uri: str, token: str, headers: dict[str, str] | None = None, **members: Any) -> str:
    body = {"type": "Subscription", "entities": [{"type": "Person"}], "notification": {"endpoint": {"uri": uri}}}
    body |= members
    r = api.post("/ngsi-ld/v1/subscriptions", json=body, headers=headers, token=token)
    assert r.status_code == 201, r.text
    return r.headers["Location"].rsplit("/", 1)[1]


def test_a_departments_subscription_is_notified_what_it_may_read(
    api: Api, rt: Runtime, tokens: dict[str, str], receivers: dict[str, Receiver]
) -> None:
    running(api, Notifier)
    _grant(rt)
    # a grant for one scenario opens no other
    refused = _subscribe(api, receivers["reader"].url, tokens["reader"], {"Cityos-Scenario": quote("人才引进")})
    granted = _subscribe(api, receivers["granted"].url, tokens["reader"], HEADERS)
    # a filter on an item it sees masked would test its value: such a subscription is notified nothing
    probe = _subscribe(api, receivers["probe"].url, tokens["reader"], HEADERS, q=f'idCard=="{ID_CARD}"')
    own = _subscribe(api, receivers["provider"].url, tokens["provider"])
    city = _subscribe(api, receivers["operator"].url, tokens["operator"])
    change = {"registeredAddress": {"type": "Property", "value": "上海市黄浦区福州路9号"}}
    assert api.patch(f"/ngsi-ld/v1/entities/{ONE}/attrs", json=change).status_code == 204

    def entity(who: str) -> dict[str, Any]:
        (body,) = receivers[who].wait_for(1)
        (doc,) = body["data"]
        return dict(doc)

    seen = entity("granted")
    assert set(seen) == {"id", "type", "idCard", "name"}
    assert seen["idCard"]["value"] == "310101********1234" and seen["name"]["value"] == "张**"
    for who in ("provider", "operator"):
        whole = entity(who)
        assert whole["idCard"]["value"] == ID_CARD and whole["registeredAddress"]["value"] == "上海市黄浦区福州路9号"
    # the match of every subscription is done by now: the one with no grant was left out
    assert receivers["reader"].got == [] and receivers["probe"].got == []
    for sub in (refused, probe):
        assert api.get(f"/ngsi-ld/v1/subscriptions/{sub}").json()["notification"].get("timesSent") is None  # none sent
    # each notification of governed data is audited (the provider's reads of its own records too, as anywhere,
    # and the city's, sent whole)
    routes = sorted(r for r in _routes(rt) if r.startswith("NOTIFY"))
    assert routes == sorted(f"NOTIFY /ngsi-ld/v1/subscriptions/{s}" for s in (granted, own, city))
    assert verify(rt).ok


def test_a_periodic_subscription_of_a_department_is_sent_what_it_may_read(
    api: Api, rt: Runtime, tokens: dict[str, str], receivers: dict[str, Receiver]
) -> None:
    running(api, Notifier)
    body = {
        "type": "Subscription",
        "entities": [{"type": "Person"}, {"type": "Streetlight"}],
        "timeInterval": 3600,
        "notification": {"endpoint": {"uri": receivers["reader"].url}, "format": "keyValues"},
    }
    assert api.post("/ngsi-ld/v1/subscriptions", json=body, token=tokens["reader"]).status_code == 201
    (first,) = receivers["reader"].wait_for(1)
    assert [e["id"] for e in first["data"]] == ["urn:ngsi-ld:Streetlight:1"]  # no grant: the persons left out
    assert _routes(rt) == []
    _grant(rt)
    body["notification"]["endpoint"]["uri"] = receivers["granted"].url
    made = api.post("/ngsi-ld/v1/subscriptions", json=body, headers=HEADERS, token=tokens["reader"])
    assert made.status_code == 201, made.text
    (second,) = receivers["granted"].wait_for(1)
    persons = {e["id"]: e for e in second["data"] if e["type"] == "Person"}
    assert persons[ONE] == {"id": ONE, "type": "Person", "idCard": "310101********1234", "name": "张**"}
    assert _routes(rt) == [f"NOTIFY {made.headers['Location']}"]


def test_a_department_changes_and_deletes_only_its_own_subscriptions(
    api: Api, tokens: dict[str, str], receivers: dict[str, Receiver]
) -> None:
    theirs = _subscribe(api, receivers["provider"].url, tokens["provider"])
    city = _subscribe(api, receivers["operator"].url, tokens["operator"])
    redirect = {"notification": {"endpoint": {"uri": receivers["reader"].url}}}
    for sub in (theirs, city):
        r = api.patch(f"/ngsi-ld/v1/subscriptions/{sub}", json=redirect, token=tokens["reader"])
        assert r.status_code == 403 and r.json()["type"].endswith("/not-your-subscription"), r.text
        assert api.delete(f"/ngsi-ld/v1/subscriptions/{sub}", token=tokens["reader"]).status_code == 403
    assert api.patch(f"/ngsi-ld/v1/subscriptions/{theirs}", json=redirect, token=tokens["provider"]).status_code == 204
    assert api.delete(f"/ngsi-ld/v1/subscriptions/{city}", token=tokens["operator"]).status_code == 204
    assert api.delete(f"/ngsi-ld/v1/subscriptions/{theirs}").status_code == 204  # an administrator: any


def test_the_citys_reads_are_whole_and_audited(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    # an operator reads for the city: entities as stored (its clients need them so), every read in the chain
    one = api.get(f"/ngsi-ld/v1/entities/{ONE}", token=tokens["operator"])
    assert one.status_code == 200 and one.json()["idCard"]["value"] == ID_CARD and "religion" in one.json()
    many = api.get("/ngsi-ld/v1/entities", params={"type": "Person,Streetlight"}, token=tokens["operator"])
    assert len(many.json()) == 3
    history = api.get(f"{T}/{ONE}", token=tokens["operator"])
    assert history.status_code == 200
    assert _routes(rt) == [
        "GET /ngsi-ld/v1/temporal/entities/{entityId}",
        "GET /ngsi-ld/v1/entities",
        "GET /ngsi-ld/v1/entities/{entityId}",
    ]
    mine = reads_of_subject(rt, "default", subject_hash(rt, ID_CARD))
    assert {(r.principal, r.department, r.grant) for r in mine} == {("duty-officer", None, None)}
    assert verify(rt).ok


def test_linked_entities_pass_the_guard(api: Api, rt: Runtime, tokens: dict[str, str]) -> None:
    """join=inline|flat reads the entities a relationship names through the guard: a department with no grant
    finds the person left out (the relationship as stored), one with a grant finds it masked, and the read of
    the linked person is audited under the route that served it (issue 24)."""
    case = {
        "id": "urn:ngsi-ld:AssistanceCase:1",
        "type": "AssistanceCase",
        "applicant": {"type": "Relationship", "object": ONE},
    }
    assert api.post("/ngsi-ld/v1/entities", json=case).status_code == 201
    url, reader = f"/ngsi-ld/v1/entities/{case['id']}", tokens["reader"]
    for join in ("inline", "flat"):
        r = api.get(url, params={"join": join}, headers=HEADERS, token=reader)
        assert r.status_code == 200 and r.json()["applicant"] == case["applicant"], r.text
    assert _routes(rt) == []  # nothing of the person was read

    _grant(rt)
    inline = api.get(url, params={"join": "inline"}, headers=HEADERS, token=reader)
    person = inline.json()["applicant"]["entity"]
    assert set(person) == {"id", "type", "idCard", "name"} and person["idCard"]["value"] == "310101********1234"
    flat = api.get("/ngsi-ld/v1/entities", params={"type": "AssistanceCase", "join": "flat"}, headers=HEADERS,
                   token=reader)  # fmt: skip
    assert [d["id"] for d in flat.json()] == [case["id"], ONE] and ID_CARD not in flat.text
    assert sorted(_routes(rt)) == ["GET /ngsi-ld/v1/entities", "GET /ngsi-ld/v1/entities/{entityId}"]
    whole = api.get(url, params={"join": "inline"}, token=tokens["operator"]).json()["applicant"]["entity"]
    assert whole["idCard"]["value"] == ID_CARD and "registeredAddress" in whole
