"""The API description is the contract: every operation lists the errors it can answer, the NGSI-LD routes
declare the bodies they read (as JSON and as JSON-LD), and no two schemas share a name.

Schemathesis checks the description against a live server (tests/security/test_schemathesis.py); these
check what it is made of, route by route.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import orjson
import pytest
from conftest import Api

from cityos.app import api_routes
from cityos.auth import route_guard

JSON, JSONLD, MERGE_PATCH = "application/json", "application/ld+json", "application/merge-patch+json"


@pytest.fixture
def doc(api: Api) -> dict[str, Any]:
    return api.get("/openapi.json").json()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_every_operation_lists_the_errors_its_make_up_allows(api: Api, doc: dict[str, Any]) -> None:
    wrong = []
    for route in api_routes(api.client.app):  # type: ignore[arg-type]
        if not route.include_in_schema:
            continue
        guarded = (route_guard(route.dependant) or ("",))[0] == "permission"
        for method in route.methods:
            codes = set(doc["paths"][route.path][method.lower()]["responses"])
            expected = {"401", "403", "404"} if guarded else set()
            if method in ("POST", "PUT", "PATCH"):
                expected.add("413")  # one body limit for every route
            if route.dependant.path_params:
                expected |= {"400", "404"}
            if missing := expected - codes:
                wrong.append(f"{method} {route.path}: {sorted(missing)} not listed")
    assert wrong == [], "\n".join(wrong)


def test_the_ngsi_ld_routes_declare_the_bodies_they_read(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    wrong = []
    for method, path, op in operations(doc):
        if not path.startswith("/ngsi-ld/") or method not in ("POST", "PUT", "PATCH"):
            continue
        content = op.get("requestBody", {}).get("content", {})
        if not {JSON, JSONLD} <= set(content):
            wrong.append(f"{method} {path}: body as {sorted(content)}")
            continue
        if "415" not in op["responses"]:  # the route reads the body itself and checks its media type
            wrong.append(f"{method} {path}: 415 not listed")
        for media in content.values():
            for ref in _refs(media["schema"]):
                if ref.rsplit("/", 1)[1] not in schemas:
                    wrong.append(f"{method} {path}: {ref} is not a component")
    assert wrong == [], "\n".join(wrong)
    merge = doc["paths"]["/ngsi-ld/v1/entities/{entity_id}"]["patch"]["requestBody"]["content"]
    assert MERGE_PATCH in merge
    entity = doc["paths"]["/ngsi-ld/v1/entities"]["post"]["requestBody"]["content"]
    assert entity[JSON]["schema"] == {"$ref": "#/components/schemas/NgsiLdEntity"}
    assert {"required": ["@context"], "type": "object"} in entity[JSONLD]["schema"]["allOf"]  # JSON-LD carries it
    assert schemas["NgsiLdEntity"]["required"] == ["id", "type"]
    batch = doc["paths"]["/ngsi-ld/v1/entityOperations/create"]["post"]
    assert batch["requestBody"]["content"][JSON]["schema"]["type"] == "array"
    assert {"201", "204", "207"} <= set(batch["responses"])


def test_the_routes_that_read_their_body_themselves_declare_it(doc: dict[str, Any]) -> None:
    """Telemetry (JSON, UltraLight text, a gateway's bulk) and the Open311 form are read raw, as NGSI-LD is."""
    for path, media in (
        ("/iot/json", JSON),
        ("/iot/ul", "text/plain"),
        ("/iot/bulk", JSON),
        ("/open311/v2/requests.{fmt}", "application/x-www-form-urlencoded"),
    ):
        assert media in doc["paths"][path]["post"]["requestBody"]["content"], path


def _refs(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        return [schema["$ref"]] if "$ref" in schema else [r for v in schema.values() for r in _refs(v)]
    if isinstance(schema, list):
        return [r for v in schema for r in _refs(v)]
    return []


CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
WHEN = "2026-12-06T08:00:00Z"
STREET = {"id": "urn:ngsi-ld:Street:doc", "type": "Street", "name": {"type": "Property", "value": "Waitan"}}
# Bodies the server takes (in this order), each sent as the media type given: the declared schema allows each.
TAKEN: list[tuple[str, str, str, Any]] = [
    ("POST", "/ngsi-ld/v1/entities", JSON, STREET),
    ("POST", "/ngsi-ld/v1/entities", JSONLD, {**STREET, "id": "urn:ngsi-ld:Street:doc-ld", "@context": CORE}),
    ("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Street:doc", MERGE_PATCH, {"lanes": 4, "name": "urn:ngsi-ld:null"}),
    ("POST", "/ngsi-ld/v1/entities/urn:ngsi-ld:Street:doc/attrs", JSON, {"speed": {"value": 30, "unitCode": "KMH"}}),
    ("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Street:doc/attrs/speed", JSON, {"value": 40}),
    ("PUT", "/ngsi-ld/v1/entities/urn:ngsi-ld:Street:doc", JSON, {"type": "Street", "lanes": 2}),
    (
        "POST",
        "/ngsi-ld/v1/entityOperations/upsert",
        JSONLD,
        [
            {
                "id": "urn:ngsi-ld:Street:b1",
                "type": "Street",
                "location": {"type": "Point", "coordinates": [121.49, 31.24]},
                "@context": CORE,
            }
        ],
    ),
    ("POST", "/ngsi-ld/v1/entityOperations/merge", JSON, [{"id": "urn:ngsi-ld:Street:b1", "lanes": 3}]),
    (
        "POST",
        "/ngsi-ld/v1/entityOperations/query",
        JSON,
        {"type": "Query", "entities": [{"type": "Street"}], "q": "lanes>1"},
    ),
    (
        "POST",
        "/ngsi-ld/v1/temporal/entities",
        JSON,
        {
            "id": "urn:ngsi-ld:Street:t1",
            "type": "Street",
            "speed": [{"type": "Property", "value": 30, "observedAt": WHEN}],
        },
    ),
    (
        "POST",
        "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Street:t1/attrs",
        JSON,
        {"speed": [{"value": 35, "observedAt": WHEN}]},
    ),
    (
        "POST",
        "/ngsi-ld/v1/temporal/entityOperations/query",
        JSON,
        {
            "type": "Query",
            "entities": [{"type": "Street"}],
            "temporalQ": {"timerel": "after", "timeAt": "2026-01-01T00:00:00Z"},
        },
    ),
    (
        "POST",
        "/ngsi-ld/v1/subscriptions",
        JSON,
        {
            "type": "Subscription",
            "entities": [{"type": "Street"}],
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}},
        },
    ),
    ("POST", "/ngsi-ld/v1/jsonldContexts", JSON, {"@context": {"lanes": "https://example.org/lanes"}}),
    ("POST", "/ngsi-ld/v1/entityOperations/delete", JSON, ["urn:ngsi-ld:Street:b1"]),
]


def test_the_declared_bodies_allow_what_the_server_takes(api: Api, doc: dict[str, Any]) -> None:
    """Never stricter than the parsers: each body the server takes is one its operation's schema allows."""
    templates = {(m, p): op for m, p, op in operations(doc)}
    wrong = []
    for method, url, media, body in TAKEN:
        r = api.request(method, url, content=orjson.dumps(body), headers={"Content-Type": media})
        assert r.status_code < 300, f"{method} {url}: {r.status_code} {r.text}"
        op = next(op for (m, path), op in templates.items() if m == method and _matches(path, url))
        schema = op["requestBody"]["content"][media]["schema"]
        if not jsonschema_rs.Draft202012Validator({**doc, **schema}).is_valid(body):
            wrong.append(f"{method} {url} as {media}: the server took a body its schema refuses")
    assert wrong == [], "\n".join(wrong)


def _matches(template: str, url: str) -> bool:
    parts, given = template.split("/"), url.split("/")
    return len(parts) == len(given) and all(p == g or p.startswith("{") for p, g in zip(parts, given, strict=True))


def test_public_writes_list_their_rate_limit(doc: dict[str, Any]) -> None:
    for path in ("/auth/login", "/open311/v2/requests.{fmt}", "/cases/follow/{token}/rating"):
        answer = doc["paths"][path]["post"]["responses"]["429"]
        assert "Retry-After" in answer["headers"], path


def test_no_two_schemas_share_a_name(doc: dict[str, Any]) -> None:
    """FastAPI names a schema by its module when two models share a class name (cityos__twin__…)."""
    assert [name for name in doc["components"]["schemas"] if "__" in name] == []
