"""The governed bulk read (datahub.read_columns) on SQLite and PostgreSQL: a registry entry's items read as
columns in keyset chunks, every entity once; the grant decided once, before anything is read (refused without
one, or when it leaves out an item asked for); each chunk one audit record whose subjects the usage lookup
("who used my data") finds for every person read; masked items masked; the same values a page-by-page read
gives."""

from __future__ import annotations

from datetime import date

import pytest

from cityos import context as hub
from cityos import datahub
from cityos.demo.people import id_number
from cityos.demo.registries import credit_code
from cityos.demo.sharing import load_grants
from cityos.runtime import Runtime

T = "default"
CODE = "HP-01-01-0001"  # 户籍人口基本信息, shared on condition; civil affairs holds a 政策找人 grant of it
CIVIL = datahub.Reader("civil-officer", "civil-affairs", False, "政策找人", "政策找人 高龄津贴")
PEOPLE = 11


def _card(n: int) -> str:
    return id_number(date(1930 + n, 1 + n % 12, 1 + n), 700 + 2 * n + n % 2)


def _load(rt: Runtime, count: int) -> list[str]:
    tm, ops, ids = hub.term_map(rt), [], []
    for n in range(count):
        card = _card(n)
        entity_id = datahub.registry_entity_id(rt, datahub.REGISTRIES[0], card)
        values = {"idCard": card, "name": f"测试{n}", "gender": "男" if n % 2 else "女",
                  "birthDate": f"{1930 + n}-0{1 + n % 9}-1{n % 10}",
                  "registeredAddress": f"上海市黄浦区南京东路{n}号201室"}  # fmt: skip
        doc = {"id": entity_id, "type": "Person", **{k: {"type": "Property", "value": v} for k, v in values.items()}}
        ops.append((entity_id, hub.m_create(hub.parse_entity(doc, tm, now="2026-12-06T00:00:00Z"))))
        ids.append(entity_id)
    for o in hub.apply(rt, T, ops, creates=True, writer=hub.Writer("public-security")):
        assert o.error is None, o.error
    return ids


@pytest.fixture
def registry(rt: Runtime) -> tuple[Runtime, list[str]]:
    datahub.load_catalogue(rt, T, by="test")
    load_grants(rt, T)
    return rt, _load(rt, PEOPLE)


def test_every_entity_once_in_keyset_chunks_each_audited(registry: tuple[Runtime, list[str]]) -> None:
    rt, ids = registry
    chain = datahub.chain_length(rt)
    read = datahub.read_columns(rt, T, CODE, CIVIL, ["birthDate", "registeredAddress"], chunk=4)
    assert read.access.grant and not read.access.masked.keys() & {"birthDate"}
    assert datahub.chain_length(rt) == chain  # decided, nothing read yet: nothing audited
    chunks = list(read.chunks())
    assert [len(c.ids) for c in chunks] == [4, 4, 3]
    got = [i for c in chunks for i in c.ids]
    assert sorted(got) == sorted(ids) and len(set(got)) == PEOPLE
    assert all(c.audit_seq is not None for c in chunks) and datahub.chain_length(rt) == chain + 3
    pages = datahub.read_records(rt, T, CODE, CIVIL, limit=100)  # the same values a page-by-page read shows
    by_id = {r["id"]: r for r in pages.records}
    for c in chunks:
        for n, entity_id in enumerate(c.ids):
            assert c.columns["birthDate"][n] == by_id[entity_id]["birthDate"]
            assert c.columns["registeredAddress"][n] == by_id[entity_id]["registeredAddress"]


def test_who_used_my_data_finds_the_bulk_read_for_every_person(registry: tuple[Runtime, list[str]]) -> None:
    rt, _ = registry
    read = datahub.read_columns(rt, T, CODE, CIVIL, ["birthDate"], chunk=5, route="POST /onestop/policies/{code}/runs")
    seqs = {c.audit_seq for c in read.chunks()}
    for n in range(PEOPLE):
        found = datahub.reads_of_subject(rt, T, datahub.subject_hash(rt, _card(n)))
        mine = [r for r in found if r.seq in seqs]
        assert len(mine) == 1, n
        assert (mine[0].department, mine[0].scenario, mine[0].code) == ("civil-affairs", "政策找人", CODE)
        assert mine[0].grant == read.access.grant and mine[0].route == "POST /onestop/policies/{code}/runs"
    usage = datahub.usage_lookup(rt, T, _card(3), "citizen:three", None)
    assert any(r.seq in seqs for r in usage)


def test_refused_without_a_grant_or_for_an_item_it_leaves_out(registry: tuple[Runtime, list[str]]) -> None:
    rt, _ = registry
    chain = datahub.chain_length(rt)
    stranger = datahub.Reader("sports-officer", "sports", False, "政策找人", "政策找人")
    with pytest.raises(datahub.NoGrant, match=CODE):
        datahub.read_columns(rt, T, CODE, stranger, ["birthDate"])
    with pytest.raises(datahub.NoGrant, match="leaves out mobile"):
        datahub.read_columns(rt, T, CODE, CIVIL, ["birthDate", "mobile"])
    other_scenario = datahub.Reader("civil-officer", "civil-affairs", False, "一网通办", "x")
    with pytest.raises(datahub.NoGrant):
        datahub.read_columns(rt, T, "HP-09-04-0001", other_scenario, ["onlyChildCertificate"])
    assert datahub.chain_length(rt) == chain  # refused before reading: nothing read, nothing audited


def test_masked_items_are_masked_in_their_column(registry: tuple[Runtime, list[str]]) -> None:
    rt, _ = registry
    tm, ops = hub.term_map(rt), []
    for n in (1, 2):  # enterprises whose legal representatives' ID numbers are important data (masked)
        code = credit_code(n)
        entity_id = datahub.registry_entity_id(rt, datahub.REGISTRIES[1], code)
        values = {"creditCode": code, "name": f"上海测试{n}有限公司", "legalRepresentativeIdCard": _card(n)}
        doc = {"id": entity_id, "type": "Organization",
               **{k: {"type": "Property", "value": v} for k, v in values.items()}}  # fmt: skip
        ops.append((entity_id, hub.m_create(hub.parse_entity(doc, tm, now="2026-12-06T00:00:00Z"))))
    for o in hub.apply(rt, T, ops, creates=True, writer=hub.Writer("market-regulation")):
        assert o.error is None, o.error
    sports = datahub.Reader("sports-officer", "sports", False, None, "x")  # unconditional: general-2 and below
    read = datahub.read_columns(rt, T, "HP-02-01-0001", sports, ["name", "legalRepresentativeIdCard"])
    assert "legalRepresentativeIdCard" in read.access.masked
    (chunk,) = list(read.chunks())
    assert chunk.columns["name"] == [f"上海测试{n}有限公司" for n in (1, 2)]
    shown = chunk.columns["legalRepresentativeIdCard"]
    assert all(shown) and not {_card(1), _card(2)} & set(shown)
    found = datahub.reads_of_subject(rt, T, datahub.subject_hash(rt, credit_code(1)))
    assert [r.seq for r in found] == [chunk.audit_seq]  # the enterprise read, by its credit code
