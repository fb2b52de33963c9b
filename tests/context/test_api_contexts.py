"""@contexts over HTTP: stored contexts used by Link header, and unreachable ones give 504."""

import socket

import pytest
from conftest import Api


def _link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'}


def test_stored_context_expands_and_compacts_through_link(api: Api) -> None:
    body = {"@context": {"hp": "https://huangpu.example.gov.cn/ns#", "crowd": "hp:crowdCount", "Spot": "hp:HotSpot"}}
    r = api.post("/ngsi-ld/v1/jsonldContexts", json=body)
    assert r.status_code == 201, r.text
    path = r.headers["location"]
    served = api.get(path, token=None)  # contexts are public, as clients must fetch them
    assert served.status_code == 200 and served.json() == body
    link = _link(f"http://testserver{path}")
    e = {"id": "urn:ngsi-ld:HotSpot:bund", "type": "Spot", "crowd": {"type": "Property", "value": 31000}}
    assert api.post("/ngsi-ld/v1/entities", json=e, headers=link).status_code == 201
    got = api.get("/ngsi-ld/v1/entities/urn:ngsi-ld:HotSpot:bund", headers=link)
    assert got.json() == e
    assert path in got.headers["link"]
    plain = api.get("/ngsi-ld/v1/entities/urn:ngsi-ld:HotSpot:bund").json()
    assert plain["type"] == "https://huangpu.example.gov.cn/ns#HotSpot"
    q = api.get("/ngsi-ld/v1/entities", params={"type": "Spot", "q": "crowd>30000"}, headers=link).json()
    assert [x["id"] for x in q] == ["urn:ngsi-ld:HotSpot:bund"]
    listed = api.get("/ngsi-ld/v1/jsonldContexts", params={"details": "true"}).json()
    assert [c["kind"] for c in listed] == ["Hosted"]
    assert api.delete(path).status_code == 204
    assert api.get(path, token=None).status_code == 404


@pytest.mark.settings(context_allow_private=True)
def test_unreachable_context_is_504_and_not_cached(api: Api) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    link = _link(f"http://127.0.0.1:{port}/context.jsonld")
    for _ in range(2):  # a failure is never cached: each request tries again and fails the same way
        r = api.get("/ngsi-ld/v1/entities", params={"type": "A"}, headers=link)
        assert r.status_code == 504
        body = r.json()
        assert body["type"] == "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable"
        assert str(port) in body["detail"]


def test_bad_link_header_is_400(api: Api) -> None:
    r = api.get(
        "/ngsi-ld/v1/entities",
        params={"type": "A"},
        headers={"Link": '<not a url>; rel="http://www.w3.org/ns/json-ld#context"'},
    )
    assert r.status_code == 400 and r.json()["type"].endswith("InvalidRequest")


@pytest.mark.settings(context_allow_private=True)
def test_fetching_a_remote_context_does_not_block_other_requests(api: Api) -> None:
    import http.server
    import threading
    from concurrent.futures import ThreadPoolExecutor

    release = threading.Event()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release.wait(30)  # answers only once the test saw another request finish
            body = b'{"@context": {"crowd": "https://example.org/crowd"}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        link = _link(f"http://127.0.0.1:{server.server_address[1]}/slow.jsonld")
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(api.get, "/ngsi-ld/v1/entities", params={"type": "A"}, headers=link)
            fast = pool.submit(api.get, "/ngsi-ld/v1/entities", params={"type": "A"})
            assert fast.result(timeout=20).status_code == 200  # answered while the fetch was pending
            assert not slow.done()
            release.set()
            assert slow.result(timeout=20).status_code == 200
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_contexts_on_local_addresses_are_refused_by_default(api: Api) -> None:
    for url in (
        "http://127.0.0.1:9/c.jsonld",
        "http://localhost/c.jsonld",
        "http://10.1.2.3/c.jsonld",
        "http://169.254.169.254/latest/meta-data",
    ):
        r = api.get("/ngsi-ld/v1/entities", params={"type": "A"}, headers=_link(url))
        assert r.status_code == 504, url
        assert "CITYOS_CONTEXT_ALLOW_PRIVATE" in r.json()["detail"]


def test_a_stored_context_is_its_tenants_to_delete(api: Api) -> None:
    from cityos.auth import create_token

    district = {"id": "urn:ngsi-ld:District:pudong", "type": "District"}
    assert api.post("/ngsi-ld/v1/entities", json=district, headers={"NGSILD-Tenant": "pudong"}).status_code == 201
    ctx = {"@context": {"pm25": "https://city.example/ns#pm25"}}
    r = api.post("/ngsi-ld/v1/jsonldContexts", json=ctx, headers={"NGSILD-Tenant": "pudong"})
    assert r.status_code == 201, r.text
    pudong = r.headers["Location"]
    huangpu_token = create_token(api.rt.db, "huangpu-ops", role="operator", tenant="huangpu")
    pudong_token = create_token(api.rt.db, "pudong-ops", role="operator", tenant="pudong")

    assert api.get("/ngsi-ld/v1/jsonldContexts", token=huangpu_token).json() == []  # not its tenant's
    assert api.delete(pudong, token=huangpu_token).status_code == 404
    assert api.get(pudong, token=None).status_code == 200  # still served to everyone who reads pudong's data
    assert [u.endswith(pudong) for u in api.get("/ngsi-ld/v1/jsonldContexts", token=pudong_token).json()] == [True]
    assert api.delete(pudong, token=pudong_token).status_code == 204


CTX = "/ngsi-ld/v1/jsonldContexts"


def test_a_subscription_in_a_context_that_is_not_one_url_keeps_it_implicitly_created(api: Api) -> None:
    """NGSI-LD 5.13.1: a subscription made in an inline (or several-part) @context keeps it as an
    ImplicitlyCreated context, served here and named by the subscription's jsonldContext (ETSI 050_03_01,
    052_06, 053_07); it is deleted without reload (051_06_01) and never reloaded (051_07_01)."""
    inline = {"hp": "https://huangpu.example.gov.cn/ns#", "Spot": "hp:HotSpot"}
    body = {
        "type": "Subscription",
        "entities": [{"type": "Spot"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}},
        "@context": [inline, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"],
    }
    r = api.post("/ngsi-ld/v1/subscriptions", json=body, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 201, r.text
    sub = api.get(r.headers["location"]).json()
    url = sub["jsonldContext"]
    assert url.startswith(f"http://testserver{CTX}/")
    (listed,) = api.get(CTX, params={"kind": "ImplicitlyCreated", "details": "true"}).json()
    assert listed["URL"] == url and listed["kind"] == "ImplicitlyCreated" and listed["numberOfHits"] == 0
    assert api.get(CTX, params={"kind": "Hosted"}).json() == []
    cid = url.rsplit("/", 1)[1]
    assert api.get(f"{CTX}/{cid}", token=None).json() == {"@context": body["@context"]}
    refused = api.delete(f"{CTX}/{cid}", params={"reload": "true"})
    assert refused.status_code == 400 and "only a cached one" in refused.json()["detail"]
    assert api.delete(f"{CTX}/{cid}").status_code == 204


def test_context_parameters_and_the_core_context(api: Api) -> None:
    """details and reload take true or false (400 BadRequestData otherwise); the core @context is served and
    cannot be deleted (ETSI 052_04, 051_04, 051_08); a body without @context is InvalidRequest (050_02_01);
    a hosted context used by a request counts a hit (053_04_01)."""
    bad = api.get(CTX, params={"details": "maybe"})
    assert bad.status_code == 400 and bad.json()["type"].endswith("/BadRequestData")
    assert api.delete(f"{CTX}/nothing", params={"reload": "sometimes"}).status_code == 400
    assert api.delete(f"{CTX}/nothing", params={"reload": "true"}).status_code == 400
    assert api.delete(f"{CTX}/nothing").status_code == 404
    core = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
    from urllib.parse import quote

    served = api.get(f"{CTX}/{quote(core, safe='')}", token=None)
    assert served.status_code == 200 and "@context" in served.json()
    assert api.delete(f"{CTX}/{quote(core, safe='')}").status_code == 400
    no_context = api.post(CTX, json={"A1": "urn:ngsi-ld:attributes:A1"})
    assert no_context.status_code == 400 and no_context.json()["type"].endswith("/InvalidRequest")
    made = api.post(CTX, json={"@context": {"hp": "https://huangpu.example.gov.cn/ns#", "Spot": "hp:HotSpot"}})
    path = made.headers["location"]
    e = {"id": "urn:ngsi-ld:HotSpot:1", "type": "Spot"}
    assert api.post("/ngsi-ld/v1/entities", json=e, headers=_link(f"http://testserver{path}")).status_code == 201
    assert api.get(path, params={"details": "true"}, token=None).json()["numberOfHits"] == 1
