"""@contexts over HTTP: stored contexts used by Link header, and unreachable ones give 503."""

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
def test_unreachable_context_is_503_and_not_cached(api: Api) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    link = _link(f"http://127.0.0.1:{port}/context.jsonld")
    for _ in range(2):  # a failure is never cached: each request tries again and fails the same way
        r = api.get("/ngsi-ld/v1/entities", params={"type": "A"}, headers=link)
        assert r.status_code == 503
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
        assert r.status_code == 503, url
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
