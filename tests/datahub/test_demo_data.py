"""The demo's data sharing (issue 17, item 10): after the demo's datahub step on a fresh SQLite database the
data hub holds the residents of the personal dataset as public security's, grants in every state, reads in
the audit chain that "who used my data" finds, and masking on a department's read; a second run adds nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityos import context as hub
from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.datahub import GrantAction, GrantState, ObjectionState, Reader
from cityos.demo.people import PERSON_CODE, build_residents
from cityos.demo.sharing import GRANTS, RELIEF, demo_reads, load_sharing
from cityos.runtime import Runtime
from cityos.store.engine import Database

T = "default"
MASKED_ID = re.compile(r"310101\*{8}\d{3}[\dX]")


@pytest.fixture
def demo(sqlite_db: Database, tmp_path: Path) -> Iterator[Runtime]:
    """A fresh SQLite database after the demo's datahub step (the catalogue, then the sharing)."""
    rt = Runtime(Settings(database_url=sqlite_db.url, data_dir=tmp_path, demo_mode=True), sqlite_db, MemoryBus())
    datahub.load_catalogue(rt, T, by="cityos-demo")
    first = load_sharing(rt, T)
    assert (first.people_new, first.grants_new, first.reads_new) == (first.people, len(GRANTS), len(demo_reads(
        build_residents())))  # fmt: skip
    yield rt
    rt.parts.close()
    rt.bus.close()


def test_the_residents_are_public_securitys_records_of_the_personal_dataset(demo: Runtime) -> None:
    residents = build_residents()
    keepers = hub.keepers(demo, T, [r.entity_id for r in residents])
    assert len(keepers) == len(residents) >= 200
    assert set(keepers.values()) == {datahub.get_entry(demo, T, PERSON_CODE).provider} == {"public-security"}
    first = hub.find_entity(demo, T, residents[0].entity_id)
    assert first is not None and [t.rsplit("/", 1)[-1] for t in first.types] == ["Person"]


def test_grants_are_in_every_state_with_a_narrowed_one(demo: Runtime) -> None:
    grants = datahub.list_grants(demo, T, limit=100)
    by_state = {s: [g for g in grants if g.grant.state == s] for s in GrantState}
    assert all(len(found) >= 2 for found in by_state.values()), {s: len(v) for s, v in by_state.items()}
    narrowed = [g for g in by_state[GrantState.APPROVED] if g.history[-1].action == GrantAction.NARROW]
    assert narrowed and all(g.history[-1].reason for g in narrowed)
    for g in by_state[GrantState.EXPIRED]:  # approved months ago for a period that has ended
        assert [e.action for e in g.history] == [GrantAction.REQUEST, GrantAction.APPROVE]
    assert all(g.grant.scenario and g.grant.purpose and g.grant.legal_basis for g in grants)


def test_civil_affairs_reads_through_its_grant_with_id_numbers_masked(demo: Runtime) -> None:
    reader = Reader("civil-affairs", "civil-affairs", False, RELIEF, "核对低保申请人户籍")
    out = datahub.read_records(demo, T, PERSON_CODE, reader, limit=20)
    granted = datahub.list_grants(demo, T, department="civil-affairs", code=PERSON_CODE, state="approved")
    relief = next(g for g in granted if g.grant.scenario == RELIEF)  # it holds one for 一网通办 too
    assert out.access.grant == relief.grant.id and len(out.records) == 20
    for record in out.records:
        assert MASKED_ID.fullmatch(record["idCard"]), record["idCard"]
        assert record["registeredAddress"].endswith("路****") and "mobile" not in record  # mobile is not granted
        assert record["gender"] in ("男", "女") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["birthDate"])


def test_who_used_my_data_finds_the_demo_reads(demo: Runtime) -> None:
    first = build_residents()[0]
    reads = datahub.reads_of_subject(demo, T, datahub.subject_hash(demo, first.id_card))
    assert {r.department for r in reads} == {"civil-affairs", "emergency-management", "housing"}
    assert all(r.code == PERSON_CODE and r.grant and r.scenario and r.purpose for r in reads)
    assert datahub.verify(demo).ok


def test_a_second_run_adds_nothing(demo: Runtime) -> None:
    chain, grants = datahub.chain_length(demo), datahub.count_grants(demo, T)
    again = load_sharing(demo, T)
    assert (again.people_new, again.grants_new, again.reads_new) == (0, 0, 0)
    assert (datahub.chain_length(demo), datahub.count_grants(demo, T)) == (chain, grants)


def test_the_demo_objections_are_in_every_state_one_overdue_and_a_correction_told(demo: Runtime) -> None:
    found = datahub.list_objections(demo, T, source="public-security", limit=100)
    assert {o.state for o in found} == set(ObjectionState) - {ObjectionState.WITHDRAWN}
    assert found[0].overdue and found[0].objector == "emergency-management"  # the overdue first
    corrected = next(o for o in found if o.state == ObjectionState.CORRECTED)
    person = hub.find_entity(demo, T, corrected.record_id)
    assert person is not None and hub.key_values(person.id, person.types, person.attrs,
                                                 hub.core_term_map())["mobile"] == corrected.corrected  # fmt: skip
    notices, total = datahub.correction_notices(demo, T, "emergency-management")
    assert total == 1 and notices[0].objection_id == corrected.id and notices[0].after == corrected.corrected
    again = load_sharing(demo, T)
    assert again.objections_new == 0 and datahub.count_objections(demo, T) == len(found)
