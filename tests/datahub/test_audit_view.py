"""The audit view (审计查看, issue 17) over HTTP, on both databases: the city's auditor sees every record newest
first, filtered and paged; a department sees its own reads and the reads of the entries it provides; no
record shows a value read or a subject; "who used my data" lookups are recorded as their own kind and never
listed as uses; the chain's status names its head and newest seal and notices a head that lies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import LOCAL_RECEIVERS, Api
from samples import as_body, lights_entry, person_entry
from sqlalchemy import update

from cityos import datahub
from cityos.auth.service import create_token
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.datahub import AuditRead
from cityos.datahub.tables import audit_head
from cityos.runtime import Runtime
from cityos.store.engine import Database

PERSON = "11010119900101123X"
DAY = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


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
    """Two entries (public security's people, city appearance's lights) and four reads of them, a day apart."""
    for entry in (person_entry(), lights_entry()):
        assert api.post("/datahub/catalogue", json=as_body(entry)).status_code == 201
    reads = [
        AuditRead("civil-officer", "HP-01-01-0001", "GET /datahub/datasets/{code}/records", ("urn:ngsi-ld:Person:1",),
                  (PERSON,), department="civil-affairs", grant="g1", scenario="低保资格核验", at_ms=T0),
        AuditRead("ps-officer", "HP-01-01-0001", "GET /datahub/datasets/{code}/records",
                  ("urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"), (PERSON,), department="public-security",
                  at_ms=T0 + DAY),
        AuditRead("housing-officer", "HP-04-01-0001", "GET /ngsi-ld/v1/entities", ("urn:ngsi-ld:Streetlight:1",),
                  department="housing", scenario="老旧小区改造", at_ms=T0 + 2 * DAY),
        AuditRead("civil-officer", "HP-04-01-0001", "GET /datahub/datasets/{code}/records",
                  ("urn:ngsi-ld:Streetlight:2",), department="civil-affairs", scenario="夜间巡查", at_ms=T0 + 3 * DAY),
    ]  # fmt: skip
    datahub.append(api.rt, "default", reads)
    made = {d: create_token(api.rt.db, d, role="department", kind="department")
            for d in ("public-security", "civil-affairs", "housing")}  # fmt: skip
    made["operator"] = create_token(api.rt.db, "auditor", role="operator", kind="staff")
    made["reader"] = create_token(api.rt.db, "viewer", role="reader", kind="staff")
    return made


def _list(api: Api, token: str, **params: Any) -> tuple[int, list[int]]:
    r = api.get("/datahub/audit", params=params, token=token)
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"]), [rec["seq"] for rec in r.json()]


def test_the_city_sees_every_record_newest_first_filtered_and_paged(api: Api, tokens: dict[str, str]) -> None:
    op = tokens["operator"]
    assert _list(api, op) == (4, [4, 3, 2, 1])
    assert _list(api, op, code="HP-01-01-0001") == (2, [2, 1])
    assert _list(api, op, department="civil-affairs") == (2, [4, 1])
    assert _list(api, op, scenario="老旧小区改造") == (1, [3])
    assert _list(api, op, route="GET /ngsi-ld/v1/entities") == (1, [3])
    assert _list(api, op, limit=2, offset=1) == (4, [3, 2])
    since = datetime.fromtimestamp((T0 + DAY) / 1000, UTC).isoformat()
    until = datetime.fromtimestamp((T0 + 3 * DAY) / 1000, UTC).isoformat()
    assert _list(api, op, since=since, until=until) == (2, [3, 2])  # since inclusive, until not
    first = api.get("/datahub/audit", params={"limit": 1, "offset": 3}, token=op).json()[0]
    assert first == {"seq": 1, "kind": "read", "at": "2026-01-01T00:00:00Z", "principal": "civil-officer",
                     "department": "civil-affairs", "grant": "g1", "code": "HP-01-01-0001",
                     "route": "GET /datahub/datasets/{code}/records", "scenario": "低保资格核验", "purpose": None,
                     "count": 1, "records": ["urn:ngsi-ld:Person:1"]}  # fmt: skip
    r = api.get("/datahub/audit", params={"since": until, "until": since}, token=op)
    assert r.status_code == 400 and "swap" in r.json()["detail"]
    assert api.get("/datahub/audit", params={"kind": "write"}, token=op).status_code == 400
    assert api.get("/datahub/audit", params={"since": "2026-01-01T00:00:00"}, token=op).status_code == 400  # no zone


def test_a_department_sees_its_own_reads_and_the_reads_of_its_entries(api: Api, tokens: dict[str, str]) -> None:
    assert _list(api, tokens["public-security"]) == (2, [2, 1])  # its own read, civil affairs' of its entry
    assert _list(api, tokens["civil-affairs"]) == (2, [4, 1])  # its own reads only: it provides neither entry
    assert _list(api, tokens["housing"]) == (1, [3])
    assert _list(api, tokens["housing"], department="civil-affairs") == (0, [])  # a filter never widens
    r = api.get("/datahub/audit", token=tokens["reader"])
    assert r.status_code == 403
    assert api.get("/datahub/audit", token=None).status_code == 401


def test_no_record_shows_a_value_or_a_subject(api: Api, tokens: dict[str, str]) -> None:
    body = api.get("/datahub/audit", token=tokens["operator"]).text
    assert PERSON not in body and PERSON.lower() not in body
    assert datahub.subject_hash(api.rt, PERSON) not in body  # not even its keyed hash


def test_usage_lookups_are_recorded_as_their_own_kind_and_are_not_uses(api: Api, tokens: dict[str, str]) -> None:
    op = tokens["operator"]
    first = api.get("/datahub/usage", params={"subject": PERSON}, token=op).json()
    again = api.get("/datahub/usage", params={"subject": PERSON.lower()}, token=op).json()
    assert [u["seq"] for u in first] == [2, 1] and again == first  # the first lookup is not a use
    lookups = api.get("/datahub/audit", params={"kind": "lookup"}, token=op)
    assert lookups.headers["X-Total-Count"] == "2"
    newest = lookups.json()[0]
    assert newest["kind"] == "lookup" and newest["code"] is None and newest["principal"] == "auditor"
    assert newest["route"] == "GET /datahub/usage" and newest["department"] is None
    assert newest["records"] == ["2", "1"] and newest["count"] == 2  # which reads it was shown
    assert _list(api, op, kind="read")[0] == 4
    assert _list(api, tokens["public-security"])[0] == 2  # a department sees no one's lookups but its own
    # the lookup is in the chain, under the subject's keyed hash, and the chain verifies
    assert datahub.verify(api.rt).ok and datahub.chain_length(api.rt) == 6
    assert [r.seq for r in datahub.reads_of_subject(api.rt, "default", datahub.subject_hash(api.rt, PERSON))] == [2, 1]


def test_the_chain_status_names_its_head_and_newest_seal(api: Api, tokens: dict[str, str]) -> None:
    r = api.get("/datahub/audit/status", token=tokens["public-security"])
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["headSeq"] == 4 and status["consistent"] is True and status["problem"] is None
    assert status["unsealed"] == 4 - (status["sealedSeq"] or 0)
    seal = datahub.seal(api.rt)
    assert seal is not None
    status = api.get("/datahub/audit/status", token=tokens["operator"]).json()
    assert status["sealedSeq"] == 4 and status["unsealed"] == 0 and status["keyId"] == seal.key_id
    with api.rt.db.begin() as conn:  # a head that names another hash: noticed without a walk
        conn.execute(update(audit_head).values(hash="0" * 64))
    status = api.get("/datahub/audit/status", token=tokens["operator"]).json()
    assert status["consistent"] is False and "cityos audit verify" in status["problem"]
    assert api.get("/datahub/audit/status", token=tokens["reader"]).status_code == 403
