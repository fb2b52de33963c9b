"""JSON-LD @context handling: term ↔ IRI mapping, remote contexts over real HTTP, Link headers."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.context.errors import InvalidRequest, LdContextNotAvailable
from cityos.context.jsonld import (
    CORE_CONTEXT,
    CORE_CONTEXT_URL,
    JSONLD_CONTEXT_REL,
    ContextResolver,
    TermMap,
    core_term_map,
    link_header,
    parse_link_header,
)

NGSI = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
EX = "https://example.org/"

# --- the core context alone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "iri"),
    [
        ("location", NGSI + "location"),
        ("observedAt", NGSI + "observedAt"),
        ("Property", NGSI + "Property"),
        ("Point", "https://purl.org/geojson/vocab#Point"),
        ("temperature", DEFAULT + "temperature"),
        ("ngsi-ld:foo", NGSI + "foo"),
        ("geojson:foo", "https://purl.org/geojson/vocab#foo"),
        ("urn:ngsi-ld:Street:waitan", "urn:ngsi-ld:Street:waitan"),
        ("https://schema.org/name", "https://schema.org/name"),
        ("_:b0", "_:b0"),
        ("id", "@id"),
        ("type", "@type"),
    ],
)
def test_core_expand_and_compact(term: str, iri: str) -> None:
    tm = ContextResolver().resolve(None)
    assert tm.expand(term) == iri
    assert tm.compact(iri) == term
    assert tm.context == CORE_CONTEXT_URL


def test_core_compacts_unknown_ngsi_ld_iri_to_compact_iri() -> None:
    tm = core_term_map()
    assert tm.compact(NGSI + "somethingNew") == "ngsi-ld:somethingNew"
    # under the vocabulary, but "a:b" alone would read as an IRI: a compact IRI keeps it round-tripping
    assert tm.compact(DEFAULT + "a:b") == "ngsi-ld:default-context/a:b"
    assert tm.compact("https://other.org/x") == "https://other.org/x"


def test_all_core_url_variants_mean_the_shipped_core() -> None:
    resolver = ContextResolver(stored=lambda url: pytest.fail(f"looked up {url}"))
    for url in [
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
        *(f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.{n}.jsonld" for n in range(3, 10)),
    ]:
        tm = resolver.resolve(url)
        assert tm is core_term_map()
        assert tm.context == CORE_CONTEXT_URL
    assert "@context" in CORE_CONTEXT


# --- user contexts ----------------------------------------------------------------------------------


def test_user_terms_prefixes_and_compact_iris() -> None:
    ctx = {
        "ex": EX,
        "temp": "ex:temperature",
        "airQuality": {"@id": "ex:aq", "@type": "@id"},
        "speed": "https://vocab.example.com/speed",
        "refStreet": {"@id": "ngsi-ld:refStreet", "@type": "@id"},  # a core prefix in a user context
    }
    tm = ContextResolver().resolve(ctx)
    assert tm.expand("temp") == EX + "temperature"
    assert tm.expand("airQuality") == EX + "aq"
    assert tm.expand("ex:other") == EX + "other"
    assert tm.expand("speed") == "https://vocab.example.com/speed"
    assert tm.expand("refStreet") == NGSI + "refStreet"
    assert tm.expand("humidity") == DEFAULT + "humidity"
    assert tm.compact(EX + "temperature") == "temp"
    assert tm.compact(EX + "aq") == "airQuality"
    assert tm.compact(EX + "other") == "ex:other"  # the compact IRI via the prefix
    assert tm.compact(DEFAULT + "humidity") == "humidity"
    assert tm.compact(NGSI + "location") == "location"
    assert tm.context is ctx


def test_longest_prefix_wins_and_user_term_preferred() -> None:
    ctx = {"ex": EX, "exn": EX + "ns/", "myLocation": NGSI + "location", "ex:alias": EX + "ns/t"}
    tm = ContextResolver().resolve(ctx)
    assert tm.compact(EX + "ns/x") == "exn:x"
    assert tm.compact(EX + "x") == "ex:x"
    assert tm.compact(NGSI + "location") == "myLocation"  # a user term before the core one
    assert tm.expand("location") == NGSI + "location"
    assert tm.compact(EX + "ns/t") == "ex:alias"  # a term, even one shaped like a compact IRI


def test_prefix_rule_of_json_ld_1_1() -> None:
    ctx = {
        "p": "https://p.example/no-delimiter",  # simple, but does not end with a gen-delim: not a prefix
        "qq": {"@id": "https://q.example/x", "@prefix": True},  # (q is a core term)
        "r": {"@id": "https://r.example/"},  # expanded definition without @prefix: not a prefix
    }
    tm = ContextResolver().resolve(ctx)
    assert tm.expand("p:y") == "p:y"
    assert tm.expand("qq:y") == "https://q.example/xy"
    assert tm.expand("r:y") == "r:y"
    assert tm.expand("qq://host/path") == "qq://host/path"  # '//' after the colon: an IRI, not a compact IRI


def test_user_vocab() -> None:
    tm = ContextResolver().resolve({"@vocab": "https://city.example/ns#", "name": "https://schema.org/name"})
    assert tm.expand("temperature") == "https://city.example/ns#temperature"
    assert tm.compact("https://city.example/ns#temperature") == "temperature"
    assert tm.expand("name") == "https://schema.org/name"
    assert tm.expand("location") == NGSI + "location"  # core terms do not move
    # the default vocabulary no longer applies, so its IRIs must not compact to bare terms
    assert tm.compact(DEFAULT + "temperature") == "ngsi-ld:default-context/temperature"


def test_vocab_as_compact_iri_and_terms_without_id() -> None:
    tm = ContextResolver().resolve({"ex": EX, "@vocab": "ex:v/", "speed": {"@type": "xsd:float"}})
    assert tm.expand("speed") == EX + "v/speed"
    assert tm.expand("anything") == EX + "v/anything"


def test_nested_lists_null_terms_and_null_context() -> None:
    resolver = ContextResolver()
    tm = resolver.resolve([[{"ex": EX, "a": "ex:a"}, [{"b": "ex:b"}]], {"a": None}])
    assert tm.expand("b") == EX + "b"
    assert tm.expand("a") == DEFAULT + "a"  # a null definition removes the term
    tm = resolver.resolve([{"ex": EX, "a": "ex:a"}, None, {"c": "https://c.example/c"}])
    assert tm.expand("a") == DEFAULT + "a"  # null resets the user definitions before it
    assert tm.expand("c") == "https://c.example/c"


def test_core_context_is_protected() -> None:
    ctx = {
        "location": "https://evil.example/location",
        "ngsi-ld": "https://evil.example/",
        "observedAt": None,
        "type": "https://evil.example/type",
    }
    for value in (ctx, [ctx, CORE_CONTEXT_URL], [CORE_CONTEXT_URL, ctx]):
        tm = ContextResolver().resolve(value)
        assert tm.expand("location") == NGSI + "location"
        assert tm.expand("ngsi-ld:x") == NGSI + "x"
        assert tm.expand("observedAt") == NGSI + "observedAt"
        assert tm.expand("type") == "@type"
        assert tm.compact(NGSI + "location") == "location"


def test_document_shaped_inline_context_and_ignored_keywords() -> None:
    tm = ContextResolver().resolve(
        {"@context": {"@version": 1.1, "@protected": True, "@language": "zh", "@base": "https://b/", "t": EX + "t"}}
    )
    assert tm.expand("t") == EX + "t"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"temp": 42}, "maps to a number"),
        ({"temp": ["a"]}, "maps to a list"),
        ({"temp": {"@id": 1}}, "not an IRI string"),
        ({"temp": {"@id": "a", "@reverse": "b"}}, "both @id and @reverse"),
        ({"temp": {"@id": "ex:t", "@prefix": "yes"}}, "@prefix"),
        ({"temp": {"@id": "ex:t", "@container": 3}}, "@container"),
        ({"": "https://x/"}, "empty string"),
        ({"@vocab": 5}, "@vocab"),
        ({"@vocab": "notAnIri"}, "@vocab"),
        ({"a": "b", "b": "a"}, "depends on itself"),
        ([{"a": "x"}, 7], "an entry is a number"),
        (42, "not a number"),
        (True, "not true/false"),
        ("relative/context.jsonld", "neither a known context nor an http(s) URL"),
        ("urn:ngsi-ld:Context:x", "neither a known context nor an http(s) URL"),
    ],
)
def test_invalid_inline_contexts(context: Any, message: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        ContextResolver().resolve(context)
    assert message in err.value.detail
    assert err.value.status == 400


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_stored_contexts_come_before_fetching() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/ngsi-ld/v1/jsonldContexts/abc"
    stored = {url: {"@context": {"ex": EX, "t": "ex:t"}}}
    calls: list[str] = []

    def lookup(u: str) -> dict[str, Any] | None:
        calls.append(u)
        return stored.get(u)

    resolver = ContextResolver(stored=lookup, timeout=0.5)
    assert resolver.resolve(url).expand("t") == EX + "t"
    assert resolver.resolve([url]).expand("ex:u") == EX + "u"
    resolver.resolve(url)
    assert calls == [url, url]  # the second resolve of the same value is a term-map cache hit
    del stored[url]
    resolver.forget(url)  # e.g. after the stored context was deleted
    with pytest.raises(LdContextNotAvailable, match="ConnectError"):  # now it is fetched, and nothing listens
        resolver.resolve(url)


def test_term_maps_are_cached_by_value() -> None:
    resolver = ContextResolver()
    a = resolver.resolve({"ex": EX})
    assert resolver.resolve({"ex": EX}) is a
    assert resolver.resolve({"ex": "https://other.example/"}) is not a
    assert a.key == orjson.dumps({"ex": EX}).decode()


# round trip: whatever a name expands to, its compaction expands to the same IRI
_names = st.text(alphabet="abcxyzAZ09:_-/#@.", min_size=1, max_size=12)
_user = ContextResolver().resolve(
    {"ex": EX, "a": "ex:a", "b": {"@id": "ex:b/", "@prefix": True}, "x:y": "https://xy.example/", "@vocab": EX}
)


@given(_names)
def test_round_trip_core(name: str) -> None:
    tm = core_term_map()
    iri = tm.expand(name)
    assert tm.expand(tm.compact(iri)) == iri


@given(_names)
def test_round_trip_user(name: str) -> None:
    iri = _user.expand(name)
    assert _user.expand(_user.compact(iri)) == iri


# --- remote contexts over real HTTP -----------------------------------------------------------------


class _JoiningHTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for the handler threads, so none outlives its test


class ContextServer:
    """A loopback HTTP server serving contexts, errors, slow and broken answers; counts hits per path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()  # answers sent in full
        self.flaky_ok = False
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.hits[self.path] += 1
                with contextlib.suppress(OSError):  # the client gave up (timeout tests)
                    server.answer(self)
                    server.answered[self.path] += 1

        self.httpd = _JoiningHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path
        if path == "/ctx.jsonld":
            self.send(h, 200, {"@context": {"ex": EX, "temp": "ex:temperature"}})
        elif path == "/nested.jsonld":
            self.send(h, 200, {"@context": ["ctx.jsonld", [{"more": "ex:more"}], CORE_CONTEXT_URL]})
        elif path == "/import.jsonld":
            self.send(h, 200, {"@context": {"@import": "/plain.jsonld", "mine": "ex:mine"}})
        elif path == "/plain.jsonld":
            self.send(h, 200, {"@context": {"ex": EX, "imported": "ex:imported"}})
        elif path == "/cycle-a":
            self.send(h, 200, {"@context": ["/cycle-b"]})
        elif path == "/cycle-b":
            self.send(h, 200, {"@context": ["/cycle-a"]})
        elif path == "/redirect":
            h.send_response(302)
            h.send_header("Location", "/ctx.jsonld")
            h.send_header("Content-Length", "0")
            h.end_headers()
        elif path == "/500":
            self.send(h, 500, {"error": "boom"})
        elif path == "/404":
            self.send(h, 404, {"error": "nope"})
        elif path == "/not-json":
            self.send(h, 200, b"<html>hello</html>")
        elif path == "/no-context":
            self.send(h, 200, {"ex": EX})
        elif path == "/bad-term":
            self.send(h, 200, {"@context": {"temp": 42}})
        elif path == "/huge":
            self.send(h, 200, {"@context": {"pad": "x" * 5000}})
        elif path == "/slow":
            self.release.wait(5)
            self.send(h, 200, {"@context": {}})
        elif path == "/flaky":
            if self.flaky_ok:
                self.send(h, 200, {"@context": {"flaky": EX + "flaky"}})
            else:
                self.send(h, 503, {"error": "later"})
        elif path == "/busy":
            time.sleep(0.2)  # a slow answer is the point: the concurrent resolves overlap while it is awaited
            self.send(h, 200, {"@context": {"busy": EX + "busy"}})
        else:
            self.send(h, 404, {})

    @staticmethod
    def send(h: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        h.send_response(status)
        h.send_header("Content-Type", "application/ld+json" if status == 200 else "application/json")
        h.send_header("Content-Length", str(len(raw)))
        h.end_headers()
        h.wfile.write(raw)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def server() -> Iterator[ContextServer]:
    srv = ContextServer()
    srv.thread.start()
    yield srv
    srv.release.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join()


def test_fetch_success_is_cached_and_reported(server: ContextServer) -> None:
    fetched: list[tuple[str, dict[str, Any]]] = []
    resolver = ContextResolver(timeout=0.5, on_fetch=lambda url, body: fetched.append((url, body)))
    url = server.url("/ctx.jsonld")
    tm = resolver.resolve(url)
    assert tm.expand("temp") == EX + "temperature"
    assert tm.compact(EX + "temperature") == "temp"
    assert tm.context == url
    assert resolver.resolve(url) is tm
    # a different context value with the same URL reuses the fetched document
    assert resolver.resolve([url, {"x": "ex:x"}]).expand("x") == EX + "x"
    assert server.hits["/ctx.jsonld"] == 1
    assert fetched == [(url, {"@context": {"ex": EX, "temp": "ex:temperature"}})]


def test_fetched_documents_expire(server: ContextServer) -> None:
    resolver = ContextResolver(timeout=0.5, cache_seconds=0)
    url = server.url("/ctx.jsonld")
    resolver.resolve(url)
    resolver.resolve(url)
    assert server.hits["/ctx.jsonld"] == 2


def test_nested_relative_and_imported_remote_contexts(server: ContextServer) -> None:
    resolver = ContextResolver(timeout=0.5)
    tm = resolver.resolve(server.url("/nested.jsonld"))
    assert tm.expand("temp") == EX + "temperature"
    assert tm.expand("more") == EX + "more"
    tm = resolver.resolve(server.url("/import.jsonld"))
    assert tm.expand("imported") == EX + "imported"
    assert tm.expand("mine") == EX + "mine"
    assert resolver.resolve(server.url("/redirect")).expand("temp") == EX + "temperature"


def test_cyclic_remote_contexts_are_refused(server: ContextServer) -> None:
    with pytest.raises(InvalidRequest, match="includes itself"):
        ContextResolver(timeout=0.5).resolve(server.url("/cycle-a"))


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/500", "HTTP 500"),
        ("/404", "HTTP 404"),
        ("/not-json", "not JSON"),
        ("/no-context", "not a JSON-LD context document"),
        ("/bad-term", "maps to a number"),
        ("/slow", "no answer within 0.3 s"),
    ],
)
def test_fetch_failures_are_504(server: ContextServer, path: str, reason: str) -> None:
    url = server.url(path)
    fetched: list[str] = []
    resolver = ContextResolver(timeout=0.3, on_fetch=lambda u, body: fetched.append(u))
    with pytest.raises(LdContextNotAvailable) as err:
        resolver.resolve(url)
    if path == "/slow":
        assert server.answered[path] == 0  # it gave up at its own timeout while the answer was still held back
    assert err.value.status == 504
    assert url in err.value.detail
    assert reason in err.value.detail
    assert fetched == []
    hits = server.hits[path]
    with pytest.raises(LdContextNotAvailable):
        resolver.resolve(url)
    assert server.hits[path] == hits + 1  # failures are not cached: the next request tries again


def test_size_limit(server: ContextServer) -> None:
    with pytest.raises(LdContextNotAvailable, match="larger than 1000 bytes"):
        ContextResolver(timeout=0.5, max_bytes=1000).resolve(server.url("/huge"))


def test_failure_is_not_cached(server: ContextServer) -> None:
    resolver = ContextResolver(timeout=0.5)
    url = server.url("/flaky")
    with pytest.raises(LdContextNotAvailable, match="HTTP 503"):
        resolver.resolve([url, {"a": EX + "a"}])
    server.flaky_ok = True
    tm = resolver.resolve([url, {"a": EX + "a"}])
    assert tm.expand("flaky") == EX + "flaky"
    assert server.hits["/flaky"] == 2


def test_nothing_listening_fails_fast() -> None:
    port = _closed_port()
    with pytest.raises(LdContextNotAvailable) as err:
        ContextResolver(timeout=0.5).resolve(f"http://127.0.0.1:{port}/context.jsonld")
    assert "ConnectError" in err.value.detail  # refused at once, not left to the timeout
    assert "no answer within" not in err.value.detail
    assert f"127.0.0.1:{port}" in err.value.detail


def test_concurrent_resolves_fetch_once(server: ContextServer) -> None:
    resolver = ContextResolver(timeout=2)
    url = server.url("/busy")
    with ThreadPoolExecutor(8) as pool:
        maps = list(pool.map(lambda _: resolver.resolve(url), range(8)))
    assert all(isinstance(tm, TermMap) and tm.expand("busy") == EX + "busy" for tm in maps)
    assert 1 <= server.hits["/busy"] <= 2


def test_concurrent_failures_are_shared_then_retried(server: ContextServer) -> None:
    meet = [threading.Barrier(4)]

    def stored(url: str) -> None:  # each resolve looks here first: the four meet, then look for the document at once
        if meet:
            meet[0].wait(5)

    resolver = ContextResolver(stored, timeout=0.3)
    url = server.url("/slow")

    def attempt(_: int) -> str:
        try:
            resolver.resolve(url)
        except LdContextNotAvailable as exc:
            return exc.detail
        return "ok"

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(attempt, range(4)))
    assert all("no answer within 0.3 s" in r for r in results)
    assert server.hits["/slow"] == 1  # waiters share the one attempt instead of queueing for their own
    meet.clear()
    assert "no answer within 0.3 s" in attempt(5)
    assert server.hits["/slow"] == 2  # the shared failure was not cached: the next resolve tries again


# --- Link headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "url"),
    [
        (None, None),
        ("", None),
        (link_header("https://example.org/ctx.jsonld"), "https://example.org/ctx.jsonld"),
        ('<https://e.org/c.jsonld>; rel="http://www.w3.org/ns/json-ld#context"', "https://e.org/c.jsonld"),
        (
            "<https://e.org/c.jsonld>;rel=http://www.w3.org/ns/json-ld#context;type=application/ld+json",
            "https://e.org/c.jsonld",
        ),
        (
            '<https://e.org/c.jsonld>; type="application/ld+json"; REL="http://www.w3.org/ns/json-ld#context"',
            "https://e.org/c.jsonld",
        ),
        (
            '<https://e.org/next>; rel="next", <https://e.org/c.jsonld>; rel="http://www.w3.org/ns/json-ld#context"',
            "https://e.org/c.jsonld",
        ),
        (
            '<https://e.org/a,b.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; title="x, y"',
            "https://e.org/a,b.jsonld",
        ),
        ('<https://e.org/c.jsonld>; rel="alternate http://www.w3.org/ns/json-ld#context"', "https://e.org/c.jsonld"),
        ('<https://e.org/next>; rel="next"', None),
        ('garbage, <https://e.org/c.jsonld>; rel="http://www.w3.org/ns/json-ld#context"', "https://e.org/c.jsonld"),
        (f"{link_header('https://e.org/c')}, {link_header('https://e.org/c')}", "https://e.org/c"),
    ],
)
def test_parse_link_header(header: str | None, url: str | None) -> None:
    assert parse_link_header(header) == url


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('https://e.org/c.jsonld; rel="http://www.w3.org/ns/json-ld#context"', "must start with <URL>"),
        ('<https://e.org/c.jsonld; rel="http://www.w3.org/ns/json-ld#context"', "not closed with '>'"),
        ('<>; rel="http://www.w3.org/ns/json-ld#context"', "empty"),
        ('<https://e.org/c.jsonld>; rel="http://www.w3.org/ns/json-ld#context', "not closed"),
        ('<https://e.org/c.jsonld> rel="http://www.w3.org/ns/json-ld#context"', "expected ';'"),
        ('<c.jsonld>; rel="http://www.w3.org/ns/json-ld#context"', "not an absolute URL"),
        (f"{link_header('https://e.org/a')}, {link_header('https://e.org/b')}", "names 2 JSON-LD contexts"),
    ],
)
def test_malformed_link_header(header: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        parse_link_header(header)
    assert message in err.value.detail
    assert err.value.status == 400


def test_link_header_round_trip() -> None:
    value = link_header(CORE_CONTEXT_URL)
    assert value == f'<{CORE_CONTEXT_URL}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json"'
    assert parse_link_header(value) == CORE_CONTEXT_URL
