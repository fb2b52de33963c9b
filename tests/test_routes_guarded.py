"""Every route declares what guards it: a permission (cityos.auth.allow) or, for the few public ones, why
it needs no token (cityos.auth.public). A route that declares neither fails here, and so does a public
route that is not in the list below: making a route public is a decision to write down."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Api
from fastapi import APIRouter, FastAPI

from cityos.app import api_routes, create_app
from cityos.auth import RequestContext, allow, route_guard
from cityos.config import Settings

# (method, path) of every route anyone may call without a token
PUBLIC = {
    ("GET", "/health"),
    ("POST", "/auth/login"),
    ("GET", "/"),
    ("GET", "/static/vendor/{name}"),
    ("GET", "/docs"),
    ("GET", "/static/vendor/noto-sans-sc/{name}"),
    ("GET", "/redoc"),
    ("GET", "/ngsi-ld/v1/jsonldContexts/{cid}"),
    ("POST", "/iot/json"),
    ("POST", "/iot/ul"),
    ("POST", "/iot/bulk"),
    ("GET", "/cases/follow/{token}"),
    ("POST", "/cases/follow/{token}/rating"),
    ("POST", "/cases/follow/{token}/confirm"),
    *(
        (method, "/open311/v2" + path + suffix)
        for method, path in (
            ("GET", "/services"),
            ("GET", "/services/{code}"),
            ("POST", "/requests"),
            ("GET", "/requests"),
            ("GET", "/requests/{request_id}"),
            ("GET", "/tokens/{token}"),
        )
        for suffix in ("", ".{fmt}")
    ),
    # the open data portal's CKAN Action API: open datasets' metadata, and records of unconditional ones
    *((method, f"{prefix}/{{name}}") for method in ("GET", "POST") for prefix in ("/api/action", "/api/3/action")),
    # the open data portal's downloads and DCAT metadata
    ("GET", "/opendata/datasets/{name}/records.{fmt}"),
    ("GET", "/opendata/datasets/{name}.jsonld"),
    ("GET", "/catalog.jsonld"),
    ("GET", "/catalog.ttl"),
    # the open data portal's pages and their JSON twins, and its rate-limited error reports (纠错)
    *(("GET", f"/opendata/{page}") for page in ("", "index.json", "static/{name}")),
    *(
        ("GET", f"/opendata/{kind}/{{name}}{twin}")
        for kind in ("datasets", "organizations", "groups")
        for twin in ("", ".json")
    ),
    ("POST", "/opendata/datasets/{name}/reports"),
    ("POST", "/opendata/applications"),  # anyone applies for conditional open data (rate-limited per address)
    # the applicant's page, and its twin read with the application's key (no token; rate-limited per address)
    *(("GET", f"/opendata/my-application{twin}") for twin in ("", ".json")),
    # the one-stop portal: the demo identity provider (demo mode or a setting; rate-limited as logins), its list
    # of demo persons and enterprises, and the pages' shells and files (their data needs a token)
    ("POST", "/onestop/login/demo"),
    ("GET", "/onestop/login/demo/subjects"),
    *(("GET", f"/onestop/{page}") for page in ("", "login", "static/portal/{name}")),
    # one-stop services: service items, bundles, their forms and guides are public information (一次告知)
    *(("GET", f"/onestop/{path}") for path in ("items", "items/{code}", "items/{code}/versions", "bundles")),
    *(("GET", f"/onestop/bundles/{{code}}{twin}") for twin in ("", "/form")),
    ("POST", "/onestop/bundles/{code}/form/check"),  # reads and writes nothing: checks the answers given
    *(("GET", f"/onestop/{page}") for page in ("guide", "guide/{code}", "guide/bundles/{code}", "static/{name}")),
    # e-certificates: what a verifier needs (seals, status lists, types, schemas, context) and verification itself
    *(("GET", f"/onestop/{p}") for p in ("seals", "certificate-types", "schemas/{code}.json", "verify")),
    *(("GET", f"/onestop/{p}") for p in ("contexts/certificates.jsonld", "status/{issuer}/{purpose}")),
    ("POST", "/onestop/verify"),
    # the Q&A assistant (智能客服): asking and handing over to a person (rate-limited per address), and the
    # asker's read of a handover's answer by its unguessable id
    ("POST", "/onestop/assistant/ask"),
    ("POST", "/onestop/assistant/handover"),
    ("GET", "/onestop/assistant/handover/{handover_id}"),
    ("GET", "/onestop/ratings/levels"),  # 好差评: the levels, their reasons and the channels (reference data)
}
# what FastAPI and Starlette serve themselves: the API description and the dashboard's own files
OTHER_PUBLIC_PATHS = {"/openapi.json", "/static"}


def unguarded(app: FastAPI) -> list[str]:
    """What is wrong with the app's guards: a route without one, a public route not in PUBLIC."""
    problems = []
    for route in api_routes(app):
        guard = route_guard(route.dependant)
        for method in sorted(route.methods):
            if guard is None:
                problems.append(f"{method} {route.path} declares neither a permission nor public()")
            elif guard[0] == "public" and (method, route.path) not in PUBLIC:
                problems.append(f"{method} {route.path} is public ({guard[1]}) but not in tests' PUBLIC list")
            elif guard[0] == "permission" and (method, route.path) in PUBLIC:
                problems.append(f"{method} {route.path} is in PUBLIC but needs {guard[1]}")
    return problems


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('db') / 'cityos.db'}"))


def test_every_route_declares_its_guard(app: FastAPI) -> None:
    assert unguarded(app) == []


def test_the_public_list_names_only_routes_that_exist(app: FastAPI) -> None:
    served = {(m, r.path) for r in api_routes(app) for m in r.methods}
    assert sorted(PUBLIC - served) == []


def test_only_the_known_routes_are_served_outside_the_api(app: FastAPI) -> None:
    paths = {getattr(r, "path", None) for r in app.routes} - {None, ""}
    assert paths - {r.path for r in api_routes(app)} <= OTHER_PUBLIC_PATHS


def test_a_route_added_without_a_guard_is_caught(app: FastAPI, tmp_path: Path) -> None:
    fresh = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'cityos.db'}"))
    extra = APIRouter()

    @extra.get("/vitals/secret")
    def secret() -> dict[str, str]:
        return {"leak": "everything"}

    @extra.get("/vitals/guarded")
    def guarded(ctx: RequestContext = allow("vitals:read")) -> dict[str, str]:
        return {"tenant": ctx.tenant}

    fresh.include_router(extra)
    assert unguarded(fresh) == ["GET /vitals/secret declares neither a permission nor public()"]


def test_every_guarded_route_refuses_a_request_without_a_token(api: Api) -> None:
    """The declared guard is the one in force: without a token each guarded route answers 401."""
    refused = []
    for route in api_routes(api.client.app):  # type: ignore[arg-type]
        guard = route_guard(route.dependant)
        if guard is None or guard[0] != "permission":
            continue
        url = route.path.format(**{p.name: "x" for p in route.dependant.path_params})
        for method in route.methods:
            r = api.request(method, url, token=None, json={})
            if r.status_code != 401:
                refused.append(f"{method} {route.path}: {r.status_code}")
            else:
                assert r.headers["content-type"].split(";")[0] in ("application/json", "application/problem+json")
                assert r.json()["status"] == 401
    assert refused == []
