"""attribute_chunks on SQLite and PostgreSQL: the entities of one type in keyset chunks, every one once, with a
few attributes taken out by the database, each value as keyValues renders it (a Property's value, a
Relationship's object, a LanguageProperty's map, several instances as a list; None when absent)."""

from __future__ import annotations

from cityos import context as hub
from cityos.runtime import Runtime

T = "default"


def _make(rt: Runtime, n: int) -> None:
    tm = hub.term_map(rt)
    doc: dict[str, object] = {"id": f"urn:ngsi-ld:Shop:{n:03d}", "type": "Shop",
                              "name": {"type": "Property", "value": f"店{n}"}}  # fmt: skip
    if n % 2:
        doc["owner"] = {"type": "Relationship", "object": f"urn:ngsi-ld:Person:{n}"}
    if n % 3 == 0:
        doc["label"] = {"type": "LanguageProperty", "languageMap": {"zh": f"店{n}", "en": f"shop {n}"}}
    if n == 4:
        doc["phone"] = [{"type": "Property", "value": "1", "datasetId": "urn:a"},
                        {"type": "Property", "value": "2", "datasetId": "urn:b"}]  # fmt: skip
    ops = [(str(doc["id"]), hub.m_create(hub.parse_entity(doc, tm, now="2026-12-06T00:00:00Z")))]
    for o in hub.apply(rt, T, ops, creates=True):
        assert o.error is None, o.error


def test_chunks_hold_every_entity_once_with_the_values_key_values_renders(rt: Runtime) -> None:
    for n in range(9):
        _make(rt, n)
    tm = hub.core_term_map()
    names = ["name", "owner", "label", "phone", "missing"]
    chunks = list(hub.attribute_chunks(rt, T, "Shop", names, tm, chunk=4))
    assert [len(ids) for ids, _ in chunks] == [4, 4, 1]
    ids = [i for got, _ in chunks for i in got]
    assert ids == [f"urn:ngsi-ld:Shop:{n:03d}" for n in range(9)]
    for got, columns in chunks:
        for at, entity_id in enumerate(got):
            row = hub.get_entity(rt, T, entity_id)
            whole = hub.key_values(row.id, row.types, row.attrs, tm)
            for name, column in zip(names, columns, strict=True):
                assert column[at] == whole.get(name), (entity_id, name)
    by_id = {i: n for n, i in enumerate(ids)}
    flat = {name: [v for _, cols in chunks for v in cols[k]] for k, name in enumerate(names)}
    assert flat["owner"][by_id["urn:ngsi-ld:Shop:001"]] == "urn:ngsi-ld:Person:1"
    assert flat["phone"][by_id["urn:ngsi-ld:Shop:004"]] == ["1", "2"]
    assert set(flat["missing"]) == {None}
    assert list(hub.attribute_chunks(rt, T, "Nothing", names, tm)) == []
