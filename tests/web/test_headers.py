"""Every answer carries the security headers, the pages hold nothing that a strict Content-Security-Policy
would block, and the dashboard's scripts write markup only through their one escaping helper."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import Api
from fastapi.testclient import TestClient

from cityos.app import create_app
from cityos.runtime import Runtime

STATIC = Path(__file__).parents[2] / "cityos" / "web" / "static"
FILES = sorted(f"/static/{p.relative_to(STATIC).as_posix()}" for p in STATIC.rglob("*") if p.is_file())
LIBRARIES = [
    "/static/vendor/echarts.min.js", "/static/vendor/swagger-ui-bundle.js", "/static/vendor/swagger-ui.css",
    "/static/vendor/redoc.standalone.js", "/static/vendor/noto-sans-sc/400.css",
    "/static/vendor/noto-sans-sc/files/noto-sans-sc-latin-400-normal.woff2",
]  # fmt: skip
PAGES = ["/", "/docs", "/redoc"]
# JSON answers and errors of the API: a 200, the OpenAPI document, a 401, a 404 and an NGSI-LD 401
API = ["/health", "/openapi.json", "/cases", "/no-such-page", "/ngsi-ld/v1/entities?type=Streetlight"]


def directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in policy.split(";")) if d}


@pytest.mark.parametrize("path", PAGES + FILES + LIBRARIES + API)
def test_every_answer_has_the_security_headers(api: Api, path: str) -> None:
    r = api.get(path, token=None)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "camera=()" in r.headers["permissions-policy"]
    csp = directives(r.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"]  # no inline script, no eval
    assert csp["connect-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]


class _Scripts(HTMLParser):
    """The inline scripts, event-handler attributes and other sites a page names."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self.elsewhere: list[str] = []
        self._open_script: bool = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.handlers += [f"<{tag} {k}>" for k in named if k.startswith("on")]
        self.elsewhere += [v for k, v in named.items() if k in ("src", "href") and v and "//" in v]
        self._open_script = tag == "script" and "src" not in named

    def handle_data(self, data: str) -> None:
        if self._open_script and data.strip():
            self.inline.append(data.strip()[:60])

    def handle_endtag(self, tag: str) -> None:
        self._open_script = False


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_run_only_script_files_of_this_server(api: Api, path: str) -> None:
    r = api.get(path, token=None)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = _Scripts()
    page.feed(r.text)
    assert (page.inline, page.handlers, page.elsewhere) == ([], [], [])


def test_the_api_docs_are_served_by_this_server(api: Api) -> None:
    r = api.get("/docs", token=None)
    assert "/static/vendor/swagger-ui-bundle.js" in r.text and "/static/js/docs.js" in r.text
    for library in LIBRARIES[1:]:
        assert api.get(library, token=None).status_code == 200, f"{library} is not installed: npm ci in cityos/web"
    assert api.get("/static/vendor/swagger-ui.css", token=None).headers["content-type"].startswith("text/css")
    assert "/openapi.json" in api.get("/static/js/docs.js", token=None).text


SINKS = re.compile(r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\bsrcdoc\b|\beval\(|new Function")


def test_only_the_rendering_helper_writes_markup() -> None:
    """innerHTML and its kin appear in dom.js alone, which takes only markup its html`` tag escaped."""
    found = [
        f"{js.name}:{n}: {line.strip()}"
        for js in sorted((STATIC / "js").glob("*.js"))
        if js.name != "dom.js"
        for n, line in enumerate(js.read_text(encoding="utf-8").splitlines(), 1)
        if SINKS.search(line)
    ]
    assert found == []


def test_a_server_error_has_the_security_headers_too(rt: Runtime) -> None:
    app = create_app(runtime=rt)

    @app.get("/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/broken")
    assert r.status_code == 500 and r.json()["detail"].startswith("the server failed on this request")
    assert r.headers["x-content-type-options"] == "nosniff" and "content-security-policy" in r.headers
