"""Who read a record, from the audit chain (``reads_of_record``): by entry and department first, then the
records' JSON arrays; an id that LIKE would take for a pattern (``_``, ``%``) matches only itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.datahub import AuditRead, append
from cityos.datahub.audit import reads_of_record
from cityos.runtime import Runtime
from cityos.store.engine import Database

CODE, OTHER = "HP-01-01-0001", "HP-01-01-0002"
ROUTE = "GET /datahub/datasets/{code}/records"


@pytest.fixture
def rt(db: Database, tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(Settings(database_url=db.url, data_dir=tmp_path), db, MemoryBus())
    yield runtime
    runtime.parts.close()
    runtime.bus.close()


def test_the_reads_of_one_record_by_entry_and_department(rt: Runtime) -> None:
    reads = [
        AuditRead("ca", CODE, ROUTE, ("urn:ngsi-ld:Person:a_1", "urn:ngsi-ld:Person:b"), department="civil-affairs"),
        AuditRead("hs", CODE, ROUTE, ("urn:ngsi-ld:Person:aX1",), department="housing"),
        AuditRead("hs", CODE, ROUTE, ("urn:ngsi-ld:Person:a%1",), department="housing"),
        AuditRead("em", OTHER, ROUTE, ("urn:ngsi-ld:Person:a_1",), department="emergency-management"),
        AuditRead("ca", CODE, ROUTE, ("urn:ngsi-ld:Person:a_10",), department="civil-affairs"),
    ]
    append(rt, "default", reads)
    append(rt, "other", [AuditRead("ca", CODE, ROUTE, ("urn:ngsi-ld:Person:a_1",), department="civil-affairs")])
    found = reads_of_record(rt, "default", CODE, "urn:ngsi-ld:Person:a_1")
    assert [(r.seq, r.department) for r in found] == [(1, "civil-affairs")]
    assert reads_of_record(rt, "default", CODE, "urn:ngsi-ld:Person:a_1", department="housing") == []
    assert [r.seq for r in reads_of_record(rt, "default", CODE, "urn:ngsi-ld:Person:a%1")] == [3]
    assert [r.department for r in reads_of_record(rt, "default", OTHER, "urn:ngsi-ld:Person:a_1")] == [
        "emergency-management"
    ]
    assert [r.seq for r in reads_of_record(rt, "other", CODE, "urn:ngsi-ld:Person:a_1")] == [6]
