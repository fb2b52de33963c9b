"""The error contract: every route answers a bad request with a 4xx problem document (RFC 9457: type,
title, status, detail; NGSI-LD error types under /ngsi-ld), never a 500. Open311 keeps its own error
list (code, description), and the CKAN Action API its own envelope.

Each route gets the bad requests that apply to it: no token (guarded routes), ids that name nothing,
a body that is not JSON, and query parameters of the wrong type.
"""

from __future__ import annotations

import inspect
from typing import Any

import httpx
from conftest import Api

from cityos.app import ApiRoute, api_routes
from cityos.auth import create_token, route_guard

NGSILD_ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
# public routes that take no input at all: there is no bad request to send them
TAKE_NOTHING = {
    ("GET", "/catalog.jsonld"),
    ("GET", "/catalog.ttl"),
    # the one-stop portal's page shells and its list of demo persons and enterprises to log in as
    ("GET", "/onestop/"),
    ("GET", "/onestop/login"),
    ("GET", "/onestop/login/demo/subjects"),
    # what a verifier of e-certificates reads
    ("GET", "/onestop/seals"),
    ("GET", "/onestop/certificate-types"),
    ("GET", "/onestop/contexts/certificates.jsonld"),
    ("GET", "/onestop/verify"),
    ("GET", "/onestop/ratings/levels"),  # 好差评's levels, reasons and channels
    ("GET", "/opendata/my-application"),  # the applicant's page shell (the key goes to its JSON twin as a header)
} | {("GET", f"/onestop/{path}") for path in ("items", "bundles", "guide")}  # the service guides' lists
# query parameter types that a word is not a value of
TYPED = (int, float, bool)


def bad_requests(route: ApiRoute, method: str) -> list[tuple[str, dict[str, Any]]]:
    """(what, request keywords) of the bad requests a route can be sent with an admin token."""
    names = {p.name: f"no-such-{p.name}" for p in route.dependant.path_params}
    url = route.path.format(**names)
    out: list[tuple[str, dict[str, Any]]] = []
    if names:
        out.append(("ids that name nothing", {"url": url}))
    if method in ("POST", "PUT", "PATCH"):
        headers = {"Content-Type": "application/json"}
        out.append(("a body that is not JSON", {"url": url, "content": b"{not json", "headers": headers}))
    typed = [p.name for p in route.dependant.query_params if _annotation(p) in TYPED]
    if typed:
        out.append((f"{', '.join(typed)} not of their type", {"url": url, "params": dict.fromkeys(typed, "abc")}))
    if route.path.startswith("/open311/"):  # every Open311 call may name a jurisdiction (a tenant)
        out.append(("a jurisdiction_id that names nothing", {"url": url, "params": {"jurisdiction_id": "atlantis"}}))
    if route.path == "/opendata/my-application.json":  # read with an application's key: one that names nothing
        out.append(("a key that names nothing", {"url": url, "headers": {"Authorization": "odk_no-such-key"}}))
    if route.path == "/opendata/index.json":  # the portal's search: words that do not parse
        out.append(("a q that does not parse", {"url": url, "params": {"q": 'title:"'}}))
    return out


def _annotation(param: Any) -> Any:
    ann = getattr(param.field_info, "annotation", None) or param.type_
    args = getattr(ann, "__args__", ())
    return next((a for a in args if a in TYPED), ann) if args else ann


def check_problem(r: httpx.Response, path: str) -> str | None:
    """What is wrong with an error answer, None when it is a proper one."""
    if r.status_code >= 500:
        return f"{r.status_code}: {r.text[:200]}"
    if r.status_code < 400:
        return None  # not an error for this route (e.g. an optional body that may be anything)
    body = r.json()
    if path.startswith("/open311/"):
        ok = isinstance(body, list) and body and {"code", "description"} <= set(body[0])
        return None if ok else f"not an Open311 error list: {body}"
    if path.startswith(("/api/action/", "/api/3/action/")):  # CKAN's envelope, or its "Bad request - ..." text
        if isinstance(body, str):
            return None if r.status_code == 400 and body.startswith("Bad request - ") else f"not CKAN's: {body}"
        ok = isinstance(body, dict) and body.get("success") is False and "__type" in body.get("error", {})
        return None if ok else f"not a CKAN error: {body}"
    media = r.headers.get("content-type", "").split(";")[0]
    if not isinstance(body, dict) or not {"type", "title", "status", "detail"} <= set(body):
        return f"not a problem document: {body}"
    if body["status"] != r.status_code or not isinstance(body["detail"], str) or not body["detail"]:
        return f"status or detail wrong: {body}"
    if path.startswith("/ngsi-ld/"):
        # NGSI-LD types the errors of its own (400, 404, 409, 422, 504 …); HTTP's own (401, 403, 406, 413,
        # 415) have no NGSI-LD type and keep cityos's
        ngsild = body["type"].startswith(NGSILD_ERRORS) or r.status_code in (401, 403, 406, 413, 415)
        if media != "application/json" or not ngsild:
            return f"not an NGSI-LD error ({media}): {body}"
    elif media != "application/problem+json":
        return f"served as {media}"
    return None


def test_every_route_answers_bad_requests_with_problem_documents(api: Api) -> None:
    wrong: list[str] = []
    checked = 0
    for route in api_routes(api.client.app):  # type: ignore[arg-type]
        guarded = (route_guard(route.dependant) or ("",))[0] == "permission"
        for method in sorted(route.methods):
            requests = bad_requests(route, method)
            assert (
                requests
                or guarded
                or (method, route.path)
                in {("GET", "/"), ("GET", "/docs"), ("GET", "/redoc"), ("GET", "/health"), ("GET", "/opendata/")}
                or (method, route.path) in TAKE_NOTHING
            ), f"{method} {route.path}: no bad request to send it; add one here"
            for what, kw in requests:
                if route.path == "/auth/logout":  # it would revoke the admin token the others use
                    kw = {**kw, "token": create_token(api.rt.db, "leaving", role="reader")}
                r = api.request(method, **kw)
                problem = check_problem(r, route.path)
                checked += 1
                if problem:
                    wrong.append(f"{method} {route.path} with {what}: {problem}")
    assert wrong == [], "\n".join(wrong)
    assert checked > 100


def test_errors_raised_by_the_framework_are_problem_documents(api: Api) -> None:
    for method, url, status in (
        ("GET", "/no/such/path", 404),
        ("DELETE", "/vitals/overview", 405),
        ("GET", "/ngsi-ld/v1/no-such-thing", 404),
    ):
        r = api.request(method, url)
        assert r.status_code == status
        assert check_problem(r, url) is None


def test_the_api_description_shows_errors_as_problem_documents(api: Api) -> None:
    doc = api.get("/openapi.json").json()
    assert "Problem" in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            # FastAPI's own 422 (invalid parameters) is a 400 here; a 422 a route raises itself is a problem too
            fastapi_422 = op["responses"].get("422", {}).get("content", {}).get("application/json", {})
            assert "HTTPValidationError" not in str(fastapi_422), f"{method} {path} still shows FastAPI's 422"
            for code in codes - {"200", "201", "202", "204", "206", "207"}:
                content = op["responses"][code].get("content", {})
                schema = next(iter(content.values()), {}).get("schema", {})
                if path.startswith("/open311/") and code in ("400", "403", "404"):  # the spec's own error list
                    assert schema.get("items", {}).get("$ref") == "#/components/schemas/Open311Error", f"{path} {code}"
                elif path.startswith(("/api/action/", "/api/3/action/")) and code != "413":  # CKAN's envelope
                    assert schema.get("$ref") == "#/components/schemas/CkanErrorAnswer", f"{path} {code}"
                else:
                    assert schema.get("$ref") == "#/components/schemas/Problem", f"{method} {path} {code}"
            if "security" in op:
                assert {"401", "403"} <= codes, f"{method} {path}"


def test_route_summaries_are_one_line(api: Api) -> None:
    """A route's docstring-free summary is its OpenAPI summary (STYLE: one line on routes)."""
    for route in api_routes(api.client.app):  # type: ignore[arg-type]
        doc = inspect.getdoc(route.endpoint) or ""
        assert "\n\n" not in doc or route.path == "/web/events", f"{route.path}: routes take one line"
