"""No request can stall or swell the server (issue 16, findings 3 and 5, JSON depth, rate limits): regular
expressions from requests run on RE2, every body is bounded before it is parsed, JSON nests at most
``max_json_depth`` levels, and the public routes are rate-limited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import orjson
import pytest
import re2
from conftest import Api

from cityos.core.patterns import UnsupportedPattern, compile_pattern

REDOS = "^urn:ngsi-ld:R:(a|a)*!"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"
T = TypeVar("T")


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    return body


# --- finding 3: ReDoS ----------------------------------------------------------------------------------


def _r_entities(api: Api, n: int = 3, a: int = 26) -> None:
    for k in range(n):
        eid = "urn:ngsi-ld:R:" + "a" * (a + k)  # 26 a's took 6.45 s on the backtracking engine, doubling per a
        r = api.post("/ngsi-ld/v1/entities", json={"id": eid, "type": "R", "name": {"type": "Property", "value": eid}})
        assert r.status_code == 201, r.text


# A backtracking engine takes 2^n steps for REDOS over n a's: with the texts below it would answer in years,
# so an answer at all is the linear engine's. It is awaited in a thread with a deadline that only keeps a
# regression from hanging the run (a bound on waiting, not a measure of speed).
NEVER_ON_BACKTRACKING = 48  # a's: 6.45 s * 2^22, about 300 days
GIVE_UP_SECONDS = 120


def _answered(call: Callable[[], T]) -> T:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result(timeout=GIVE_UP_SECONDS)


@pytest.mark.parametrize(
    "params",
    [{"idPattern": REDOS}, {"type": "R", "q": "name~=(a|a)*!"}],
    ids=["idPattern", "q"],
)
def test_the_redos_pattern_answers_in_milliseconds_and_health_is_unaffected(api: Api, params: dict[str, str]) -> None:
    _r_entities(api, a=NEVER_ON_BACKTRACKING)
    r = _answered(lambda: api.get("/ngsi-ld/v1/entities", params=params))
    assert r.status_code == 200, r.text
    assert r.json() == []
    with ThreadPoolExecutor(4) as pool:
        slow = [pool.submit(api.get, "/ngsi-ld/v1/entities", params=params) for _ in range(3)]
        health = pool.submit(api.get, "/health", token=None)
        assert health.result(timeout=5).status_code == 200
        assert all(f.result(timeout=5).status_code == 200 for f in slow)


def test_a_matching_pattern_still_finds_its_entities(api: Api) -> None:
    _r_entities(api)
    r = api.get("/ngsi-ld/v1/entities", params={"idPattern": "^urn:ngsi-ld:R:(a|a)*$"})
    assert r.status_code == 200, r.text
    assert len(r.json()) == 3
    r = api.get("/ngsi-ld/v1/entities", params={"type": "R", "q": "name~=a{27}"})
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:R:" + "a" * 27, "urn:ngsi-ld:R:" + "a" * 28]


@pytest.mark.parametrize(
    ("params", "construct"),
    [
        ({"idPattern": "^urn:(?=ngsi)"}, "lookaround"),
        ({"idPattern": "(?<!x)urn"}, "lookaround"),
        ({"idPattern": r"^urn:ngsi-ld:(R):\1"}, "backreference"),
        ({"type": "R", "q": r"name~=(a)\1"}, "backreference"),
        ({"type": "R", "q": "name~=a(?!b)"}, "lookaround"),
    ],
)
def test_a_pattern_the_linear_engine_cannot_run_is_refused_naming_the_construct(
    api: Api, params: dict[str, str], construct: str
) -> None:
    body = problem(api.get("/ngsi-ld/v1/entities", params=params), 400)
    assert construct in body["detail"] and "RE2" in body["detail"], body


def test_a_subscription_id_pattern_is_compiled_for_the_linear_engine(api: Api) -> None:
    sub = {
        "type": "Subscription",
        "entities": [{"type": "R", "idPattern": "(?<=x)urn"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}},
    }
    body = problem(api.post("/ngsi-ld/v1/subscriptions", json=sub), 400)
    assert "lookaround" in body["detail"], body


def test_compiled_patterns_run_in_linear_time() -> None:
    rx = compile_pattern(REDOS)
    assert isinstance(rx, type(re2.compile("a")))  # RE2's, not Python's backtracking re
    assert _answered(lambda: rx.search("urn:ngsi-ld:R:" + "a" * 10_000)) is None  # 2^10,000 steps backtracking
    assert _answered(lambda: rx.search("urn:ngsi-ld:R:" + "a" * 10_000 + "!")) is not None
    with pytest.raises(UnsupportedPattern, match="backreference"):
        compile_pattern(r"(a)\1")
    with pytest.raises(UnsupportedPattern, match="RE2 syntax"):
        compile_pattern("(unclosed")


# --- finding 5: one body limit, before parsing --------------------------------------------------------

# The routes that parsed 50 MB before answering; those marked public needed no token.
BODY_ROUTES = [
    ("/cases", False),
    ("/cases/batch", False),
    ("/iot/devices", False),
    ("/vitals/indicators/flood-risk", False),
    ("/twin/units/urn:ngsi-ld:Unit:x/whatif", False),
    ("/auth/login", True),
    ("/open311/v2/requests.json", True),
    ("/cases/follow/not-a-token/rating", True),
    ("/ngsi-ld/v1/entities", False),
    ("/iot/bulk?k=key", True),
]
LIMIT = 4096


def _too_large(r: httpx.Response) -> dict[str, Any]:
    body = problem(r, 413)
    assert body["type"] == "https://cityos.dev/problems/payload-too-large"
    assert str(LIMIT) in body["detail"] and "CITYOS_MAX_BODY_BYTES" in body["detail"]
    return body


@pytest.mark.settings(max_body_bytes=LIMIT)
@pytest.mark.parametrize(("path", "public"), BODY_ROUTES)
def test_a_body_over_the_limit_is_refused_on_every_route_before_it_is_parsed(api: Api, path: str, public: bool) -> None:
    # A body of empty objects: the kind that cost 650 MB of memory for 25 MB when parsed.
    body = b"[" + b",".join([b"{}"] * (LIMIT // 3 + 10)) + b"]"
    token = None if public else ""
    headers = {"content-type": "application/json"}
    _too_large(api.post(path, content=body, headers=headers, token=token))


def test_a_streamed_body_is_counted_chunk_by_chunk_and_refused_once_past_the_limit() -> None:
    # No Content-Length (chunked): the ASGI app behind the limit must never run, and reading stops once
    # the chunks pass the limit, whatever the client would still send.
    from cityos.app import _refused
    from cityos.bodylimit import BodyLimit

    reached, read, sent = [], [], []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])

    async def receive() -> dict[str, Any]:
        read.append(1)
        return {"type": "http.request", "body": b" " * 1024, "more_body": True}  # an endless body

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/auth/login",
        "raw_path": b"/auth/login",
        "query_string": b"",
        "headers": [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")],
    }
    asyncio.run(BodyLimit(app, max_bytes=LIMIT, max_depth=64, refuse=_refused)(scope, receive, send))
    assert reached == []
    assert len(read) == LIMIT // 1024 + 1
    assert sent[0]["status"] == 413
    body = orjson.loads(sent[1]["body"])
    assert body["status"] == 413 and f"more than {LIMIT} bytes" in body["detail"]


@pytest.mark.settings(max_body_bytes=LIMIT)
def test_a_body_within_the_limit_is_served_as_before(api: Api) -> None:
    r = api.post("/auth/login", json={"username": "nobody", "password": "x" * 20}, token=None)
    assert r.status_code == 401, r.text
    e = {"id": "urn:ngsi-ld:R:small", "type": "R", "name": {"type": "Property", "value": "x" * 100}}
    assert api.post("/ngsi-ld/v1/entities", json=e).status_code == 201


# --- JSON depth: one limit the parser and the serialiser agree on --------------------------------------


def _nested(levels: int) -> bytes:
    return b'{"a":' * (levels - 1) + b"[]" + b"}" * (levels - 1)


@pytest.mark.parametrize("levels", [65, 300, 1022])
@pytest.mark.parametrize(
    ("path", "public"),
    [("/iot/bulk?k=key", True), ("/ngsi-ld/v1/entities", False), ("/cases", False), ("/auth/login", True)],
)
def test_json_nested_deeper_than_the_limit_is_a_400_naming_it(api: Api, path: str, public: bool, levels: int) -> None:
    # 255 to 1,022 levels were parsed, then failed to serialise: a 500. /iot/bulk needs no token.
    r = api.post(
        path, content=_nested(levels), headers={"content-type": "application/json"}, token=None if public else ""
    )
    body = problem(r, 400)
    assert "64 levels" in body["detail"], body
    if path.startswith("/ngsi-ld/"):
        assert body["type"] == ERR + "InvalidRequest"
    else:
        assert body["type"] == "https://cityos.dev/problems/json-too-deep"


@pytest.mark.parametrize("media", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data", None])
def test_deep_json_is_refused_whatever_media_type_it_claims(api: Api, media: str | None) -> None:
    # /iot/bulk parses its body as JSON whatever the Content-Type (curl's default is a form): it gave a 500.
    headers = {"content-type": media} if media else {}
    body = problem(api.post("/iot/bulk?k=key", content=_nested(300), headers=headers, token=None), 400)
    assert body["type"] == "https://cityos.dev/problems/json-too-deep"


def test_json_at_the_limit_is_taken_in_and_given_back(api: Api) -> None:
    value: Any = "deep"
    for _ in range(64 - 3):  # the entity, its attribute and its value object are three of the 64 levels
        value = {"a": value}
    e = {"id": "urn:ngsi-ld:R:deep", "type": "R", "doc": {"type": "Property", "value": value}}
    assert api.post("/ngsi-ld/v1/entities", json=e).status_code == 201
    r = api.get("/ngsi-ld/v1/entities/urn:ngsi-ld:R:deep")
    assert r.status_code == 200 and r.json()["doc"]["value"] == value
    assert api.get("/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:R:deep").status_code == 200


def test_brackets_inside_strings_do_not_count_as_depth(api: Api) -> None:
    e = {"id": "urn:ngsi-ld:R:text", "type": "R", "note": {"type": "Property", "value": "[" * 500 + '\\"{' * 100}}
    assert api.post("/ngsi-ld/v1/entities", json=e).status_code == 201


# --- rate limits on the public routes ------------------------------------------------------------------


def _from(api: Api, address: str) -> Any:
    """A client of the same app at another client address."""
    from fastapi.testclient import TestClient

    return TestClient(api.client.app, client=(address, 50000), raise_server_exceptions=False)


def _throttled(r: httpx.Response, whose: str) -> dict[str, Any]:
    body = problem(r, 429)
    assert body["type"] == "https://cityos.dev/problems/too-many-requests"
    assert whose in body["detail"] and "try again in" in body["detail"]
    assert 1 <= int(r.headers["retry-after"]) <= 60 and body["retryAfter"] == int(r.headers["retry-after"])
    return body


@pytest.mark.settings(rate_limit_login="3/minute")
def test_logins_are_limited_per_client_address(api: Api) -> None:
    stranger = _from(api, "203.0.113.5")
    for n in range(3):  # different names: the rate holds whatever the account
        assert stranger.post("/auth/login", json={"username": f"user{n}", "password": "x" * 12}).status_code == 401
    _throttled(stranger.post("/auth/login", json={"username": "user9", "password": "x" * 12}), "from this address")
    other = _from(api, "198.51.100.8")
    assert other.post("/auth/login", json={"username": "user0", "password": "x" * 12}).status_code == 401


@pytest.mark.settings(rate_limit_public="2/minute", rate_limit_app="3/minute")
def test_open311_reports_are_limited_per_address_and_per_api_key(api: Api) -> None:
    from cityos.auth import create_token

    key = create_token(api.rt.db, "citizen-app", role="reporter")
    url = "/open311/v2/requests.json"
    first = _from(api, "203.0.113.5")
    for _ in range(2):  # incomplete reports (400): what counts is that they were sent
        assert first.post(url, data={"api_key": key}).status_code == 400
    _throttled(first.post(url, data={"api_key": key}), "from this address")
    # keys nobody issued count against no app (each is a 403), so nobody can use up an app's rate with them
    for n in range(4):
        assert _from(api, f"203.0.113.{20 + n}").post(url, data={"api_key": f"cos_made-up-{n}"}).status_code == 403
    assert _from(api, "203.0.113.6").post(url, data={"api_key": key}).status_code == 400
    _throttled(_from(api, "203.0.113.7").post(url, data={"api_key": key}), "reports of this app")


@pytest.mark.settings(rate_limit_public="100/minute", rate_limit_token="2/minute")
@pytest.mark.parametrize("action", ["rating", "confirm"])
def test_ratings_and_confirmations_are_limited_per_follow_token(api: Api, action: str) -> None:
    url = f"/cases/follow/cos-follow-guess/{action}"
    body = {"rating": 5}
    for address in ("203.0.113.5", "203.0.113.6"):
        assert _from(api, address).post(url, json=body).status_code == 404
    _throttled(_from(api, "203.0.113.7").post(url, json=body), "with this token")


@pytest.mark.settings(rate_limit_public="2/minute", rate_limit_token="100/minute")
def test_follow_link_writes_are_limited_per_address(api: Api) -> None:
    client = _from(api, "203.0.113.5")
    for n in range(2):
        assert client.post(f"/cases/follow/guess-{n}/confirm").status_code == 404
    _throttled(client.post("/cases/follow/guess-9/confirm"), "from this address")


def test_a_rate_that_cannot_be_read_is_refused_at_start() -> None:
    from pydantic import ValidationError

    from cityos.config import Settings

    with pytest.raises(ValidationError, match="is not a rate"):
        Settings(rate_limit_login="many")
