"""NGSI-LD context sources: registrations (create, retrieve, update, delete, query, validation, modes) and
csourceSubscriptions with csourceNotifications to a real receiver on loopback. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Api, wait_for
from receivers import WAIT, Receiver

REGS = "/ngsi-ld/v1/csourceRegistrations"
CSUBS = "/ngsi-ld/v1/csourceSubscriptions"
RID = "urn:ngsi-ld:ContextSourceRegistration:district-1"


def registration(**members: Any) -> dict[str, Any]:
    return {
        "id": RID,
        "type": "ContextSourceRegistration",
        "information": [
            {"entities": [{"type": "Building", "id": "urn:ngsi-ld:Building:b1"}], "propertyNames": ["name"]},
            {"entities": [{"type": "OffStreetParking", "idPattern": ".*downtown$"}]},
        ],
        "endpoint": "http://district.example/ngsi-ld/v1",
        **members,
    }


def register(api: Api, body: dict[str, Any]) -> str:
    r = api.post(REGS, json=body)
    assert r.status_code == 201, r.text
    return r.headers["Location"].rsplit("/", 1)[1]


def test_crud(api: Api) -> None:
    assert register(api, registration(mode="inclusive", csourceProperty1="aValue")) == RID
    got = api.get(f"{REGS}/{RID}").json()
    assert got["endpoint"] == "http://district.example/ngsi-ld/v1"
    assert got["information"][0]["propertyNames"] == ["name"] and got["csourceProperty1"] == "aValue"
    assert api.post(REGS, json=registration()).json()["type"].endswith("AlreadyExists")
    assert api.patch(f"{REGS}/{RID}", json={"endpoint": "http://city.example/"}).status_code == 204
    assert api.get(f"{REGS}/{RID}").json()["endpoint"] == "http://city.example/"
    sys = api.get(f"{REGS}/{RID}", params={"options": "sysAttrs"}).json()
    assert sys["createdAt"] <= sys["modifiedAt"]
    assert api.delete(f"{REGS}/{RID}").status_code == 204
    assert api.get(f"{REGS}/{RID}").status_code == 404
    assert api.delete(f"{REGS}/{RID}").status_code == 404
    assert api.patch(f"{REGS}/{RID}", json={"endpoint": "http://x.example/"}).status_code == 404


def test_an_id_is_made_when_none_is_given(api: Api) -> None:
    body = registration()
    del body["id"]
    assert register(api, body).startswith("urn:ngsi-ld:ContextSourceRegistration:")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"information": None}, "null"),
        ({"information": []}, "information"),
        ({"information": [{}]}, "empty"),
        ({"type": "Building"}, "ContextSourceRegistration"),
        ({"endpoint": "ftp://x"}, "endpoint"),
        ({"mode": "sometimes"}, "mode"),
        ({"operations": ["fly"]}, "operations"),
        ({"mode": "auxiliary", "operations": ["updateEntity"]}, "auxiliary"),
        ({"expiresAt": "2018-11-29T14:53:15Z"}, "passed"),
        ({"management": "yes"}, "management"),
        ({"management": {"cacheDuration": "bogus"}}, "cacheDuration"),
        ({"management": {"cooldown": 0}}, "cooldown"),
        ({"management": {"timeout": -5}}, "timeout"),
        ({"management": {"localOnly": "yes"}}, "localOnly"),
        ({"contextSourceInfo": [{"key": "k", "value": 1}]}, "contextSourceInfo"),
        ({"observationInterval": {"endAt": "2020-01-01T00:00:00Z"}}, "observationInterval"),
        ({"location": {"type": "Point", "coordinates": [500, 0]}}, "location"),
    ],
)
def test_invalid_registrations_are_bad_request_data(api: Api, change: dict[str, Any], words: str) -> None:
    r = api.post(REGS, json=registration(**change))
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("BadRequestData") and words in r.text


def test_a_valid_management_member_is_kept(api: Api) -> None:
    management = {"cacheDuration": "PT5M", "cooldown": 500, "timeout": 3000, "localOnly": True}
    register(api, registration(management=management, mode="auxiliary", operations=["retrieveOps"]))
    assert api.get(f"{REGS}/{RID}").json()["management"] == management


def held(mode: str, attrs: list[str], rid: str = RID) -> dict[str, Any]:
    """A registration of one entity by id and the attributes ``attrs`` of it, in ``mode``."""
    info = {"entities": [{"type": "Building", "id": "urn:ngsi-ld:Building:b1"}], "propertyNames": attrs}
    return registration(id=rid, mode=mode, operations=["retrieveOps"], information=[info])


def test_redirect_and_exclusive_over_entities_held_here_conflict(api: Api) -> None:
    entity = {"id": "urn:ngsi-ld:Building:b1", "type": "Building", "name": {"type": "Property", "value": "x"}}
    assert api.post("/ngsi-ld/v1/entities", json=entity).status_code == 201
    for mode in ("redirect", "exclusive"):
        r = api.post(REGS, json=held(mode, ["name"]))
        assert r.status_code == 409 and r.json()["type"].endswith("Conflict"), r.text
    register(api, held("exclusive", ["height"]))  # an attribute the entity does not have here


@pytest.mark.parametrize(
    "information",
    [
        [{"entities": [{"type": "Building", "id": "urn:ngsi-ld:Building:b1"}]}],  # no attributes
        [{"entities": [{"type": "Building"}], "propertyNames": ["name"]}],  # a group by type
        [{"entities": [{"type": "Building", "idPattern": ".*"}], "propertyNames": ["name"]}],
        [{"propertyNames": ["name"]}],
    ],
)
def test_an_exclusive_registration_names_entities_and_attributes(api: Api, information: list[Any]) -> None:
    r = api.post(REGS, json=registration(mode="exclusive", information=information))
    assert r.status_code == 400 and r.json()["type"].endswith("BadRequestData"), r.text


def test_nothing_else_covers_what_an_exclusive_registration_holds(api: Api) -> None:
    register(api, held("exclusive", ["name", "height"]))
    other = "urn:ngsi-ld:ContextSourceRegistration:other"
    for mode in ("exclusive", "redirect"):
        r = api.post(REGS, json=held(mode, ["height"], other))
        assert r.status_code == 409 and r.json()["type"].endswith("Conflict"), r.text
    register(api, held("redirect", ["colour"], other))  # another attribute
    register(api, held("inclusive", ["name"], "urn:ngsi-ld:ContextSourceRegistration:third"))


def _ids(api: Api, **params: Any) -> list[str]:
    r = api.get(REGS, params=params)
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()]


def test_query(api: Api) -> None:
    register(api, registration(location={"type": "Point", "coordinates": [121.47, 31.23]}, csourceProperty1="a"))
    other = "urn:ngsi-ld:ContextSourceRegistration:any"
    interval = {"startAt": "2020-08-01T22:07:00Z", "endAt": "2021-08-01T21:07:00Z"}
    register(api, {**registration(), "id": other, "information": [{"propertyNames": ["height"]}]} | {
        "observationInterval": interval})  # fmt: skip
    assert _ids(api, type="Building") == [RID, other]  # an information without entities holds any entity
    assert _ids(api, type="Vehicle") == [other]
    assert _ids(api, type="Building", attrs="name") == [RID]
    assert _ids(api, attrs="height") == [RID, other]  # RID's second information holds every attribute
    assert _ids(api, attrs="name") == [RID]
    assert _ids(api, id="urn:ngsi-ld:Building:b2") == [other]
    assert _ids(api, type="OffStreetParking", idPattern=".*downtown$") == [RID, other]
    assert _ids(api, id="urn:ngsi-ld:OffStreetParking:p-downtown") == [RID, other]
    assert _ids(api, q='csourceProperty1=="a"') == [RID]
    assert _ids(api, type="Building", csf='endpoint=="http://district.example/ngsi-ld/v1"') == [RID, other]
    assert _ids(api, scopeQ="/Shanghai/#") == []
    assert api.patch(f"{REGS}/{other}", json={"scope": ["/Shanghai/Huangpu"]}).status_code == 204
    assert _ids(api, type="Building", scopeQ="/Shanghai/#") == [other]
    assert _ids(api, type="Building", scopeQ="/Shanghai/+;/Beijing") == []
    geo = {"georel": "near;maxDistance==2000", "geometry": "Point", "coordinates": "[121.471,31.231]"}
    assert _ids(api, type="Building", **geo) == [RID]
    assert _ids(api, type="Building", timerel="before", timeAt="2021-08-01T22:00:00Z") == [other]
    assert _ids(api, type="Building", timerel="after", timeAt="2022-08-01T22:00:00Z") == []
    page = api.get(REGS, params={"type": "Building", "limit": 1, "offset": 1, "count": "true"})
    assert [x["id"] for x in page.json()] == [other] and page.headers["NGSILD-Results-Count"] == "2"
    assert 'rel="prev"' in page.headers["Link"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"id": "invalidUri"},
        {"q": "(invalidQuery"},
        {"type": "Building", "georel": "within"},
        {"type": "Building", "timerel": "before"},
    ],
)
def test_invalid_queries_are_bad_request_data(api: Api, params: dict[str, str]) -> None:
    r = api.get(REGS, params=params)
    assert r.status_code == 400 and r.json()["type"].endswith("BadRequestData"), r.text


def test_names_are_read_in_the_readers_context(api: Api) -> None:
    ctx = {"@context": {"Building": "https://city.example/ns#Building"}}
    r = api.post(REGS, json={**registration(), **ctx}, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 201, r.text
    plain = api.get(f"{REGS}/{RID}").json()  # the core context: the type's full IRI
    assert plain["information"][0]["entities"][0]["type"] == "https://city.example/ns#Building"
    assert _ids(api, type="https://city.example/ns#Building") == [RID]


def test_expired_registrations_are_not_served(api: Api) -> None:
    register(api, registration(expiresAt="2099-01-01T00:00:00Z"))
    assert api.patch(f"{REGS}/{RID}", json={"expiresAt": None}).status_code == 204
    assert "expiresAt" not in api.get(f"{REGS}/{RID}").json()


def test_tenants_are_apart(api: Api) -> None:
    register(api, registration())
    r = api.get(f"{REGS}/{RID}", headers={"NGSILD-Tenant": "district"})
    assert r.status_code == 404


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver()
    yield rx
    rx.close()


def csub(uri: str, **members: Any) -> dict[str, Any]:
    return {"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"endpoint": {"uri": uri}},
            **members}  # fmt: skip


def test_csource_subscription_crud_and_validation(api: Api) -> None:
    r = api.post(CSUBS, json=csub("http://127.0.0.1:9/n", id="urn:ngsi-ld:Subscription:c1", isActive=False))
    assert r.status_code == 201, r.text
    got = api.get(f"{CSUBS}/urn:ngsi-ld:Subscription:c1").json()
    assert got["status"] == "paused" and got["entities"] == [{"type": "Building"}]
    assert api.post(CSUBS, json=csub("http://127.0.0.1:9/n", id="urn:ngsi-ld:Subscription:c1")).status_code == 409
    assert api.post(CSUBS, json={"type": "Subscription", "entities": [{"type": "B"}]}).status_code == 400
    assert api.post(CSUBS, json=csub("http://127.0.0.1:9/n", type="X")).status_code == 400
    assert api.post(CSUBS, json=csub("http://127.0.0.1:9/n", expiresAt="2000-01-01T00:00:00Z")).status_code == 400
    assert api.patch(f"{CSUBS}/urn:ngsi-ld:Subscription:c1", json={"isActive": True}).status_code == 204
    assert api.get(f"{CSUBS}/urn:ngsi-ld:Subscription:c1").json()["status"] == "active"
    assert [s["id"] for s in api.get(CSUBS).json()] == ["urn:ngsi-ld:Subscription:c1"]
    assert api.delete(f"{CSUBS}/urn:ngsi-ld:Subscription:c1").status_code == 204
    assert api.get(f"{CSUBS}/urn:ngsi-ld:Subscription:c1").status_code == 404
    assert api.get(f"{CSUBS}/notauri").status_code == 400


def test_csource_notifications(api: Api, receiver: Receiver) -> None:
    register(api, registration())
    r = api.post(CSUBS, json=csub(receiver.url, id="urn:ngsi-ld:Subscription:c2", watchedAttributes=["name"]))
    assert r.status_code == 201, r.text
    first = receiver.seen.first(1, WAIT)[0][0]  # initially, the registrations it matches
    assert first["type"] == "ContextSourceNotification" and first["triggerReason"] == "newlyMatching"
    assert first["subscriptionId"] == "urn:ngsi-ld:Subscription:c2"
    # only the information members the subscription selects
    assert [i["propertyNames"] for i in first["data"][0]["information"]] == [["name"]]
    assert api.patch(f"{REGS}/{RID}", json={"endpoint": "http://city.example/"}).status_code == 204
    second = receiver.seen.first(2, WAIT)[1][0]
    assert second["triggerReason"] == "updated" and second["data"][0]["endpoint"] == "http://city.example/"
    api.delete(f"{REGS}/{RID}")
    third = receiver.seen.first(3, WAIT)[2][0]
    assert third["triggerReason"] == "noLongerMatching" and third["data"][0]["id"] == RID
    sub = wait_for(lambda: (s := api.get(f"{CSUBS}/urn:ngsi-ld:Subscription:c2").json())["notification"].get(
        "timesSent") == 3 and s)  # fmt: skip
    assert sub["notification"]["status"] == "ok" and "lastSuccess" in sub["notification"]


def test_temporal_q_selects_by_interval_and_a_changed_subscription_is_sent_what_it_matches(
    api: Api, receiver: Receiver
) -> None:
    interval = {"startAt": "2020-08-01T22:07:00Z", "endAt": "2021-08-01T21:07:00Z"}
    register(api, registration(managementInterval=interval))
    temporal = {"timerel": "after", "timeAt": "2021-09-01T00:00:00Z", "timeproperty": "createdAt"}
    sid = "urn:ngsi-ld:Subscription:c3"
    assert api.post(CSUBS, json=csub(receiver.url, id=sid, temporalQ=temporal)).status_code == 201
    bad = csub(receiver.url, id="urn:ngsi-ld:Subscription:c4", temporalQ={"timerel": "before"})
    assert api.post(CSUBS, json=bad).status_code == 400
    temporal["timeAt"] = "2021-01-01T00:00:00Z"  # now within the interval
    assert api.patch(f"{CSUBS}/{sid}", json={"temporalQ": temporal}).status_code == 204
    got = receiver.seen.first(1, WAIT)[0][0]
    assert got["triggerReason"] == "newlyMatching" and [r["id"] for r in got["data"]] == [RID]


def test_a_failed_notification_is_counted(api: Api) -> None:
    register(api, registration())
    sid = "urn:ngsi-ld:Subscription:c5"
    assert api.post(CSUBS, json=csub("http://127.0.0.1:9/nobody", id=sid)).status_code == 201
    sub = wait_for(
        lambda: (s := api.get(f"{CSUBS}/{sid}").json())["notification"].get("timesFailed") == 1 and s,
        what=lambda: api.get(f"{CSUBS}/{sid}").json(),
    )
    assert sub["notification"]["status"] == "failed" and sub["notification"]["timesSent"] == 1


def test_a_private_endpoint_the_operator_has_not_allowed_is_refused(api: Api) -> None:
    r = api.post(CSUBS, json=csub("http://10.1.2.3/notify"))
    assert r.status_code == 400 and r.json()["type"].endswith("BadRequestData"), r.text
