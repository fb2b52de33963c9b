"""Governed records kept beside the state (cityos.datahub.shadows): a governed read keeps the records it made (masked)
in the rows it read, the reads after it take them from there without reading the state, and no write of an entity,
by any path, leaves a masked value of its old state to be shown (a kept doc is dropped when the row was written
since it was read). On SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Api
from samples import person_entry
from sqlalchemy import text

from cityos import context as hub
from cityos.datahub import Backing, DataItem, move_grant, register_entry, request_grant
from cityos.datahub.datasets import Reader, read_records
from cityos.datahub.masking import mask_value
from cityos.datahub.shadows import shadow_writes
from cityos.runtime import Runtime

CODE = "HP-01-01-0001"
SCENARIO = "低保资格核验"
READER = Reader("clerk", "civil-affairs", False, SCENARIO, "核对")
ID = "urn:ngsi-ld:Person:1"
FIRST = {"idCard": "310101199001011234", "name": "张伟", "mobile": "13812345678",
         "registeredAddress": "上海市黄浦区南京东路1号"}  # fmt: skip
NEXT = {"idCard": "310101198502023456", "name": "欧阳娜", "mobile": "13987654321",
        "registeredAddress": "上海市黄浦区淮海中路8号"}  # fmt: skip
KINDS = {"idCard": "id-card", "name": "name", "mobile": "mobile"}


def _entity(values: dict[str, str], entity_id: str = ID) -> dict[str, Any]:
    return {"id": entity_id, "type": "Person", **{k: {"type": "Property", "value": v} for k, v in values.items()}}


def _masked(values: dict[str, str]) -> dict[str, Any]:
    return {name: mask_value(kind, values[name]) for name, kind in KINDS.items()}


@pytest.fixture
def governed(api: Api, rt: Runtime) -> Runtime:
    """A person entry backed by Person entities, one person stored, and a grant that masks three items."""
    items = (*person_entry().items, DataItem("mobile", "手机号码", "mobile", "important", key="person.mobile"))
    entry = dataclasses.replace(person_entry(), items=items, backing=Backing(entity_types=("Person",)))
    register_entry(rt, "default", entry, by="data-officer")
    now = datetime.now(UTC)
    asked = request_grant(rt, "default", entry, "civil-affairs", SCENARIO, "核对", "《社会救助暂行办法》",
                          ["idCard", "name", "mobile"], None, now + timedelta(days=30), None, "officer")  # fmt: skip
    move_grant(rt, "default", entry, asked.grant.id, "approve", "ps-officer", "public-security")
    assert api.post("/ngsi-ld/v1/entities", json=_entity(FIRST)).status_code == 201
    return rt


def _read(rt: Runtime) -> dict[str, Any]:
    """The person as the grant shows it, once what the read masked is kept."""
    page = read_records(rt, "default", CODE, READER, limit=10)
    shadow_writes(rt).settle()
    assert set(page.access.masked) == set(KINDS)
    return {r["id"]: r for r in page.records}.get(ID, {})


def _kept(rt: Runtime, entity_id: str = ID) -> Any:
    with rt.db.connect() as conn:
        return conn.execute(text("SELECT shadow FROM context_entities WHERE id = :id"), {"id": entity_id}).scalar()


def _shown(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in KINDS}


def test_a_read_keeps_its_masked_values_and_the_next_read_takes_them(governed: Runtime) -> None:
    rt = governed
    assert _kept(rt) is None
    first = _read(rt)
    assert _shown(first) == _masked(FIRST) and "registeredAddress" not in first
    assert _kept(rt) is not None  # kept beside the state
    again = _read(rt)
    assert again == first
    # the record kept is the one shown, masked (the subjects beside it are the ID numbers of the row's own state)
    kept = _kept(rt)
    doc = kept if isinstance(kept, dict) else json.loads(kept)
    ((record, subjects),) = doc.values()
    assert record == first and _shown(record) == _masked(FIRST) and subjects == [FIRST["idCard"]]
    assert list(record) == list(first)  # the members in the same order


def _patch_attrs(api: Api) -> None:
    body = {k: {"type": "Property", "value": v} for k, v in NEXT.items()}
    assert api.patch(f"/ngsi-ld/v1/entities/{ID}/attrs", json=body).status_code == 204


def _patch_one_by_one(api: Api) -> None:
    for name, value in NEXT.items():
        r = api.patch(f"/ngsi-ld/v1/entities/{ID}/attrs/{name}", json={"type": "Property", "value": value})
        assert r.status_code == 204, r.text


def _merge(api: Api) -> None:
    body = {k: {"type": "Property", "value": v} for k, v in NEXT.items()}
    assert api.patch(f"/ngsi-ld/v1/entities/{ID}", json=body).status_code == 204


def _replace(api: Api) -> None:
    assert api.put(f"/ngsi-ld/v1/entities/{ID}", json=_entity(NEXT)).status_code == 204


def _append(api: Api) -> None:
    body = {k: {"type": "Property", "value": v} for k, v in NEXT.items()}
    assert api.post(f"/ngsi-ld/v1/entities/{ID}/attrs", json=body).status_code == 204


def _delete_and_make_again(api: Api) -> None:
    assert api.delete(f"/ngsi-ld/v1/entities/{ID}").status_code == 204
    assert api.post("/ngsi-ld/v1/entities", json=_entity(NEXT)).status_code == 201


def _batch_upsert(api: Api) -> None:
    r = api.post("/ngsi-ld/v1/entityOperations/upsert", json=[_entity(NEXT)])
    assert r.status_code in (200, 201, 204), r.text


def _batch_update(api: Api) -> None:
    assert api.post("/ngsi-ld/v1/entityOperations/update", json=[_entity(NEXT)]).status_code == 204


def _batch_merge(api: Api) -> None:
    assert api.post("/ngsi-ld/v1/entityOperations/merge", json=[_entity(NEXT)]).status_code == 204


def _temporal(api: Api) -> None:
    at = "2030-01-01T00:00:00Z"  # later than any instance stored: the state takes it
    body = {"id": ID, "type": "Person"} | {k: [{"type": "Property", "value": v, "observedAt": at}]
                                            for k, v in NEXT.items()}  # fmt: skip
    r = api.post(f"/ngsi-ld/v1/temporal/entities/{ID}/attrs", json=body)
    assert r.status_code == 204, r.text


def _telemetry(api: Api) -> None:
    tm = hub.core_term_map()
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    readings = [(tm.expand(k), {"type": "Property", "value": v, "observedAt": at}) for k, v in NEXT.items()]
    done = hub.observe(api.rt, [hub.Observed("default", ID, [tm.expand("Person")], None, readings)])
    assert done.updated == 1


WRITES: dict[str, Callable[[Api], None]] = {
    "update attrs": _patch_attrs,
    "partial attribute update": _patch_one_by_one,
    "merge": _merge,
    "replace": _replace,
    "append attrs": _append,
    "delete, then create again": _delete_and_make_again,
    "batch upsert": _batch_upsert,
    "batch update": _batch_update,
    "batch merge": _batch_merge,
    "temporal append": _temporal,
    "telemetry": _telemetry,
}


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_write_of_the_state_leaves_no_masked_value_of_the_old_one(
    governed: Runtime, api: Api, write: str
) -> None:
    rt = governed
    assert _shown(_read(rt)) == _masked(FIRST) and _kept(rt) is not None
    WRITES[write](api)
    assert _kept(rt) is None  # the write emptied it
    assert _shown(_read(rt)) == _masked(NEXT)
    assert _kept(rt) is not None and _shown(_read(rt)) == _masked(NEXT)  # kept again, from the new state


def test_a_doc_kept_from_a_state_written_since_is_dropped(governed: Runtime, api: Api) -> None:
    rt = governed
    query = hub.EntityQuery(type="Person", limit=10, shadows=True)
    row = hub.query_entities(rt, "default", query, hub.core_term_map()).rows[0]
    assert row.pk is not None and row.version is not None
    _patch_attrs(api)  # written after the row was read
    hub.keep_shadows(rt, [(row.pk, row.version, {"stale": True})]).result()
    assert _kept(rt) is None
    assert _shown(_read(rt)) == _masked(NEXT)


def test_a_kept_doc_never_puts_in_an_item_the_read_does_not_mask(governed: Runtime) -> None:
    rt = governed
    _read(rt)
    query = hub.EntityQuery(type="Person", limit=10, shadows=True)
    row = hub.query_entities(rt, "default", query, hub.core_term_map()).rows[0]
    (key,) = row.shadow
    record = {"id": ID, "type": "Person", **_masked(FIRST), "registeredAddress": FIRST["registeredAddress"]}
    hub.keep_shadows(rt, [(row.pk, row.version, {key: [record, []]})]).result()
    record = _read(rt)
    assert "registeredAddress" not in record and _shown(record) == _masked(FIRST)


def test_a_row_whose_shadow_only_mentions_the_key_is_read_with_its_state(governed: Runtime) -> None:
    rt = governed
    _read(rt)
    query = hub.EntityQuery(type="Person", limit=10, shadows=True)
    row = hub.query_entities(rt, "default", query, hub.core_term_map()).rows[0]
    (key,) = row.shadow
    # the key's text inside another key's doc: the database finds it, the read finds no record under it
    planted = {"other": [{"id": ID, "nested": {key: 1}}, []]}
    hub.keep_shadows(rt, [(row.pk, row.version, planted)]).result()
    kept = hub.query_entities(rt, "default", dataclasses.replace(query, kept_key=key), hub.core_term_map()).rows
    assert kept[0].attrs == {}  # read without its state
    record = _read(rt)
    assert _shown(record) == _masked(FIRST) and "nested" not in record
    assert _read(rt) == record  # kept again under the read's key


def test_a_record_kept_in_another_row_is_not_taken(governed: Runtime, api: Api) -> None:
    rt = governed
    other = "urn:ngsi-ld:Person:2"
    assert api.post("/ngsi-ld/v1/entities", json=_entity(NEXT, other)).status_code == 201
    _read(rt)
    query = hub.EntityQuery(type="Person", limit=10, shadows=True)
    rows = {r.id: r for r in hub.query_entities(rt, "default", query, hub.core_term_map()).rows}
    (key,) = rows[ID].shadow
    # the second person's row made to hold the first person's record under the read's key
    planted = {key: rows[ID].shadow[key]}
    hub.keep_shadows(rt, [(rows[other].pk, rows[other].version, planted)]).result()
    page = read_records(rt, "default", CODE, READER, limit=10)
    records = {r["id"]: r for r in page.records}
    assert _shown(records[other]) == _masked(NEXT) and _shown(records[ID]) == _masked(FIRST)


def test_a_grant_that_shows_more_in_full_does_not_take_the_record_of_one_that_shows_less(
    governed: Runtime,
) -> None:
    rt = governed
    entry = dataclasses.replace(person_entry(), backing=Backing(entity_types=("Person",)))
    now = datetime.now(UTC)
    asked = request_grant(rt, "default", entry, "housing", "住房保障", "核对", "《住房保障条例》",
                          ["idCard", "name", "registeredAddress"], None, now + timedelta(days=30), "general-3",
                          "officer")  # fmt: skip
    move_grant(rt, "default", entry, asked.grant.id, "approve", "ps-officer", "public-security")
    fewer = Reader("clerk", "housing", False, "住房保障", "核对")
    asked = request_grant(rt, "default", entry, "housing", "住房补贴", "核对", "《住房保障条例》", ["idCard", "name"],
                          None, now + timedelta(days=30), "general-3", "officer")  # fmt: skip
    move_grant(rt, "default", entry, asked.grant.id, "approve", "ps-officer", "public-security")
    less = Reader("clerk", "housing", False, "住房补贴", "核对")
    for _ in range(2):  # each read twice: made, then taken from what was kept
        (record,) = read_records(rt, "default", CODE, less, limit=10).records
        shadow_writes(rt).settle()
        assert record == {"id": ID, "type": "Person", "idCard": mask_value("id-card", FIRST["idCard"]),
                          "name": FIRST["name"]}  # fmt: skip
        (record,) = read_records(rt, "default", CODE, fewer, limit=10).records
        shadow_writes(rt).settle()
        assert record["registeredAddress"] == FIRST["registeredAddress"] and record["name"] == FIRST["name"]
    kept = _kept(rt)
    assert len(kept if isinstance(kept, dict) else json.loads(kept)) == 2  # a record for each grant


def test_the_audit_record_names_the_persons_read_from_the_kept_subjects(governed: Runtime, api: Api) -> None:
    from cityos.datahub import reads_of_subject, subject_hash

    rt = governed
    _read(rt)
    _read(rt)  # from what was kept
    assert len(reads_of_subject(rt, "default", subject_hash(rt, FIRST["idCard"]))) == 2
    _patch_attrs(api)
    _read(rt)
    _read(rt)
    assert len(reads_of_subject(rt, "default", subject_hash(rt, NEXT["idCard"]))) == 2
    assert len(reads_of_subject(rt, "default", subject_hash(rt, FIRST["idCard"]))) == 2


def test_a_reader_shown_more_is_not_given_what_another_grant_masked(governed: Runtime) -> None:
    rt = governed
    _read(rt)
    provider = Reader("officer", "public-security", False, None, None)
    page = read_records(rt, "default", CODE, provider, limit=10)
    assert page.access.masked == {} or not page.access.masked
    (record,) = page.records
    assert record["idCard"] == FIRST["idCard"] and record["name"] == FIRST["name"]
