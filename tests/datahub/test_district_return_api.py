"""/datahub/returns over HTTP on both databases, and `cityos return`: the big-data centre makes and runs a
return grant, a district's token reads its own grant and the records returned to its tenant (NGSI-LD), another
department may not make one, and bad input answers problem documents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Api
from samples import person_entry
from typer.testing import CliRunner

from cityos import context as hub
from cityos import datahub
from cityos.auth.service import create_token
from cityos.cli import app
from cityos.config import get_settings
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime

PERSONS = "HP-01-01-0001"


def _person(rt: Runtime, tenant: str, n: int, address: str) -> None:
    body = {"id": f"urn:ngsi-ld:Person:{n}", "type": "Person", "name": {"type": "Property", "value": f"人{n}"},
            "registeredAddress": {"type": "Property", "value": address}}  # fmt: skip
    parsed = hub.parse_entity(body, hub.core_term_map(), now=now_iso())
    hub.one(rt, tenant, body["id"], hub.m_replace(parsed, create=True), creates=True)


def _seed(rt: Runtime) -> None:
    datahub.register_entry(rt, "default", person_entry(backing=datahub.Backing(entity_types=("Person",))), by="t")
    _person(rt, "default", 1, "上海市黄浦区南京东路1号")
    _person(rt, "default", 2, "上海市徐汇区漕溪北路2号")
    _person(rt, "huangpu", 9, "上海市黄浦区外滩9号")  # the district's tenant exists: made by its first write


def _problem(r: object, status: int, kind: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["type"].endswith(kind) and body["status"] == status and body["detail"]


def test_a_return_over_http(api: Api) -> None:
    rt = api.rt
    _seed(rt)
    big_data = create_token(rt.db, "big-data", role="department", kind="department")
    other = create_token(rt.db, "housing", role="department", kind="department")
    district = create_token(rt.db, "huangpu-officer", role="operator", kind="staff", tenant="huangpu")
    body = {"tenant": "huangpu", "district": "黄浦区", "codes": [PERSONS]}
    _problem(api.post("/datahub/returns", json={**body, "tenant": "nowhere"}, token=big_data), 404, "unknown-tenant")
    _problem(api.post("/datahub/returns", json={**body, "codes": ["HP-00-00-0000"]}, token=big_data), 404,
             "catalogue-entry-not-found")  # fmt: skip
    _problem(api.post("/datahub/returns", json={**body, "area": {"type": "Point", "coordinates": [1, 2]}},
                      token=big_data), 400, "invalid-return-grant")  # fmt: skip
    assert api.post("/datahub/returns", json=body, token=other).status_code == 403
    made = api.post("/datahub/returns", json=body, token=big_data)
    assert made.status_code == 201, made.text
    grant = made.json()["id"]
    _problem(api.post("/datahub/returns", json=body, token=big_data), 409, "return-grant-conflict")

    run = api.post(f"/datahub/returns/{grant}/runs", token=big_data)
    assert run.status_code == 201 and {k: run.json()[k] for k in ("read", "new", "full")} == {
        "read": 2, "new": 1, "full": True}  # fmt: skip
    assert api.post(f"/datahub/returns/{grant}/runs", token=district).status_code == 403  # the city's to run
    _problem(api.post("/datahub/returns/nope/runs", token=big_data), 404, "return-grant-not-found")

    mine = api.get("/datahub/returns", token=district)
    assert mine.status_code == 200 and [g["id"] for g in mine.json()] == [grant]
    runs = api.get(f"/datahub/returns/{grant}/runs", token=district)
    assert runs.headers["X-Total-Count"] == "1" and runs.json()[0]["new"] == 1
    seen = api.get("/ngsi-ld/v1/entities", params={"type": "Person"}, token=district)
    assert sorted(e["id"] for e in seen.json()) == ["urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:9"]

    ended = api.post(f"/datahub/returns/{grant}/end", json={"reason": "区划调整"}, token=big_data)
    assert ended.status_code == 200 and ended.json()["state"] == "ended"
    seen = api.get("/ngsi-ld/v1/entities", params={"type": "Person"}, token=district)
    assert [e["id"] for e in seen.json()] == ["urn:ngsi-ld:Person:9"]  # the district's own stays


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Runtime]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITYOS_DATABASE_URL", rt.db.url)
    monkeypatch.setenv("CITYOS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CITYOS_BUS_URL", "memory://")
    get_settings.cache_clear()
    _seed(rt)
    yield rt
    get_settings.cache_clear()


def test_the_cli_makes_and_runs_a_return(cli: Runtime) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["return", "make", "huangpu", "黄浦区", PERSONS])
    assert made.exit_code == 0, made.output
    first = runner.invoke(app, ["return", "run"])
    assert first.exit_code == 0 and "2 city records read; 1 new" in first.output, first.output
    again = runner.invoke(app, ["return", "run"])
    # the records of the last second are read again (CITYOS_RETURN_OVERLAP_SECONDS), nothing is written
    assert again.exit_code == 0 and "0 new, 0 changed, 0 removed" in again.output, again.output
    bad = runner.invoke(app, ["return", "make", "huangpu", "黄浦区", "HP-00-00-0000"])
    assert bad.exit_code == 1 and "HP-00-00-0000" in bad.output
