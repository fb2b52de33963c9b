"""Distributed reads: GET /entities/{id} and GET /entities asked of registered context sources (a district's
hub, here a small NGSI-LD source on loopback over real HTTP), merged by mode; local=true and a dead source.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import Api

ENTITIES = "/ngsi-ld/v1/entities"
REGS = "/ngsi-ld/v1/csourceRegistrations"
REMOTE = "urn:ngsi-ld:Building:district-1"
SHARED = "urn:ngsi-ld:Building:shared"
LOCAL = "urn:ngsi-ld:Building:city-1"


def prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


class Source:
    """An NGSI-LD context source on loopback: answers Retrieve Entity and Query Entities (by type) from the
    entities it holds, and records each request's path, parameters and headers."""

    def __init__(self, entities: list[dict[str, Any]]) -> None:
        self.entities = {e["id"]: e for e in entities}
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                params = parse_qs(url.query)
                source.requests.append((url.path, params, dict(self.headers)))
                if url.path == ENTITIES:
                    types = set(params.get("type", [""])[0].split(","))
                    body: Any = [e for e in source.entities.values() if e["type"] in types]
                elif url.path.startswith(ENTITIES + "/") and url.path[len(ENTITIES) + 1 :] in source.entities:
                    body = source.entities[url.path[len(ENTITIES) + 1 :]]
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def source() -> Iterator[Source]:
    s = Source(
        [
            {"id": REMOTE, "type": "Building", "name": prop("district school"), "floors": prop(3)},
            {"id": SHARED, "type": "Building", "name": prop("the district's name"), "floors": prop(5)},
        ]
    )
    yield s
    s.close()


@pytest.fixture
def hub(api: Api) -> Api:
    """The city's hub with its own buildings: one the source does not hold, one both hold."""
    for body in (
        {"id": LOCAL, "type": "Building", "name": prop("city hall")},
        {"id": SHARED, "type": "Building", "name": prop("the city's name")},
    ):
        assert api.post(ENTITIES, json=body).status_code == 201
    return api


def dead_endpoint() -> str:
    """A loopback address nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def register(api: Api, endpoint: str, mode: str, n: int = 1, **members: Any) -> None:
    body = {
        "id": f"urn:ngsi-ld:ContextSourceRegistration:district-{n}",
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": "Building"}]}],
        "endpoint": endpoint,
        "mode": mode,
        **members,
    }
    r = api.post(REGS, json=body)
    assert r.status_code == 201, r.text


def ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()]


def test_no_registration_asks_no_source(hub: Api, source: Source) -> None:
    assert hub.get(f"{ENTITIES}/{REMOTE}").status_code == 404
    assert ids(hub.get(ENTITIES, params={"type": "Building"})) == [LOCAL, SHARED]
    assert source.requests == []


def test_inclusive_source_counts_as_local(hub: Api, source: Source) -> None:
    register(hub, source.url, "inclusive", tenant="district")
    got = hub.get(f"{ENTITIES}/{REMOTE}")
    assert got.status_code == 200, got.text
    assert got.json()["name"]["value"] == "district school" and got.json()["floors"]["value"] == 3
    path, _, headers = source.requests[-1]
    assert path == f"{ENTITIES}/{REMOTE}"
    assert headers["NGSILD-Tenant"] == "district" and "cityos-" in headers["Via"]
    # an entity both hold: the source's attributes join the hub's
    shared = hub.get(f"{ENTITIES}/{SHARED}").json()
    assert shared["name"]["value"] == "the city's name" and shared["floors"]["value"] == 5
    # in a query: the source's entity after the hub's, merged by id, counted
    r = hub.get(ENTITIES, params={"type": "Building", "count": "true"})
    assert ids(r) == [LOCAL, SHARED, REMOTE] and r.headers["NGSILD-Results-Count"] == "3"
    assert {e["id"]: sorted(e) for e in r.json()}[SHARED] == ["floors", "id", "name", "type"]
    assert hub.get(f"{ENTITIES}/{REMOTE}", params={"options": "keyValues"}).json()["floors"] == 3


def test_auxiliary_source_fills_gaps_only(hub: Api, source: Source) -> None:
    register(hub, source.url, "auxiliary")
    shared = hub.get(f"{ENTITIES}/{SHARED}").json()
    assert shared["name"]["value"] == "the city's name"  # the hub's own value kept
    assert shared["floors"]["value"] == 5  # the attribute it lacks filled in
    assert hub.get(f"{ENTITIES}/{REMOTE}").json()["name"]["value"] == "district school"
    by_id = {e["id"]: e for e in hub.get(ENTITIES, params={"type": "Building"}).json()}
    assert by_id[SHARED]["name"]["value"] == "the city's name" and REMOTE in by_id


def test_local_true_asks_no_source(hub: Api, source: Source) -> None:
    register(hub, source.url, "inclusive")
    assert hub.get(f"{ENTITIES}/{REMOTE}", params={"local": "true"}).status_code == 404
    assert "floors" not in hub.get(f"{ENTITIES}/{SHARED}", params={"local": "true"}).json()
    assert ids(hub.get(ENTITIES, params={"type": "Building", "local": "true"})) == [LOCAL, SHARED]
    assert source.requests == []


def test_dead_source_is_skipped(hub: Api, source: Source) -> None:
    register(hub, dead_endpoint(), "inclusive", n=1)
    assert hub.get(f"{ENTITIES}/{REMOTE}").status_code == 404
    assert ids(hub.get(ENTITIES, params={"type": "Building"})) == [LOCAL, SHARED]
    register(hub, source.url, "inclusive", n=2)
    assert hub.get(f"{ENTITIES}/{REMOTE}").json()["floors"]["value"] == 3
    assert ids(hub.get(ENTITIES, params={"type": "Building"})) == [LOCAL, SHARED, REMOTE]


def test_a_request_that_came_through_here_is_not_sent_again(hub: Api, source: Source) -> None:
    register(hub, source.url, "inclusive")
    hub.get(f"{ENTITIES}/{REMOTE}")
    via = source.requests[-1][2]["Via"]
    before = len(source.requests)
    assert hub.get(f"{ENTITIES}/{REMOTE}", headers={"Via": via}).status_code == 404
    assert len(source.requests) == before


def test_registration_for_other_types_is_not_asked(hub: Api, source: Source) -> None:
    body = {
        "id": "urn:ngsi-ld:ContextSourceRegistration:parking",
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": "OffStreetParking"}]}],
        "endpoint": source.url,
    }
    assert hub.post(REGS, json=body).status_code == 201
    assert ids(hub.get(ENTITIES, params={"type": "Building"})) == [LOCAL, SHARED]
    assert source.requests == []


def test_registration_constraints_go_with_the_request(hub: Api, source: Source) -> None:
    register(
        hub,
        source.url,
        "inclusive",
        information=[{"entities": [{"type": "Building"}], "propertyNames": ["floors"]}],
        management={"localOnly": True},
    )
    shared = hub.get(f"{ENTITIES}/{SHARED}").json()
    assert shared["floors"]["value"] == 5 and shared["name"]["value"] == "the city's name"
    _, params, _ = source.requests[-1]
    assert params["attrs"] == ["floors"] and params["local"] == ["true"]
    # asked for the name only: the registration offers none of it, so the source is not asked
    before = len(source.requests)
    assert hub.get(f"{ENTITIES}/{SHARED}", params={"attrs": "name"}).json()["name"]["value"] == "the city's name"
    assert len(source.requests) == before


def test_csf_selects_the_sources_and_ordering_stays_local(hub: Api, source: Source) -> None:
    register(hub, source.url, "inclusive", sourceType={"type": "Property", "value": "sensor"})
    assert REMOTE in ids(hub.get(ENTITIES, params={"type": "Building", "csf": 'sourceType=="sensor"'}))
    assert "csf" not in source.requests[-1][1]
    before = len(source.requests)
    assert REMOTE not in ids(hub.get(ENTITIES, params={"type": "Building", "csf": 'sourceType=="archive"'}))
    assert len(source.requests) == before
    r = hub.get(ENTITIES, params={"type": "Building", "orderBy": "name"})
    assert r.status_code == 400 and r.json()["type"].endswith("BadRequestData")
    assert ids(hub.get(ENTITIES, params={"type": "Building", "orderBy": "name", "local": "true"})) == [LOCAL, SHARED]
