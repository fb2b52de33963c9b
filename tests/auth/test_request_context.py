"""One request context for every route: the tenant is the header's, else the token's own, else the default;
a token limited to a tenant may not use another; the permission is checked in the tenant."""

from __future__ import annotations

from conftest import Api

from cityos.auth import create_token

DISTRICT = {"id": "urn:ngsi-ld:District:pudong", "type": "District"}


def test_the_tenant_comes_from_the_header_else_the_token_else_the_default(api: Api) -> None:
    pudong = {"NGSILD-Tenant": "pudong"}
    assert api.post("/ngsi-ld/v1/entities", json=DISTRICT, headers=pudong).status_code == 201
    limited = create_token(api.rt.db, "pudong-reader", role="reader", tenant="pudong")

    def districts(**kw: object) -> list[str]:
        r = api.get("/ngsi-ld/v1/entities", params={"type": "District"}, **kw)  # type: ignore[arg-type]
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()]

    assert districts(token=limited) == [DISTRICT["id"]]  # its own tenant, without a header
    assert districts(token=limited, headers=pudong) == [DISTRICT["id"]]
    assert districts() == []  # an unlimited token without a header: the default tenant
    assert districts(headers=pudong) == [DISTRICT["id"]]


def test_a_token_limited_to_a_tenant_may_not_use_another(api: Api) -> None:
    limited = create_token(api.rt.db, "pudong-operator", role="operator", tenant="pudong")
    for url in ("/ngsi-ld/v1/entities?type=District", "/vitals/overview", "/cases", "/twin/units", "/auth/me"):
        r = api.get(url, token=limited, headers={"NGSILD-Tenant": "minhang"})
        assert r.status_code == 403, url
        assert r.json()["detail"] == "'pudong-operator' is limited to tenant 'pudong' and may not use 'minhang'"


def test_the_permission_is_the_routes_own(api: Api) -> None:
    reporter = create_token(api.rt.db, "app", role="reporter")
    r = api.get("/vitals/overview", token=reporter)
    assert r.status_code == 403 and r.json()["detail"] == "role 'reporter' of 'app' may not do vitals:read"
    assert api.get("/auth/me", token=reporter).json()["permissions"] == ["cases:report"]


def test_a_tenant_the_header_names_must_exist_outside_ngsi_ld(api: Api) -> None:
    r = api.get("/cases", headers={"NGSILD-Tenant": "pudnog"})
    assert r.status_code == 404 and "tenant 'pudnog'" in r.json()["detail"]
    assert api.post("/ngsi-ld/v1/entities", json=DISTRICT, headers={"NGSILD-Tenant": "pudong"}).status_code == 201
    assert api.get("/cases", headers={"NGSILD-Tenant": "pudong"}).status_code == 200
    limited = create_token(api.rt.db, "new-district", role="department", tenant="jingan")
    assert api.get("/cases/queue", token=limited).status_code == 200  # its own tenant, even before a write
