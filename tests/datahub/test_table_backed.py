"""Entries backed by a table of the datahub package (issue 17): the demo catalogue's grants (授权共享记录) and
catalogue (数据资源目录) datasets read through /datahub/datasets/{code}/records on both databases, with the same
decision, cutting and audit as entity-backed reads; filters as item==value; a table with no reader is 404."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import LOCAL_RECEIVERS, Api
from samples import person_entry

from cityos import datahub
from cityos.auth.service import create_token
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.datahub import Backing, CatalogueEntry
from cityos.runtime import Runtime
from cityos.store.engine import Database

GRANTS, CATALOGUE = "HP-18-02-0001", "HP-18-01-0001"
T = "default"


@pytest.fixture
def rt(db: Database, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(database_url=db.url, data_dir=tmp_path, max_limit=100, notify_allowed_networks=LOCAL_RECEIVERS)
    runtime = Runtime(settings, db, MemoryBus())
    yield runtime
    runtime.parts.close()
    runtime.bus.close()


def _demo_entry(code: str) -> CatalogueEntry:
    return next(e for e in datahub.read_catalogue().entries if e.code == code)


def _ask(rt: Runtime, entry: CatalogueEntry, department: str, scenario: str, items: list[str] | None = None) -> str:
    ends = datetime.now(UTC) + timedelta(days=30)
    asked = datahub.request_grant(rt, T, entry, department, scenario, "核对", "《社会救助暂行办法》", items, None, ends,
                                  None, f"{department}-officer")  # fmt: skip
    return asked.grant.id


@pytest.fixture
def tokens(api: Api) -> dict[str, str]:
    """The two demo entries, the person entry and two grants on it (one approved)."""
    rt = api.rt
    for entry in (_demo_entry(GRANTS), _demo_entry(CATALOGUE), person_entry()):
        datahub.register_entry(rt, T, entry, by="data-officer")
    approved = _ask(rt, person_entry(), "civil-affairs", "低保资格核验")
    datahub.move_grant(rt, T, person_entry(), approved, "approve", "ps-officer", "public-security")
    _ask(rt, person_entry(), "housing", "老旧小区改造")
    made = {d: create_token(rt.db, d, role="department", kind="department")
            for d in ("big-data", "civil-affairs", "housing")}  # fmt: skip
    made["operator"] = create_token(rt.db, "auditor", role="operator", kind="staff")
    made["approved"] = approved
    return made


def _records(api: Api, code: str, token: str, **params: str) -> dict[str, Any]:
    r = api.get(f"/datahub/datasets/{code}/records", params=params, token=token)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_grants_are_read_as_a_dataset_and_the_read_is_audited(api: Api, tokens: dict[str, str]) -> None:
    body = _records(api, GRANTS, tokens["big-data"])  # the provider reads all of it
    assert body["total"] == 2 and body["masked"] == {} and body["grant"] is None
    newest, older = body["records"]
    assert newest["department"] == "housing" and newest["state"] == "requested"
    assert older == {"id": tokens["approved"], "type": "Grant", "code": "HP-01-01-0001", "provider": "public-security",
                     "department": "civil-affairs", "scenario": "低保资格核验", "purpose": "核对", "state": "approved",
                     "startsAt": older["startsAt"], "endsAt": older["endsAt"]}  # fmt: skip
    assert "legalBasis" not in older and "requestedBy" not in older  # not items of the dataset
    audit = api.get("/datahub/audit", params={"code": GRANTS}, token=tokens["operator"]).json()
    assert len(audit) == 1 and audit[0]["department"] == "big-data"
    assert audit[0]["records"] == [newest["id"], older["id"]] and audit[0]["count"] == 2
    assert datahub.verify(api.rt).ok


def test_filters_and_paging_of_a_table(api: Api, tokens: dict[str, str]) -> None:
    op = tokens["operator"]
    assert [r["department"] for r in _records(api, GRANTS, op, q="state==approved")["records"]] == ["civil-affairs"]
    assert _records(api, GRANTS, op, q="department==housing;code==HP-01-01-0001")["total"] == 1
    paged = _records(api, GRANTS, op, limit="1", offset="1")
    assert paged["total"] == 2 and [r["id"] for r in paged["records"]] == [tokens["approved"]]
    r = api.get(f"/datahub/datasets/{GRANTS}/records", params={"q": "purpose~=核"}, token=op)
    assert r.status_code == 400 and r.json()["type"].endswith("invalid-table-filter")
    assert "code, provider, department, state" in r.json()["detail"]
    assert api.get(f"/datahub/datasets/{GRANTS}/records", params={"q": "state==pending"}, token=op).status_code == 400


def test_a_department_reads_the_grants_only_through_a_grant_cut_to_its_items(api: Api, tokens: dict[str, str]) -> None:
    r = api.get(f"/datahub/datasets/{GRANTS}/records", token=tokens["civil-affairs"])
    assert r.status_code == 403 and r.json()["type"].endswith("no-grant") and GRANTS in r.json()["detail"]
    gid = _ask(api.rt, _demo_entry(GRANTS), "civil-affairs", "共享监督", items=["code", "state"])
    datahub.move_grant(api.rt, T, _demo_entry(GRANTS), gid, "approve", "bd-officer", "big-data")
    body = _records(api, GRANTS, tokens["civil-affairs"], scenario="共享监督")
    assert body["grant"] == gid and body["total"] == 3
    assert all(set(rec) == {"id", "type", "code", "state"} for rec in body["records"])


def test_the_catalogue_is_a_dataset_every_department_reads(api: Api, tokens: dict[str, str]) -> None:
    body = _records(api, CATALOGUE, tokens["housing"], q="provider==public-security")
    assert body["total"] == 1
    (rec,) = body["records"]
    assert rec["code"] == "HP-01-01-0001" and rec["classification"] == "基础信息/人口/户籍"
    assert rec["sharing"] == "conditional" and rec["level"] == "important" and rec["type"] == "CatalogueEntry"
    assert _records(api, CATALOGUE, tokens["housing"])["total"] == 3


def test_a_table_with_no_reader_is_not_served(api: Api, tokens: dict[str, str]) -> None:
    entry = dataclasses.replace(person_entry(code="HP-01-01-0009"), backing=Backing(table="hukou"))
    datahub.register_entry(api.rt, T, entry, by="data-officer")
    r = api.get("/datahub/datasets/HP-01-01-0009/records", token=tokens["operator"])
    assert r.status_code == 404 and r.json()["type"].endswith("records-not-served")
    assert "'hukou'" in r.json()["detail"] and "catalogue, grants" in r.json()["detail"]
