"""NGSI-LD subscriptions: the API, matching, and HTTP delivery to real receivers on loopback."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import Api, running, wait_for
from receivers import WAIT, Receiver

from cityos.context.qeval import eval_q
from cityos.context.qlang import parse_q
from cityos.context.subscriptions.notify import Notifier

BASE = "/ngsi-ld/v1/subscriptions"
ENTITIES = "/ngsi-ld/v1/entities"


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**kw: Any) -> Receiver:
        r = Receiver(**kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def fast(api: Api) -> Api:
    """The API with the notifier tuned to retry quickly."""
    cfg = running(api, Notifier).config
    cfg.backoff, cfg.backoff_max, cfg.attempts, cfg.fail_after, cfg.close_wait = 0.01, 0.05, 3, 2, 5.0
    # a receiver thread starved for 5 s on a loaded machine made every attempt time out while the receiver still
    # recorded them later, out of order with the next notification: the tests are about order and content
    cfg.timeout = 30.0
    return api


def sub_body(uri: str, **members: Any) -> dict[str, Any]:
    notification = members.pop("notification", {})
    endpoint = notification.pop("endpoint", {})
    return {
        "type": "Subscription",
        "entities": [{"type": "AirQualityObserved"}],
        "notification": {"endpoint": {"uri": uri, **endpoint}, **notification},
        **members,
    }


def subscribe(api: Api, body: dict[str, Any]) -> str:
    r = api.post(BASE, json=body)
    assert r.status_code == 201, r.text
    return r.headers["Location"].rsplit("/", 1)[1]


def air(n: int, pm25: float, **attrs: Any) -> dict[str, Any]:
    doc = {"id": f"urn:ngsi-ld:AirQualityObserved:{n}", "type": "AirQualityObserved"}
    doc["pm25"] = {"type": "Property", "value": pm25}
    for name, value in attrs.items():
        doc[name] = value if isinstance(value, dict) else {"type": "Property", "value": value}
    return doc


def create(api: Api, doc: dict[str, Any]) -> None:
    r = api.post(ENTITIES, json=doc)
    assert r.status_code == 201, r.text


def set_attrs(api: Api, n: int, **values: Any) -> None:
    body = {k: {"type": "Property", "value": v} for k, v in values.items()}
    r = api.patch(f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:{n}/attrs", json=body)
    assert r.status_code == 204, r.text


def until(api: Api, sub_id: str, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The subscription once ``pred`` holds for it (delivery status is written after each send)."""
    last: list[dict[str, Any]] = []

    def check() -> dict[str, Any] | None:
        last[:] = [api.get(f"{BASE}/{sub_id}").json()]
        return last[0] if pred(last[0]) else None

    return wait_for(check, WAIT, what=lambda: last)  # type: ignore[no-any-return]


def ids(notifications: list[dict[str, Any]]) -> list[list[str]]:
    return [[e["id"] for e in n["data"]] for n in notifications]


# --- CRUD and validation ----------------------------------------------------------------------------


def test_crud(api: Api) -> None:
    body = sub_body("http://127.0.0.1:9/x", id="urn:ngsi-ld:Subscription:s1", description="air", throttling=0)
    assert subscribe(api, body) == "urn:ngsi-ld:Subscription:s1"
    got = api.get(f"{BASE}/urn:ngsi-ld:Subscription:s1")
    assert got.status_code == 200
    doc = got.json()
    assert doc["id"] == "urn:ngsi-ld:Subscription:s1" and doc["type"] == "Subscription"
    assert doc["status"] == "active" and "isActive" not in doc and doc["description"] == "air"
    assert "timesSent" not in doc["notification"]  # none before the first notification (ETSI 028_06)
    assert doc["entities"] == [{"type": "AirQualityObserved"}]
    assert doc["notificationTrigger"] == ["attributeCreated", "attributeUpdated"]  # the default, NGSI-LD 5.2.12

    dup = api.post(BASE, json=body)
    assert dup.status_code == 409 and dup.json()["type"].endswith("/AlreadyExists")

    generated = subscribe(api, sub_body("https://example.org/n"))
    assert generated.startswith("urn:ngsi-ld:Subscription:")
    listed = api.get(f"{BASE}?count=true&limit=1")
    assert listed.headers["NGSILD-Results-Count"] == "2" and len(listed.json()) == 1
    assert api.get(BASE, headers={"NGSILD-Tenant": "elsewhere"}).json() == []

    assert api.patch(f"{BASE}/{generated}", json={"description": "now", "isActive": False}).status_code == 204
    doc = api.get(f"{BASE}/{generated}").json()
    assert doc["description"] == "now" and doc["status"] == "paused" and doc["isActive"] is False
    bad = api.patch(f"{BASE}/{generated}", json={"notification": {"format": "xml", "endpoint": {"uri": "http://a/"}}})
    assert bad.status_code == 400 and "notification.format" in bad.json()["detail"]

    assert api.delete(f"{BASE}/{generated}").status_code == 204
    gone = api.delete(f"{BASE}/{generated}")
    assert gone.status_code == 404 and gone.json()["type"].endswith("/ResourceNotFound")
    assert api.get(f"{BASE}/{generated}").status_code == 404
    assert api.patch(f"{BASE}/{generated}", json={"description": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"type": "Sub"}, 400, "'type'"),
        ({"entities": [{"id": "urn:x"}]}, 400, "entities[0].type"),
        ({"entities": [{"type": "A", "idPattern": "("}]}, 400, "entities[0].idPattern"),
        ({"entities": None}, 400, "'entities' or 'watchedAttributes'"),
        ({"watchedAttributes": []}, 400, "watchedAttributes"),
        ({"q": "pm25>>1"}, 400, "'q'"),
        ({"geoQ": {"georel": "near"}}, 400, "geoQ"),
        ({"throttling": -1}, 400, "throttling"),
        ({"expiresAt": "soon"}, 400, "expiresAt"),
        ({"notification": None}, 400, "'notification'"),
        ({"notification": {"endpoint": {"uri": "ftp://x/"}}}, 400, "endpoint.uri"),
        ({"notification": {"endpoint": {"uri": "http://x/", "accept": "text/xml"}}}, 400, "accept"),
        (
            {"notification": {"endpoint": {"uri": "http://x/", "receiverInfo": [{"key": "a b", "value": "v"}]}}},
            400,
            "receiverInfo",
        ),
        ({"timeInterval": 0}, 400, "timeInterval"),
        ({"timeInterval": 60, "watchedAttributes": ["pm25"]}, 400, "exclude each other"),
        ({"timeInterval": 60, "throttling": 5}, 400, "exclude each other"),
        ({"timeInterval": 60, "entities": None, "watchedAttributes": None}, 400, "needs"),
        ({"notificationTrigger": ["entityChanged"]}, 400, "'entityChanged' is unknown"),
        ({"jsonldContext": "unknownContext"}, 400, "jsonldContext"),
        ({"expiresAt": "2020-01-01T00:00:00Z"}, 400, "has passed"),
        ({"notificationTrigger": []}, 400, "notificationTrigger"),
        ({"notificationTrigger": "entityDeleted"}, 400, "notificationTrigger"),
        ({"notification": {"endpoint": {"uri": "http://x/"}, "sysAttrs": "yes"}}, 400, "sysAttrs"),
        ({"csf": "(("}, 400, "'csf'"),  # a query as q is (ETSI 5811_02_03)
        ({"entities": [{"type": "(A|"}]}, 400, "entities[0].type"),
    ],
)
def test_invalid_subscriptions(api: Api, change: dict[str, Any], status: int, words: str) -> None:
    body = sub_body("http://127.0.0.1:9/x")
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    r = api.post(BASE, json=body)
    assert r.status_code == status, r.text
    problem = r.json()
    assert problem["status"] == status and words in problem["detail"], problem
    assert problem["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/")


def test_list_pages_with_prev_and_next_links(api: Api) -> None:
    """The list's pages link the ones before and after (NGSI-LD 5.5.9; ETSI 031_02), beside the @context's
    Link of a JSON answer; a page that holds everything links none."""
    for n in range(3):
        subscribe(api, sub_body("http://127.0.0.1:9/x", id=f"urn:ngsi-ld:Subscription:p{n}"))

    def page_links(**params: Any) -> list[str]:
        r = api.get(BASE, params=params, headers={"Accept": "application/ld+json"})
        assert r.status_code == 200, r.text
        return sorted(link.strip() for link in r.headers.get("Link", "").split(",") if link.strip())

    base = "/ngsi-ld/v1/subscriptions"
    assert page_links(limit=1, offset=1) == [
        f'<{base}?limit=1&offset=0>;rel="prev";type="application/ld+json"',
        f'<{base}?limit=1&offset=2>;rel="next";type="application/ld+json"',
    ]
    assert page_links(limit=1, offset=2) == [f'<{base}?limit=1&offset=1>;rel="prev";type="application/ld+json"']
    assert page_links(limit=15) == []
    r = api.get(BASE, params={"limit": 2, "count": "true"})  # JSON: the @context's Link first, other parameters kept
    context_link, next_link = r.headers["Link"].split(", ")
    assert "json-ld#context" in context_link
    assert next_link == f'<{base}?limit=2&offset=2&count=true>;rel="next";type="application/json"'


def test_type_expressions_in_entity_selectors(fast: Api, receivers: Callable[..., Receiver]) -> None:
    """entities[].type may be a type expression (NGSI-LD 4.17; ETSI 046_16): an entity of a type it admits
    notifies, another does not; ";" asks for both types; a malformed one is 400."""
    either, both = receivers(), receivers()
    subscribe(fast, {**sub_body(either.url), "entities": [{"type": "(Tower|AirQualityObserved)"}]})
    subscribe(fast, {**sub_body(both.url), "entities": [{"type": "AirQualityObserved;Tower"}]})
    create(fast, {**air(0, 5), "id": "urn:ngsi-ld:Vehicle:v1", "type": "Vehicle"})
    create(fast, {**air(0, 5), "id": "urn:ngsi-ld:Tower:t1", "type": ["Tower", "AirQualityObserved"]})
    create(fast, air(1, 80))
    assert ids(either.wait_for(2)) == [["urn:ngsi-ld:Tower:t1"], ["urn:ngsi-ld:AirQualityObserved:1"]]
    assert ids(both.wait_for(1)) == [["urn:ngsi-ld:Tower:t1"]]
    assert len(either.got) == 2  # the vehicle sent to neither: the air entity came after it to the same queue
    stored = fast.get(f"{BASE}?limit=10").json()
    assert {tuple(e["type"] for e in s["entities"]) for s in stored} == {
        ("(Tower|AirQualityObserved)",),
        ("AirQualityObserved;Tower",),
    }
    bad = fast.post(BASE, json={**sub_body(either.url), "entities": [{"type": "(Tower|"}]})
    assert bad.status_code == 400 and "entities[0].type" in bad.json()["detail"], bad.text


def test_an_unreachable_jsonld_context_is_refused_with_504(api: Api) -> None:
    """A jsonldContext is fetched when given: one that cannot be is LdContextNotAvailable, 504 (NGSI-LD v1.9.1
    Table 6.3.4-1; ETSI 028_07_02), on create and on update; nothing is stored."""
    unreachable = "http://127.0.0.1:9/ngsi-ld-core-context-non-existing.jsonld"  # loopback: refused by default
    body = sub_body("http://127.0.0.1:9/x", id="urn:ngsi-ld:Subscription:ctx", jsonldContext=unreachable)
    r = api.post(BASE, json=body)
    assert r.status_code == 504, r.text
    assert r.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable"
    assert api.get(f"{BASE}/urn:ngsi-ld:Subscription:ctx").status_code == 404
    sub_id = subscribe(api, sub_body("http://127.0.0.1:9/x"))
    r = api.patch(f"{BASE}/{sub_id}", json={"jsonldContext": unreachable})
    assert r.status_code == 504 and "jsonldContext" not in api.get(f"{BASE}/{sub_id}").json()


def test_read_only_and_unknown_members_are_not_kept(api: Api) -> None:
    """What the server provides (status, the notification's counts) is not taken from the client, and a member
    NGSI-LD does not define is not kept (clause 5.2.12; ETSI 5811_02_04)."""
    body = sub_body("http://127.0.0.1:9/x", id="urn:ngsi-ld:Subscription:m", status="expired", __context="http://a/")
    body["notification"]["timesSent"] = 42
    subscribe(api, body)
    doc = api.get(f"{BASE}/urn:ngsi-ld:Subscription:m").json()
    assert "__context" not in doc and doc["status"] == "active" and "timesSent" not in doc["notification"]


def test_a_subscription_is_read_in_the_readers_context(api: Api) -> None:
    """Its names are served in the @context of the request that reads it (ETSI 029_05_02): made in a context
    of its own, read in the core context they come back as full IRIs, a type expression name by name."""
    ns = "https://huangpu.example.gov.cn/ns#"
    body = {
        **sub_body("http://127.0.0.1:9/x", id="urn:ngsi-ld:Subscription:ctx"),
        "entities": [{"type": "Spot"}, {"type": "(Spot|Tower)"}],
        "watchedAttributes": ["crowd"],
        "@context": {"Spot": f"{ns}HotSpot", "crowd": f"{ns}crowdCount"},
    }
    r = api.post(BASE, json=body, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 201, r.text
    doc = api.get(f"{BASE}/urn:ngsi-ld:Subscription:ctx").json()
    assert doc["entities"] == [{"type": f"{ns}HotSpot"}, {"type": f"({ns}HotSpot|Tower)"}]
    assert doc["watchedAttributes"] == [f"{ns}crowdCount"]
    (listed,) = api.get(BASE).json()
    assert listed["entities"] == doc["entities"]


def test_q_written_percent_encoded(fast: Api, receivers: Callable[..., Receiver]) -> None:
    """A subscription's q written as in a URL query is decoded once (ETSI 046_05_01: name=="Eiffel%20Tower")."""
    rx = receivers()
    subscribe(fast, sub_body(rx.url, q='district=="Old%20Town"'))
    create(fast, air(2, 10, district="New Town"))
    create(fast, air(1, 10, district="Old Town"))
    assert ids(rx.wait_for(1)) == [["urn:ngsi-ld:AirQualityObserved:1"]]


def test_simplified_multi_attributes_by_dataset_id(fast: Api, receivers: Callable[..., Receiver]) -> None:
    """In the simplified form a multi-attribute is its values by datasetId, "@none" the default (NGSI-LD 4.5.4):
    on a read and in a notification, where a deleted instance is Null under its datasetId (ETSI 046_22_07)."""
    rx = receivers()
    german, french = "urn:ngsi-ld:Dataset:german-name", "urn:ngsi-ld:Dataset:french-name"
    body = sub_body(rx.url, notificationTrigger=["attributeDeleted"], notification={"format": "keyValues"})
    subscribe(fast, body)
    doc = air(1, 80)
    doc["name"] = [
        {"type": "Property", "value": "Eiffel Tower"},
        {"type": "Property", "value": "Tour Eiffel", "datasetId": french},
        {"type": "Property", "value": "Eiffelturm", "datasetId": german},
    ]
    create(fast, doc)
    got = fast.get(f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:1", params={"options": "keyValues"}).json()
    assert got["name"] == {"dataset": {"@none": "Eiffel Tower", french: "Tour Eiffel", german: "Eiffelturm"}}
    assert got["pm25"] == 80  # one instance: its value alone
    two_places = {
        "location": [
            {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [9.0, 9.0]}, "datasetId": german},
            {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.49, 31.23]}},
        ]
    }
    assert fast.post(f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:1/attrs", json=two_places).status_code == 204
    geo = fast.get(
        f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:1",
        params={"options": "keyValues"},
        headers={"Accept": "application/geo+json"},
    ).json()
    assert geo["geometry"] == {"type": "Point", "coordinates": [121.49, 31.23]}  # the default instance's (4.5.17.1)
    assert set(geo["properties"]["location"]["dataset"]) == {"@none", german}
    r = fast.delete(f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:1/attrs/name", params={"datasetId": french})
    assert r.status_code == 204, r.text
    (note,) = rx.wait_for(1)
    names = note["data"][0]["name"]
    assert names == {"dataset": {"@none": "Eiffel Tower", german: "Eiffelturm", french: "urn:ngsi-ld:null"}}


def test_permissions(api: Api) -> None:
    from cityos.auth.service import create_token

    reader = create_token(api.client.app.state.runtime.db, "dashboard", role="reader")
    assert api.get(BASE, token=reader).status_code == 200
    assert api.post(BASE, json=sub_body("http://127.0.0.1:9/x"), token=reader).status_code == 403


# --- delivery ---------------------------------------------------------------------------------------


def test_create_and_update_notify(fast: Api, receivers: Callable[..., Receiver]) -> None:
    rx = receivers()
    body = sub_body(
        rx.url,
        notification={
            "format": "keyValues",
            "attributes": ["pm25"],
            "endpoint": {"receiverInfo": [{"key": "X-Token", "value": "abc"}]},
        },
    )
    sub_id = subscribe(fast, body)
    create(fast, air(1, 80, district="Huangpu"))
    set_attrs(fast, 1, pm25=95)
    first, second = rx.wait_for(2)
    assert first["type"] == "Notification" and first["subscriptionId"] == sub_id
    assert first["id"].startswith("urn:ngsi-ld:Notification:") and "notifiedAt" in first
    entity = {"id": "urn:ngsi-ld:AirQualityObserved:1", "type": "AirQualityObserved"}
    assert first["data"] == [{**entity, "pm25": 80}]
    assert second["data"] == [{**entity, "pm25": 95}]
    headers = {k.lower(): v for k, v in rx.got[0][1].items()}
    assert headers["x-token"] == "abc" and headers["content-type"] == "application/json"
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in headers["link"]
    doc = until(fast, sub_id, lambda d: d["notification"].get("timesSent") == 2)
    assert doc["notification"]["lastSuccess"] and doc["notification"]["status"] == "ok"


def test_normalized_ld_json_whole_entity_on_update(fast: Api, receivers: Callable[..., Receiver]) -> None:
    rx = receivers()
    subscribe(fast, sub_body(rx.url, notification={"endpoint": {"accept": "application/ld+json"}}))
    create(fast, air(1, 80, district="Huangpu"))
    set_attrs(fast, 1, pm25=95)
    _, update = rx.wait_for(2)
    assert "@context" in update and rx.got[1][1]["Content-Type"] == "application/ld+json"
    (entity,) = update["data"]
    assert entity["@context"] == update["@context"]  # each entity a JSON-LD document (ETSI 046_14_01)
    assert entity["pm25"] == {"type": "Property", "value": 95}
    assert entity["district"] == {"type": "Property", "value": "Huangpu"}  # loaded: not in the update event


def test_dataset_ids_sys_attrs_and_the_read_after_a_notification(fast: Api, receivers: Callable[..., Receiver]) -> None:
    """datasetId sends those instances only (ETSI 046_19); notification.sysAttrs adds the entity's createdAt and
    modifiedAt (046_17_01); a read right after the notification arrived counts it (046_11_01: the status not yet
    written is read from the notifier: here it is never written while the test runs)."""
    running(fast, Notifier).config.flush_interval = 3600.0  # the status is not written while the test runs
    rx = receivers()
    body = sub_body(rx.url, datasetId=["urn:ngsi-ld:Dataset:a"], notification={"sysAttrs": True})
    sub_id = subscribe(fast, body)
    doc = air(1, 80)
    doc["pm25"] = [
        {"type": "Property", "value": 80},
        {"type": "Property", "value": 81, "datasetId": "urn:ngsi-ld:Dataset:a"},
    ]
    create(fast, doc)
    (note,) = rx.wait_for(1)
    (entity,) = note["data"]
    assert entity["pm25"]["value"] == 81 and entity["pm25"]["datasetId"] == "urn:ngsi-ld:Dataset:a"
    assert "createdAt" in entity and "modifiedAt" in entity
    until(fast, sub_id, lambda d: d["notification"].get("timesSent") == 1)  # seen before it is written
    # the success is known once the receiver's answer is back, a moment after it counted as sent
    doc = until(fast, sub_id, lambda d: "lastSuccess" in d["notification"])
    assert doc["notification"]["status"] == "ok" and doc["notification"]["timesSent"] == 1


def test_notification_pick_omit_and_the_simplified_format(fast: Api, receivers: Callable[..., Receiver]) -> None:
    """NGSI-LD v1.8: notification.pick / omit choose the members sent; "simplified" names keyValues."""
    rx, rx_omit = receivers(), receivers()
    picked = subscribe(fast, sub_body(rx.url, notification={"format": "simplified", "pick": ["id", "pm25"]}))
    omitted = subscribe(fast, sub_body(rx_omit.url, notification={"omit": ["type", "district"]}))
    create(fast, air(1, 80, district="Huangpu"))
    (note,) = rx.wait_for(1)
    assert note["data"] == [{"id": "urn:ngsi-ld:AirQualityObserved:1", "pm25": 80}]
    (note,) = rx_omit.wait_for(1)
    assert note["data"] == [{"id": "urn:ngsi-ld:AirQualityObserved:1", "pm25": {"type": "Property", "value": 80}}]
    for sub_id in (picked, omitted):  # both deliveries recorded: nothing left in flight for the next test
        until(fast, sub_id, lambda d: d["notification"].get("timesSent") == 1)


@pytest.mark.parametrize(
    ("notification", "words"),
    [
        ({"pick": ["id"], "omit": ["id"]}, "both picked and omitted"),
        ({"pick": ["id"], "attributes": ["pm25"]}, "exclude each other"),
        ({"omit": ["pm25"], "attributes": ["pm25"]}, "exclude each other"),
        ({"pick": []}, "non-empty list"),
        ({"format": "simplified", "showChanges": True}, "cannot go with"),
        ({"format": "keyValues", "showChanges": True}, "cannot go with"),
        ({"showChanges": "yes"}, "true or false"),
    ],
)
def test_clashing_notification_pick_omit_is_refused(api: Api, notification: dict[str, Any], words: str) -> None:
    r = api.post(BASE, json=sub_body("http://example.org/notify", notification=notification))
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("BadRequestData") and words in r.json()["detail"]


def test_watched_attributes(fast: Api, receivers: Callable[..., Receiver]) -> None:
    rx = receivers()
    subscribe(fast, sub_body(rx.url, watchedAttributes=["pm25"], notification={"format": "concise"}))
    create(fast, air(1, 80, temperature=20))
    set_attrs(fast, 1, temperature=21)  # not watched: no notification
    set_attrs(fast, 1, pm25=90)  # the sentinel
    notes = rx.wait_for(2)
    assert [n["data"][0]["pm25"] for n in notes] == [80, 90]
    assert notes[1]["data"][0]["temperature"] == 21 and len(rx.got) == 2


def test_q_filter(fast: Api, receivers: Callable[..., Receiver]) -> None:
    rx, rx_and = receivers(), receivers()
    subscribe(fast, sub_body(rx.url, q="pm25>100"))
    subscribe(fast, sub_body(rx_and.url, q='pm25>100;district=="Huangpu"', watchedAttributes=["pm25"]))
    create(fast, air(1, 50, district="Huangpu"))
    create(fast, air(2, 150, district="Jinshan"))
    set_attrs(fast, 1, pm25=120)  # q reads district, which the update event does not carry
    assert ids(rx.wait_for(2)) == [["urn:ngsi-ld:AirQualityObserved:2"], ["urn:ngsi-ld:AirQualityObserved:1"]]
    assert ids(rx_and.wait_for(1)) == [["urn:ngsi-ld:AirQualityObserved:1"]]
    set_attrs(fast, 2, pm25=160)  # Jinshan: not for rx_and; a sentinel for rx
    rx.wait_for(3)
    assert len(rx_and.got) == 1


def test_geoq_near(fast: Api, receivers: Callable[..., Receiver]) -> None:
    rx = receivers()
    geo_q = {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": [121.47, 31.23]}
    subscribe(fast, sub_body(rx.url, geoQ=geo_q))

    def at(lon: float, lat: float) -> dict[str, Any]:
        return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}

    create(fast, air(1, 10, location=at(121.6, 31.3)))  # far away
    create(fast, air(2, 10, location=at(121.471, 31.231)))  # about 150 m away
    assert ids(rx.wait_for(1)) == [["urn:ngsi-ld:AirQualityObserved:2"]]


def test_hanging_receiver_does_not_delay_others(fast: Api, receivers: Callable[..., Receiver]) -> None:
    release = threading.Event()
    hanging, healthy = receivers(hang=release), receivers()
    subscribe(fast, sub_body(hanging.url))
    subscribe(fast, sub_body(healthy.url))
    create(fast, air(1, 10))
    assert hanging.entered.wait(WAIT)
    healthy.wait_for(1)
    assert not release.is_set() and hanging.got == []  # B was served while A's receiver is still blocked
    release.set()
    hanging.wait_for(1)


def test_retries_then_success(fast: Api, receivers: Callable[..., Receiver]) -> None:
    rx = receivers(fail_first=2)
    sub_id = subscribe(fast, sub_body(rx.url))
    create(fast, air(1, 10))
    rx.wait_for(1)
    assert rx.attempts == 3
    doc = until(fast, sub_id, lambda d: "lastSuccess" in d["notification"])
    assert doc["notification"]["timesSent"] == 1 and "lastFailure" not in doc["notification"]
    assert doc["status"] == "active"


def test_failing_receiver_marks_failed_and_patch_resumes(fast: Api, receivers: Callable[..., Receiver]) -> None:
    rx = receivers(status=500)
    sub_id = subscribe(fast, sub_body(rx.url))
    create(fast, air(1, 10))
    create(fast, air(2, 10))
    doc = until(fast, sub_id, lambda d: d["status"] == "failed")
    assert doc["notification"]["timesSent"] == 2 and doc["notification"]["status"] == "failed"
    assert rx.attempts == 2 * 3
    create(fast, air(3, 10))  # failed: not sent

    rx.status = 200
    assert fast.patch(f"{BASE}/{sub_id}", json={"isActive": True}).status_code == 204
    assert fast.get(f"{BASE}/{sub_id}").json()["status"] == "active"
    create(fast, air(4, 10))
    assert ids(rx.wait_for(1)) == [["urn:ngsi-ld:AirQualityObserved:4"]]


def test_throttling_coalesces(fast: Api, receivers: Callable[..., Receiver]) -> None:
    rx = receivers()
    subscribe(fast, sub_body(rx.url, throttling=3, notification={"format": "keyValues"}))
    create(fast, air(1, 10))
    rx.wait_for(1)
    set_attrs(fast, 1, pm25=11)
    set_attrs(fast, 1, pm25=12)
    create(fast, air(2, 20))
    notes = rx.wait_for(2)
    assert {e["id"]: e["pm25"] for e in notes[1]["data"]} == {
        "urn:ngsi-ld:AirQualityObserved:1": 12,
        "urn:ngsi-ld:AirQualityObserved:2": 20,
    }


def test_periodic_subscription_sends_every_matching_entity_each_interval(
    fast: Api, receivers: Callable[..., Receiver]
) -> None:
    rx = receivers()
    create(fast, air(1, 80))
    create(fast, air(2, 10))  # q excludes it
    create(fast, air(3, 120))
    body = sub_body(rx.url, timeInterval=0.5, q="pm25>50", notification={"format": "keyValues"})
    subscribe(fast, body)
    first, second = rx.wait_for(2)[:2]
    expected = {"urn:ngsi-ld:AirQualityObserved:1": 80, "urn:ngsi-ld:AirQualityObserved:3": 120}
    assert {e["id"]: e["pm25"] for e in first["data"]} == expected
    assert {e["id"]: e["pm25"] for e in second["data"]} == expected
    assert first["id"] != second["id"]  # each round is a notification of its own

    set_attrs(fast, 2, pm25=60)  # a change notifies nothing by itself, but the next round has it
    rounds = len(rx.got)
    notes = rx.wait_for(rounds + 2)
    assert all(len(n["data"]) in (2, 3) for n in notes[rounds:])
    assert len(notes[-1]["data"]) == 3


def test_expired_subscription_does_not_notify(fast: Api, receivers: Callable[..., Receiver]) -> None:
    from cityos.context.subscriptions import matching, parsing, storage

    old, live = receivers(), receivers()
    past = sub_body(old.url, expiresAt="2020-01-01T00:00:00Z")
    refused = fast.post(BASE, json=past)  # a client may not make one expired (NGSI-LD 5.2.12; ETSI 5811_01_01)
    assert refused.status_code == 400 and "has passed" in refused.json()["detail"]
    rt = fast.client.app.state.runtime
    stored = parsing.parse_subscription({**past, "id": "urn:ngsi-ld:Subscription:old"}, matching.term_map_for(rt, None))
    sub_id = storage.insert_subscription(rt, "default", stored).id  # one that expired since it was made
    subscribe(fast, sub_body(live.url))
    assert fast.get(f"{BASE}/{sub_id}").json()["status"] == "expired"
    create(fast, air(1, 10))
    live.wait_for(1)
    assert old.got == []


def delete_entity(api: Api, n: int) -> None:
    assert api.delete(f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:{n}").status_code == 204


def test_entity_deleted_trigger_notifies_deletions_only(fast: Api, receivers: Callable[..., Receiver]) -> None:
    """notificationTrigger entityDeleted: creations and updates do not notify; a deletion does, with the id,
    type and deletedAt (and createdAt/modifiedAt with sysAttrs) and no attribute (ETSI 046_21_01/02)."""
    rx, rx_sys, rx_default = receivers(), receivers(), receivers()
    plain = sub_body(rx.url, notificationTrigger=["entityDeleted"], notification={"format": "keyValues"})
    sub_id = subscribe(fast, plain)
    with_sys = sub_body(rx_sys.url, notificationTrigger=["entityDeleted"], notification={"sysAttrs": True})
    subscribe(fast, with_sys)
    subscribe(fast, sub_body(rx_default.url))  # the default triggers: no deletion notification
    assert fast.get(f"{BASE}/{sub_id}").json()["notificationTrigger"] == ["entityDeleted"]
    create(fast, air(1, 80, district="Huangpu"))
    set_attrs(fast, 1, pm25=95)
    delete_entity(fast, 1)
    create(fast, air(2, 10))  # the sentinel of the default one
    (note,) = rx.wait_for(1)
    (entity,) = note["data"]
    assert entity.keys() == {"id", "type", "deletedAt"} and entity["id"] == "urn:ngsi-ld:AirQualityObserved:1"
    (note,) = rx_sys.wait_for(1)
    assert note["data"][0].keys() == {"id", "type", "createdAt", "modifiedAt", "deletedAt"}
    assert [n["data"][0]["id"][-1] for n in rx_default.wait_for(3)] == ["1", "1", "2"]
    until(fast, sub_id, lambda d: d["notification"].get("timesSent") == 1)


def test_attribute_deleted_and_show_changes(fast: Api, receivers: Callable[..., Receiver]) -> None:
    """attributeDeleted shows a deleted attribute as NGSI-LD Null; showChanges adds the previous values, on
    updates, on deletions and on a deleted entity's watched attributes (ETSI 046_22, 046_31, 046_34)."""
    rx = receivers()
    triggers = ["attributeUpdated", "attributeDeleted"]
    sub_id = subscribe(fast, sub_body(rx.url, notificationTrigger=triggers, notification={"showChanges": True}))
    create(fast, air(1, 80, district="Huangpu"))  # attributeCreated is not asked for: no notification
    set_attrs(fast, 1, pm25=95)
    # each change waited for: a notification shows the entity as it is when matched (loaded then)
    (updated,) = rx.wait_for(1)
    r = fast.delete(f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:1/attrs/district")
    assert r.status_code == 204, r.text
    rx.wait_for(2)
    delete_entity(fast, 1)
    _, deleted, gone = rx.wait_for(3)
    (entity,) = updated["data"]
    assert entity["pm25"] == {"type": "Property", "value": 95, "previousValue": 80}
    assert entity["district"] == {"type": "Property", "value": "Huangpu"}  # unchanged: no previous value
    (entity,) = deleted["data"]
    assert entity["district"] == {"type": "Property", "value": "urn:ngsi-ld:null", "previousValue": "Huangpu"}
    assert entity["pm25"] == {"type": "Property", "value": 95}
    (entity,) = gone["data"]
    assert entity["pm25"] == {"type": "Property", "value": "urn:ngsi-ld:null", "previousValue": 95}
    assert "deletedAt" in entity and "district" not in entity
    until(fast, sub_id, lambda d: d["notification"].get("timesSent") == 3)


def test_watched_attribute_deleted_with_its_entity(fast: Api, receivers: Callable[..., Receiver]) -> None:
    """attributeDeleted on a watched attribute: deleting another attribute is not notified; deleting the entity
    is, with the watched attribute as NGSI-LD Null (ETSI 046_22_03, 046_22_12)."""
    rx = receivers()
    body = sub_body(rx.url, watchedAttributes=["district"], notificationTrigger=["attributeDeleted"])
    body["notification"]["format"] = "keyValues"
    subscribe(fast, body)
    create(fast, air(1, 80, district="Huangpu", temperature=20))
    assert fast.delete(f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:1/attrs/temperature").status_code == 204
    delete_entity(fast, 1)
    (note,) = rx.wait_for(1)
    (entity,) = note["data"]
    assert entity == {
        "id": "urn:ngsi-ld:AirQualityObserved:1",
        "type": "AirQualityObserved",
        "deletedAt": entity["deletedAt"],
        "district": "urn:ngsi-ld:null",
    }


def test_deleted_instances_and_a_whole_attribute(fast: Api, receivers: Callable[..., Receiver]) -> None:
    """Deleting one instance (datasetId) sends that instance as Null beside those kept (ETSI 046_22_06);
    deleting the whole attribute sends one Null, of its default instance, with its createdAt, modifiedAt and
    deletedAt under sysAttrs (046_22_08, 046_22_13)."""
    rx = receivers()
    body = sub_body(rx.url, notificationTrigger=["attributeDeleted"], notification={"sysAttrs": True})
    subscribe(fast, body)
    doc = air(1, 80)
    doc["pm25"] = [
        {"type": "Property", "value": 80},
        {"type": "Property", "value": 81, "datasetId": "urn:ngsi-ld:Dataset:a"},
    ]
    create(fast, doc)
    url = f"{ENTITIES}/urn:ngsi-ld:AirQualityObserved:1/attrs/pm25"
    assert fast.delete(url, params={"datasetId": "urn:ngsi-ld:Dataset:a"}).status_code == 204
    rx.wait_for(1)  # shown as the entity is when matched: the next deletion waits for it
    assert fast.delete(url).status_code == 204
    one, whole = rx.wait_for(2)
    kept, gone = one["data"][0]["pm25"]
    assert kept["value"] == 80 and gone["value"] == "urn:ngsi-ld:null" and gone["datasetId"] == "urn:ngsi-ld:Dataset:a"
    null = whole["data"][0]["pm25"]
    assert null["value"] == "urn:ngsi-ld:null" and "datasetId" not in null
    assert {"createdAt", "modifiedAt", "deletedAt"} <= null.keys()


# --- the q evaluator against the independent expectations of test_sqlq ------------------------------


def test_eval_q_agrees_with_sqlq_expectations() -> None:
    import test_sqlq as t

    groups = [t.NUMBERS, t.STRINGS, t.DATES, t.LISTS_AND_RANGES, t.REGEX, t.EXISTS, t.LOGIC, t.PATHS]
    groups += [t.RELATIONSHIPS_AND_INSTANCES, t.TYPE_SAFETY]
    for group in groups:
        for q, pred in group:
            got = {eid for eid, (_, attrs) in t.DATA.items() if eval_q(parse_q(q), t._stored(attrs), t.expand)}
            assert got == t.expected(pred), q
