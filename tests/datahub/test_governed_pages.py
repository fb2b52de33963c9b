"""A governed page built in one pass (cityos/datahub/pages.py, issue 17's masking-overhead target) and the read's
audit append overlapped with it: the records are exactly those the keyValues build cut and masked gave (the
same dicts, members in the same order) over generated pages; the audit record's subjects are those the built
records name; an append that fails fails the read, nothing returned; an overlapped append still refuses a
decision whose governance stamp moved."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from conftest import Api
from hypothesis import given, settings
from hypothesis import strategies as st
from samples import person_entry
from sqlalchemy import text

from cityos import context as hub
from cityos.datahub import Backing, Reader, chain_length, move_grant, read_records, register_entry, request_grant
from cityos.datahub.audit import append_soon
from cityos.datahub.datasets import audit_read, cut_records, decision_of, governed_fetch, subject_items
from cityos.datahub.decisions import StaleDecision, bump_stamp
from cityos.datahub.masking import forget_masked, mask_records
from cityos.datahub.models import Access
from cityos.datahub.pages import governed_page, page_subjects
from cityos.runtime import Runtime
from cityos.store.engine import Database

TM = hub.core_term_map()
NAMES = ("idCard", "name", "mobile", "address", "birthDate", "location", "email", "remark", "age", "other")
KINDS = ("id-card", "name", "mobile", "address", "date", "geo", "email", "text", "number", "phone", "credit-code")

strings = st.one_of(
    st.sampled_from(("310101199001011234", "11010519491231002x", "张三", "欧阳娜娜", "13812345678", "1990-05-06",
                     "上海市黄浦区南京东路123弄4号501室", "user1@example.org", "021-63211234", "", " 张三 ")),
    st.from_regex(r"[1-9]\d{16}[0-9Xx]|1[3-9]\d{9}|[12]\d{3}-\d{2}-\d{2}", fullmatch=True),
    st.text(max_size=8),
)  # fmt: skip
points = st.fixed_dictionaries(
    {"type": st.just("Point"), "coordinates": st.lists(st.floats(-180, 180), min_size=2, max_size=2)}
)
values = st.one_of(strings, points, st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2))


def _instance(value: Any, kind: str) -> dict[str, Any]:
    if kind == "Relationship":
        return {"type": "Relationship", "object": "urn:ngsi-ld:Thing:1"}
    if kind == "LanguageProperty":
        return {"type": "LanguageProperty", "languageMap": {"zh": value if isinstance(value, str) else "张三"}}
    if kind == "untyped":
        return {"value": value}
    return {"type": kind, "value": value, "observedAt": "2026-01-01T00:00:00.000Z"}


instance_kinds = st.sampled_from(("Property", "Property", "Property", "GeoProperty", "Relationship",
                                  "LanguageProperty", "untyped"))  # fmt: skip
attribute = st.lists(st.tuples(values, instance_kinds), min_size=0, max_size=2).map(
    lambda xs: [_instance(v, k) for v, k in xs]
)
entity_attrs = st.dictionaries(st.sampled_from(NAMES), attribute, max_size=len(NAMES))


@st.composite
def pages(draw: st.DrawFn) -> list[hub.EntityRow]:
    uniform = draw(st.booleans())  # the common page: every entity holds the same items, one Property each
    rows = []
    for n in range(draw(st.integers(0, 6))):
        if uniform:
            attrs = {TM.expand(name): [{"type": "Property", "value": draw(values)}] for name in NAMES[:6]}
        else:
            attrs = {TM.expand(name): instances for name, instances in draw(entity_attrs).items()}
        types = draw(st.sampled_from((["https://uri.etsi.org/ngsi-ld/default-context/Person"],
                                      [TM.expand("Person"), TM.expand("Resident")])))  # fmt: skip
        rows.append(hub.EntityRow(n, f"urn:ngsi-ld:Person:{n}", types, None, attrs, "", ""))
    return rows


def _as_before(rows: list[hub.EntityRow], access: Access) -> list[dict[str, Any]]:
    """The page as reads built it before: each entity's keyValues, cut, then masked in place."""
    records = [hub.key_values(r.id, r.types, r.attrs, TM) for r in rows]
    cut_records(records, access)
    mask_records(records, access.masked)
    return records


@settings(max_examples=300, deadline=None)
@given(rows=pages(), shown=st.sets(st.sampled_from(NAMES)),
       masked=st.dictionaries(st.sampled_from(NAMES), st.sampled_from(KINDS)), forget=st.booleans())  # fmt: skip
def test_the_governed_build_gives_the_records_cut_and_masked(
    rows: list[hub.EntityRow], shown: set[str], masked: dict[str, str], forget: bool
) -> None:
    if forget:  # a cold read: nothing kept; else the masked values of earlier examples are found in the memos
        forget_masked()
    access = Access(allowed=True, shown=tuple(sorted(shown | masked.keys())), masked=masked)
    built = governed_page(rows, TM, access.shown, access.masked)
    before = _as_before(rows, access)
    assert built == before
    assert [list(r) for r in built] == [list(r) for r in before]  # the members in the same order
    # the plain page build is the entity-by-entity keyValues
    plain = hub.key_values_page(rows, TM)
    assert plain == [hub.key_values(r.id, r.types, r.attrs, TM) for r in rows]
    assert [list(r) for r in plain] == [list(r.keys()) for r in (hub.key_values(r.id, r.types, r.attrs, TM)
                                                                for r in rows)]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(rows=pages())
def test_the_subjects_gathered_from_the_stored_rows_are_the_records_ones(rows: list[hub.EntityRow]) -> None:
    entry = person_entry()  # its ID numbers (idCard) name the persons
    reader = Reader("clerk", "civil-affairs", False)
    access = Access(allowed=True)
    records = [hub.key_values(r.id, r.types, r.attrs, TM) for r in rows]
    found = page_subjects(rows, TM, subject_items(entry))
    assert found is not None
    assert found == set(audit_read(entry, access, reader, records, "r").subjects)


SCENARIO = "低保资格核验"
READER = Reader("clerk", "civil-affairs", False, SCENARIO, "核对低保申请人户籍")
ENTRY = dataclasses.replace(person_entry(), backing=Backing(entity_types=("Person",)))


@pytest.fixture
def granted(api: Api, rt: Runtime) -> None:
    register_entry(rt, "default", ENTRY, by="data-officer")
    for n, (card, name) in enumerate((("310101199001011234", "张伟"), ("310101198502023456", "欧阳娜")), 1):
        body = {"id": f"urn:ngsi-ld:Person:{n}", "type": "Person", "idCard": {"type": "Property", "value": card},
                "name": {"type": "Property", "value": name},
                "registeredAddress": {"type": "Property", "value": "上海市黄浦区南京东路123弄4号501室"}}  # fmt: skip
        assert api.post("/ngsi-ld/v1/entities", json=body).status_code == 201
    ends = datetime.now(UTC) + timedelta(days=30)
    asked = request_grant(rt, "default", ENTRY, "civil-affairs", SCENARIO, "核对低保申请人户籍", "《社会救助暂行办法》",
                          None, None, ends, None, "civil-affairs-officer")  # fmt: skip
    move_grant(rt, "default", ENTRY, asked.grant.id, "approve", "ps-officer", "public-security")


def _refuse_appends(db: Database, on: bool) -> None:
    """A trigger that makes every insert into the audit chain fail (a full disk, a lost connection: any failure
    of the append's transaction), or its removal."""
    with db.begin() as conn:
        if db.is_sqlite:
            if on:
                conn.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON datahub_audit "
                                  "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"))  # fmt: skip
            else:
                conn.execute(text("DROP TRIGGER refuse_audit"))
        elif on:
            conn.execute(text("CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                              "$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$"))  # fmt: skip
            conn.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON datahub_audit "
                              "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"))  # fmt: skip
        else:
            conn.execute(text("DROP TRIGGER refuse_audit ON datahub_audit"))
            conn.execute(text("DROP FUNCTION refuse_audit()"))


def test_an_append_that_fails_fails_the_read_and_nothing_is_returned(rt: Runtime, granted: None) -> None:
    read = read_records(rt, "default", ENTRY.code, READER)
    assert len(read.records) == 2 and read.records[0]["idCard"].count("*") == 8
    before = chain_length(rt)
    _refuse_appends(rt.db, True)
    try:
        with pytest.raises(Exception, match="audit refused"):
            read_records(rt, "default", ENTRY.code, READER)
        assert chain_length(rt) == before
    finally:
        _refuse_appends(rt.db, False)
    again = read_records(rt, "default", ENTRY.code, READER)
    assert again.records == read.records and again.audit_seq == before + 1


def test_an_overlapped_append_refuses_a_moved_stamp_and_appends_nothing(rt: Runtime, granted: None) -> None:
    decided = decision_of(rt, "default", ENTRY.code, READER, datetime.now(UTC))
    before = chain_length(rt)
    rt.db.run_write(bump_stamp)  # an entry or a grant written meanwhile, by any process
    with pytest.raises(StaleDecision):
        governed_fetch(rt, "default", decided.entry, decided.access, READER, None, 20, 0, "r", stamp=decided.stamp)
    assert chain_length(rt) == before
    # the read itself decides again and is done again: its audit record appended once
    read = read_records(rt, "default", ENTRY.code, READER)
    assert len(read.records) == 2 and chain_length(rt) == before + 1 and read.audit_seq == before + 1


def test_a_write_submitted_ahead_resolves_once_committed_or_with_its_error(db: Database) -> None:
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE ahead (n INTEGER)"))
    try:
        done = db.submit_write(lambda conn: conn.execute(text("INSERT INTO ahead (n) VALUES (1)")).rowcount)
        assert done.result(timeout=30) == 1
        with db.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM ahead")).scalar() == 1

        def fails(conn: Any) -> None:
            conn.execute(text("INSERT INTO ahead (n) VALUES (2)"))
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            db.submit_write(fails).result(timeout=30)
        with db.connect() as conn:  # its transaction rolled back
            assert conn.execute(text("SELECT count(*) FROM ahead")).scalar() == 1
    finally:  # a table of the test's own: the PostgreSQL database is the worker's, shared with later tests
        with db.begin() as conn:
            conn.execute(text("DROP TABLE ahead"))


def test_a_page_of_subjects_is_kept_as_the_text_its_hashes_make(rt: Runtime) -> None:
    from cityos.datahub.audit_keys import PAGE_SUBJECTS_MIN, keys

    k = keys(rt)
    for n in (3, PAGE_SUBJECTS_MIN, 300):
        subjects = [f"3101011990010{i:05d}" for i in range(n)]
        made = orjson.dumps(sorted(k.subject_hashes(subjects))).decode()
        assert k.subjects_text(subjects) == made
        assert k.subjects_text(list(reversed(subjects))) == made  # kept: the same set in another order
    assert k.subjects_text([]) == "[]"


def test_append_soon_needs_a_read(rt: Runtime) -> None:
    with pytest.raises(ValueError, match="at least one read"):
        append_soon(rt, "default", [])
