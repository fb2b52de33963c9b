"""The grant routes and "who used my data" over HTTP, on both databases: a grant's whole life between a
requesting department, the providing department and an operator; a department never deciding its own
request; a refused move naming the allowed ones; a third department seeing nothing (404); the reads that
touched a person, for staff at a counter and not for a department."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import LOCAL_RECEIVERS, Api
from samples import as_body, person_entry

from cityos import datahub
from cityos.auth.service import create_token
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.datahub import AuditRead
from cityos.runtime import Runtime
from cityos.store.engine import Database

CODE = "HP-01-01-0001"  # 户籍人口基本信息, provided by public-security, 有条件共享
PROVIDER, REQUESTER, THIRD = "public-security", "civil-affairs", "housing"
PERSON = "11010119900101123X"
MOVED = "https://cityos.dev/problems/grant-move-refused"


@pytest.fixture
def rt(db: Database, tmp_path: Path) -> Iterator[Runtime]:
    """The api fixture's runtime, its audit seal key in the test's own directory."""
    settings = Settings(database_url=db.url, data_dir=tmp_path, max_limit=100, notify_allowed_networks=LOCAL_RECEIVERS)
    runtime = Runtime(settings, db, MemoryBus())
    yield runtime
    runtime.parts.close()
    runtime.bus.close()


@pytest.fixture
def tokens(api: Api) -> dict[str, str]:
    assert api.post("/datahub/catalogue", json=as_body(person_entry())).status_code == 201
    made = {d: create_token(api.rt.db, d, role="department", kind="department") for d in (PROVIDER, REQUESTER, THIRD)}
    made["operator"] = create_token(api.rt.db, "duty-officer", role="operator", kind="staff")
    return made


def _ask(api: Api, token: str, **changes: Any) -> Any:
    ends = datetime.now(UTC) + timedelta(days=90)
    body = {"code": CODE, "scenario": "低保资格核验", "purpose": "核验申请人户籍", "legalBasis": "《社会救助暂行办法》",
            "items": ["name", "registeredAddress"], "endsAt": ends.isoformat(), "lifts": "general-3",
            **changes}  # fmt: skip
    return api.post("/datahub/grants", json=body, token=token)


def _move(api: Api, token: str, grant_id: str, move: str, **body: Any) -> Any:
    return api.post(f"/datahub/grants/{grant_id}/{move}", json=body, token=token)


def test_the_life_of_a_grant(api: Api, tokens: dict[str, str]) -> None:
    r = _ask(api, tokens[REQUESTER])
    assert r.status_code == 201, r.text
    g = r.json()
    assert r.headers["Location"] == f"/datahub/grants/{g['id']}"
    assert (g["state"], g["stateZh"], g["department"], g["provider"]) == ("requested", "待审批", REQUESTER, PROVIDER)
    assert g["allowedMoves"] == ["approve", "narrow", "refuse"] and g["requestedBy"] == REQUESTER

    r = _move(api, tokens[REQUESTER], g["id"], "approve")  # never its own request
    assert r.status_code == 403 and r.json()["type"].endswith("grant-move-forbidden"), r.text
    assert "its own request" in r.json()["detail"]

    r = _move(api, tokens[PROVIDER], g["id"], "narrow", items=["name"], reason="最小必要")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved" and r.json()["items"] == ["name"]
    assert r.json()["history"][1]["changes"] == {"items": {"from": ["name", "registeredAddress"], "to": ["name"]}}

    r = _move(api, tokens[PROVIDER], g["id"], "approve")  # approved already: only revoke is left
    assert r.status_code == 409 and r.json()["type"] == MOVED, r.text
    assert r.json()["allowed"] == ["revoke"] and r.json()["state"] == "approved" and "revoke" in r.json()["detail"]

    r = _move(api, tokens["operator"], g["id"], "revoke")  # a revocation says why
    assert r.status_code == 400 and r.json()["type"].endswith("invalid-grant")
    r = _move(api, tokens["operator"], g["id"], "revoke", action="revoke", reason="场景已结束")
    assert r.status_code == 200 and r.json()["state"] == "revoked" and r.json()["allowedMoves"] == []

    seen = api.get(f"/datahub/grants/{g['id']}", token=tokens[REQUESTER]).json()
    assert [(e["action"], e["by"], e["byDepartment"]) for e in seen["history"]] == [
        ("request", REQUESTER, REQUESTER),
        ("narrow", PROVIDER, PROVIDER),
        ("revoke", "duty-officer", None),
    ]
    assert seen["history"][2]["reason"] == "场景已结束"
    r = _move(api, tokens[PROVIDER], g["id"], "approve")
    assert r.status_code == 409 and r.json()["allowed"] == [] and "final" in r.json()["detail"]

    second = _ask(api, tokens[REQUESTER], scenario="社区走访").json()
    r = _move(api, tokens["operator"], second["id"], "refuse", reason="目的不明确")
    assert r.status_code == 200 and r.json()["state"] == "refused"


def test_lists_by_side_code_and_state_with_a_total(api: Api, tokens: dict[str, str]) -> None:
    first = _ask(api, tokens[REQUESTER]).json()
    _ask(api, tokens[REQUESTER], scenario="社区走访")
    assert _move(api, tokens[PROVIDER], first["id"], "approve").status_code == 200

    def ids(token: str, **params: Any) -> tuple[str, list[str]]:
        r = api.get("/datahub/grants", params=params, token=token)
        assert r.status_code == 200, r.text
        return r.headers["X-Total-Count"], [g["scenario"] for g in r.json()]

    assert ids(tokens[REQUESTER]) == ("2", ["社区走访", "低保资格核验"])  # newest first
    assert ids(tokens[REQUESTER], **{"as": "requester"})[0] == "2"
    assert ids(tokens[REQUESTER], **{"as": "provider"}) == ("0", [])
    assert ids(tokens[PROVIDER], **{"as": "provider"})[0] == "2"
    assert ids(tokens[PROVIDER], state="approved") == ("1", ["低保资格核验"])
    assert ids(tokens[PROVIDER], state="requested", code=CODE) == ("1", ["社区走访"])
    assert ids(tokens[PROVIDER], limit=1, offset=1) == ("2", ["低保资格核验"])
    assert ids(tokens["operator"]) == ("2", ["社区走访", "低保资格核验"])
    assert ids(tokens["operator"], department=REQUESTER, **{"as": "provider"}) == ("0", [])
    r = api.get("/datahub/grants", params={"as": "requester"}, token=tokens["operator"])  # whose side?
    assert r.status_code == 400 and "department" in r.json()["detail"]
    assert api.get("/datahub/grants", params={"state": "pending"}).status_code == 400


def test_a_third_department_sees_nothing(api: Api, tokens: dict[str, str]) -> None:
    g = _ask(api, tokens[REQUESTER]).json()
    r = api.get(f"/datahub/grants/{g['id']}", token=tokens[THIRD])
    assert r.status_code == 404 and r.json()["type"].endswith("grant-not-found")
    assert _move(api, tokens[THIRD], g["id"], "approve").status_code == 404
    r = api.get("/datahub/grants", token=tokens[THIRD])
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"
    assert api.get("/datahub/grants", params={"department": REQUESTER}, token=tokens[THIRD]).status_code == 403
    assert api.get(f"/datahub/grants/{g['id']}", token=tokens[PROVIDER]).status_code == 200
    assert api.get(f"/datahub/grants/{g['id']}", token=tokens["operator"]).status_code == 200
    assert api.get("/datahub/grants/nothing-here").status_code == 404


def test_requests_the_workflow_cannot_take(api: Api, tokens: dict[str, str]) -> None:
    r = _ask(api, tokens["operator"])  # the city decides grants; it does not request them
    assert r.status_code == 403
    r = _ask(api, api.token)  # nor does an administrator, who has no department to request for
    assert r.status_code == 403 and "department" in r.json()["detail"]
    r = _ask(api, tokens[PROVIDER])  # a provider reads its own entry without a grant
    assert r.status_code == 400 and "without a grant" in r.json()["detail"]
    r = _ask(api, tokens[REQUESTER], items=["name", "shoeSize"])
    assert r.status_code == 400 and r.json()["unknown"] == ["shoeSize"]
    assert _ask(api, tokens[REQUESTER], code="HP-09-09-0009").status_code == 404
    assert _ask(api, tokens[REQUESTER], state="approved").status_code == 400  # a request sets no state
    g = _ask(api, tokens[REQUESTER]).json()
    r = _move(api, tokens[PROVIDER], g["id"], "approve", action="refuse")
    assert r.status_code == 400 and r.json()["field"] == "action"
    assert _move(api, tokens[PROVIDER], g["id"], "request").status_code == 400  # not a move
    assert _move(api, tokens[PROVIDER], g["id"], "expire").status_code == 400  # expiry comes with the time
    r = _move(api, tokens[PROVIDER], g["id"], "narrow", items=["name", "registeredAddress", "idCard"])
    assert r.status_code == 400 and r.json()["type"].endswith("invalid-grant")


def _read(n: int, subjects: tuple[str, ...], **kw: Any) -> AuditRead:
    fields: dict[str, Any] = {"principal": f"{REQUESTER}-clerk", "department": REQUESTER, "code": CODE,
                              "route": "GET /datahub/datasets/{code}/records", "records": (f"p{n}",),
                              "subjects": subjects, "grant": "g1", "scenario": "低保资格核验",
                              "purpose": "核验申请人户籍", "at_ms": 1_780_000_000_000 + n, **kw}  # fmt: skip
    return AuditRead(**fields)


def test_who_used_my_data(api: Api, tokens: dict[str, str]) -> None:
    tenant = api.rt.settings.default_tenant
    datahub.append(api.rt, tenant, [_read(1, (PERSON,)), _read(2, ("91310101MA1FPX1234",))])
    datahub.append(api.rt, tenant, [_read(3, (PERSON.lower(),), department=THIRD, grant=None, scenario="住房保障")])
    datahub.append(api.rt, "elsewhere", [_read(4, (PERSON,))])

    r = api.get("/datahub/usage", params={"subject": PERSON}, token=tokens["operator"])
    assert r.status_code == 200, r.text
    assert [(u["department"], u["scenario"], u["grant"]) for u in r.json()] == [
        (THIRD, "住房保障", None), (REQUESTER, "低保资格核验", "g1")]  # fmt: skip
    first = r.json()[1]
    assert first["code"] == CODE and first["purpose"] == "核验申请人户籍" and first["route"].startswith("GET ")
    assert first["at"].startswith("2026-05-28T")
    assert PERSON not in r.text and PERSON.lower() not in r.text
    assert api.get("/datahub/usage", params={"subject": PERSON.lower(), "limit": 1}).json()[0]["department"] == THIRD
    assert api.get("/datahub/usage", params={"subject": "110101199202021111"}).json() == []

    assert api.get("/datahub/usage", params={"subject": PERSON}, token=tokens[REQUESTER]).status_code == 403
    reporter = create_token(api.rt.db, "hotline-app", role="reporter", kind="service")
    assert api.get("/datahub/usage", params={"subject": PERSON}, token=reporter).status_code == 403
    assert api.get("/datahub/usage", params={"subject": "110101-1990"}).status_code == 400
    assert api.get("/datahub/usage").status_code == 400


def test_grants_read_the_clock_on_every_call() -> None:
    """The service's clock was once cached for the life of the process: no grant ever expired in a server."""
    from cityos.datahub import grants

    assert not hasattr(grants._now, "cache_info")
