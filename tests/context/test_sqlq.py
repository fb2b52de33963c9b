"""q and type expressions compiled to SQL select the right entities, on SQLite and PostgreSQL.

Every expected set is computed in plain Python from the fixture data below, never copied from SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, inspect, select

from cityos.context.qeval import eval_q
from cityos.context.qlang import (
    AttrPath,
    QAnd,
    QBool,
    QDateTime,
    QExpr,
    QList,
    QNumber,
    QOr,
    QRange,
    QString,
    QTerm,
    parse_q,
    parse_scope_q,
    parse_type_expr,
)
from cityos.context.sqlq import LITERAL_MEMBERS, compile_q, compile_scope_q, compile_type_expr
from cityos.context.tables import entities, entity_types
from cityos.store.engine import Database

EX = "https://example.org/"
TS = "2026-01-01T00:00:00.000Z"


def expand(term: str) -> str:
    return term if "://" in term else EX + term


def prop(value: Any, **members: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **members}


def rel(target: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


# id -> (types, attributes); names are terms here and expanded on insert.
DATA: dict[str, tuple[list[str], dict[str, list[dict[str, Any]]]]] = {
    "urn:e1": (
        ["Sensor"],
        {
            "temp": [prop(25, observedAt="2018-12-04T12:00:00.000Z", unitCode="CEL", accuracy=prop(0.1))],
            "name": [prop("Alpha")],
            "address": [prop({"addressLocality": "Berlin", "street": "Unter den Linden"})],
            "refGrid": [rel("urn:ngsi-ld:Grid:1")],
            "flag": [prop(True)],
            "day": [prop("2018-12-04")],
            "at": [prop("2018-12-04T12:00:00Z")],  # a client's own date-time value, kept as written
            "it's": [prop(1)],
        },
    ),
    "urn:e2": (
        ["Sensor", "Device"],
        {
            "temp": [prop(15.5, observedAt="2018-12-04T08:00:00.000Z", accuracy=prop(0.5))],
            "name": [prop("beta")],
            "address": [prop({"addressLocality": "Shanghai"})],
            "refGrid": [rel("urn:ngsi-ld:Grid:2")],
            "flag": [prop(False)],
            "day": [prop("2019-01-01")],
            "opens": [prop("12:30:00")],
        },
    ),
    "urn:e3": (
        ["Device"],
        {"temp": [prop("25")], "name": [prop("Gamma's")], "flag": [prop("true")], "opens": [prop("08:00:00")]},
    ),
    "urn:e4": (
        ["Sensor"],
        {
            "temp": [prop(10, datasetId="urn:ds:a"), prop(30, datasetId="urn:ds:b")],
            "name": [prop("delta")],
            "a": [prop({"b": {"c": 1}})],
            "refGrid": [rel("urn:ngsi-ld:Grid:1")],
        },
    ),
    "urn:e5": (["Other"], {"temp": [prop(20)], "name": [prop(20)], "a": [prop({"b": {"c": "1"}})]}),
    "urn:e6": (["Sensor", "Other"], {"temp": [prop({"v": 30})], "name": [prop(["Alpha", "beta"])]}),
}
ALL = set(DATA)


def _stored(attrs: dict[str, Any]) -> dict[str, Any]:
    """The internal form: attribute and sub-attribute names expanded, NGSI-LD members kept."""

    def inst(i: dict[str, Any]) -> dict[str, Any]:
        return {
            k if k in LITERAL_MEMBERS else expand(k): inst(v) if isinstance(v, dict) and k not in LITERAL_MEMBERS else v
            for k, v in i.items()
        }

    return {expand(name): [inst(i) for i in items] for name, items in attrs.items()}


@pytest.fixture
def world(db: Database) -> Iterator[Database]:
    rows = [("t1", eid, types, attrs) for eid, (types, attrs) in DATA.items()]
    rows.append(("t2", "urn:e1", ["Sensor"], {"temp": [prop(25)], "name": [prop("Alpha")]}))
    with db.begin() as conn:
        for tenant, eid, types, attrs in rows:
            iris = [expand(t) for t in types]
            pk = conn.execute(
                insert(entities)
                .values(tenant=tenant, id=eid, types=iris, attrs=_stored(attrs), created_at=TS, modified_at=TS)
                .returning(entities.c.pk)
            ).scalar_one()
            conn.execute(insert(entity_types), [{"entity_pk": pk, "type": t, "tenant": tenant} for t in iris])
    yield db


def matched(db: Database, q: str | QExpr | None = None, types: str | None = None) -> set[str]:
    where = []
    if q is not None:
        where.append(compile_q(parse_q(q) if isinstance(q, str) else q, expand=expand, dialect=db.dialect))
    if types is not None:
        where.append(compile_type_expr(parse_type_expr(types), expand=expand, tenant="t1"))
    with db.connect() as conn:
        return set(conn.execute(select(entities.c.id).where(entities.c.tenant == "t1", *where)).scalars())


def expected(pred: Callable[[dict[str, list[dict[str, Any]]]], bool]) -> set[str]:
    return {eid for eid, (_, attrs) in DATA.items() if pred(attrs)}


# --- plain-Python views of the fixture -------------------------------------------------------------

MISSING = object()


def _member(inst: dict[str, Any], key: str) -> Any:
    if key in LITERAL_MEMBERS:
        return inst.get(key, MISSING)
    sub = inst.get(key)
    return MISSING if sub is None else sub.get("value", sub.get("object", MISSING))


def V(a: dict[str, Any], attr: str, *sub: str) -> list[Any]:
    """Each instance's compared value (value, or object of a Relationship, or a sub-attribute's)."""
    out = []
    for inst in a.get(attr, []):
        for key in sub[:-1]:
            inst = inst.get(key, {})
        v = _member(inst, sub[-1]) if sub else inst.get("value", inst.get("object", MISSING))
        if isinstance(v, list):  # a term compares the elements of an array value (NGSI-LD v1.9, clause 4.9)
            out.extend(v)
        elif v is not MISSING:
            out.append(v)
    return out


def unequal(a: dict[str, Any], attr: str, equal: Callable[[Any], bool]) -> bool:
    """``attr!=…``: an instance has a value of which nothing is equal (no element of an array)."""
    for inst in a.get(attr, []):
        v = inst.get("value", inst.get("object", MISSING))
        if v is not MISSING and not any(equal(x) for x in ([v, *v] if isinstance(v, list) else [v])):
            return True
    return False


def C(a: dict[str, Any], attr: str, *keys: str) -> list[Any]:
    """Each instance's value at a key path into a JSON value."""
    out = []
    for inst in a.get(attr, []):
        v = inst.get("value")
        for k in keys:
            v = v.get(k, MISSING) if isinstance(v, dict) else MISSING
        if v is not MISSING:
            out.append(v)
    return out


def num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def txt(v: Any) -> bool:
    return isinstance(v, str)


# --- cases -----------------------------------------------------------------------------------------

NUMBERS = [
    ("temp>20", lambda a: any(num(v) and v > 20 for v in V(a, "temp"))),
    ("temp>=25", lambda a: any(num(v) and v >= 25 for v in V(a, "temp"))),
    ("temp<15.5", lambda a: any(num(v) and v < 15.5 for v in V(a, "temp"))),
    ("temp<=15.5", lambda a: any(num(v) and v <= 15.5 for v in V(a, "temp"))),
    ("temp==25", lambda a: any(num(v) and v == 25 for v in V(a, "temp"))),
    ("temp==20.0", lambda a: any(num(v) and v == 20 for v in V(a, "temp"))),
    ("temp!=25", lambda a: any(not (num(v) and v == 25) for v in V(a, "temp"))),
    ("temp>-1e3", lambda a: any(num(v) and v > -1000 for v in V(a, "temp"))),
    ("temp==-1", lambda a: False),
]
STRINGS = [
    ('name=="Alpha"', lambda a: "Alpha" in [v for v in V(a, "name") if txt(v)]),
    ("name=='Alpha'", lambda a: "Alpha" in [v for v in V(a, "name") if txt(v)]),
    ('name!="Alpha"', lambda a: unequal(a, "name", lambda v: v == "Alpha")),
    ('name>"a"', lambda a: any(txt(v) and v > "a" for v in V(a, "name"))),
    ('name<"B"', lambda a: any(txt(v) and v < "B" for v in V(a, "name"))),
    ('name>="beta"', lambda a: any(txt(v) and v >= "beta" for v in V(a, "name"))),
    ('name<="Alpha"', lambda a: any(txt(v) and v <= "Alpha" for v in V(a, "name"))),
    ('name=="Gamma\'s"', lambda a: "Gamma's" in V(a, "name")),
    ('name=="25"', lambda a: "25" in V(a, "name")),
]
DATES = [
    (
        "temp.observedAt>2018-12-04T10:00:00Z",
        lambda a: any(v > "2018-12-04T10:00:00.000Z" for v in V(a, "temp", "observedAt")),
    ),
    ("temp.observedAt==2018-12-04T20:00:00+08:00", lambda a: "2018-12-04T12:00:00.000Z" in V(a, "temp", "observedAt")),
    (
        "temp.observedAt<2018-12-04T12:00:00.000Z",
        lambda a: any(v < "2018-12-04T12:00:00.000Z" for v in V(a, "temp", "observedAt")),
    ),
    (
        "temp.observedAt>=2018-12-04T08:00:00Z",
        lambda a: any(v >= "2018-12-04T08:00:00.000Z" for v in V(a, "temp", "observedAt")),
    ),
    (
        "temp.observedAt<=2018-12-04T03:59:59-05:00",
        lambda a: any(v <= "2018-12-04T08:59:59.000Z" for v in V(a, "temp", "observedAt")),
    ),
    ("at==2018-12-04T12:00:00Z", lambda a: "2018-12-04T12:00:00Z" in V(a, "at")),
    ("day>2018-12-31", lambda a: any(txt(v) and v > "2018-12-31" for v in V(a, "day"))),
    ("day==2018-12-04", lambda a: "2018-12-04" in V(a, "day")),
    ("opens>12:00:00", lambda a: any(txt(v) and v > "12:00:00" for v in V(a, "opens"))),
]
LISTS_AND_RANGES = [
    ("temp==15.5,30", lambda a: any(num(v) and v in (15.5, 30) for v in V(a, "temp"))),
    ('name=="Alpha","delta"', lambda a: any(v in ("Alpha", "delta") for v in V(a, "name") if txt(v))),
    ('temp==25,"25"', lambda a: any((num(v) and v == 25) or v == "25" for v in V(a, "temp"))),
    ("temp!=10,30", lambda a: any(not (num(v) and v in (10, 30)) for v in V(a, "temp"))),
    (
        "refGrid==urn:ngsi-ld:Grid:1,urn:ngsi-ld:Grid:2",
        lambda a: any(v in ("urn:ngsi-ld:Grid:1", "urn:ngsi-ld:Grid:2") for v in V(a, "refGrid")),
    ),
    ("temp==10..20", lambda a: any(num(v) and 10 <= v <= 20 for v in V(a, "temp"))),
    ("temp!=10..20", lambda a: any(not (num(v) and 10 <= v <= 20) for v in V(a, "temp"))),
    ('name=="a".."c"', lambda a: any(txt(v) and "a" <= v <= "c" for v in V(a, "name"))),
    ("day==2018-12-01..2018-12-31", lambda a: any(txt(v) and "2018-12-01" <= v <= "2018-12-31" for v in V(a, "day"))),
    (
        "temp.observedAt==2018-12-04T07:00:00Z..2018-12-04T09:00:00Z",
        lambda a: any("2018-12-04T07" <= v <= "2018-12-04T09" for v in V(a, "temp", "observedAt")),
    ),
]
REGEX = [
    ("name~=^[A-Z]", lambda a: any(txt(v) and v[:1].isupper() for v in V(a, "name"))),
    ("name~=(?i)^a", lambda a: any(txt(v) and v.lower().startswith("a") for v in V(a, "name"))),
    ('name~="ta$"', lambda a: any(txt(v) and v.endswith("ta") for v in V(a, "name"))),
    ("name!~=a", lambda a: any(not (txt(v) and "a" in v) for v in V(a, "name"))),
    ("refGrid~=Grid:2$", lambda a: any(v.endswith("Grid:2") for v in V(a, "refGrid"))),
    ("name~=(l|m)", lambda a: any(txt(v) and ("l" in v or "m" in v) for v in V(a, "name"))),
]
EXISTS = [
    ("address", lambda a: "address" in a),
    ("!address", lambda a: "address" not in a),
    ("temp.accuracy", lambda a: any("accuracy" in i for i in a.get("temp", []))),
    ("!temp.accuracy", lambda a: not any("accuracy" in i for i in a.get("temp", []))),
    ("temp.observedAt", lambda a: bool(V(a, "temp", "observedAt"))),
    ("a[b][c]", lambda a: bool(C(a, "a", "b", "c"))),
    ("!a[b.c]", lambda a: not C(a, "a", "b", "c")),
    ("nothing", lambda a: False),
    ("!nothing", lambda a: True),
]
LOGIC = [
    ('temp>20;name=="Alpha"', lambda a: any(num(v) and v > 20 for v in V(a, "temp")) and "Alpha" in V(a, "name")),
    ('temp>20|name=="beta"', lambda a: any(num(v) and v > 20 for v in V(a, "temp")) or "beta" in V(a, "name")),
    (
        'name=="beta"|temp>20;name=="Alpha"',
        lambda a: "beta" in V(a, "name") or (any(num(v) and v > 20 for v in V(a, "temp")) and "Alpha" in V(a, "name")),
    ),
    (
        '(name=="beta"|temp>20);name=="Alpha"',
        lambda a: ("beta" in V(a, "name") or any(num(v) and v > 20 for v in V(a, "temp"))) and "Alpha" in V(a, "name"),
    ),
    (
        '(name=="beta"|temp>20);(refGrid==urn:ngsi-ld:Grid:1|flag==false)',
        lambda a: (
            ("beta" in V(a, "name") or any(num(v) and v > 20 for v in V(a, "temp")))
            and ("urn:ngsi-ld:Grid:1" in V(a, "refGrid") or False in [v for v in V(a, "flag") if isinstance(v, bool)])
        ),
    ),
    ("((temp>20));((!address))", lambda a: any(num(v) and v > 20 for v in V(a, "temp")) and "address" not in a),
    (
        "temp>25;temp<15",
        lambda a: any(num(v) and v > 25 for v in V(a, "temp")) and any(num(v) and v < 15 for v in V(a, "temp")),
    ),
]
PATHS = [
    ("temp.accuracy<0.2", lambda a: any(num(v) and v < 0.2 for v in V(a, "temp", "accuracy"))),
    ("temp.accuracy==0.5", lambda a: 0.5 in V(a, "temp", "accuracy")),
    ('temp.unitCode=="CEL"', lambda a: "CEL" in V(a, "temp", "unitCode")),
    ('address[addressLocality]=="Berlin"', lambda a: "Berlin" in C(a, "address", "addressLocality")),
    ('address[addressLocality]!="Berlin"', lambda a: any(v != "Berlin" for v in C(a, "address", "addressLocality"))),
    ("a[b][c]==1", lambda a: any(num(v) and v == 1 for v in C(a, "a", "b", "c"))),
    ('a[b.c]=="1"', lambda a: "1" in C(a, "a", "b", "c")),
    ("https://example.org/a[b][c]>0", lambda a: any(num(v) and v > 0 for v in C(a, "a", "b", "c"))),
    # Keys are object keys, never array indexes, on both databases.
    ('name[0]=="Alpha"', lambda a: "Alpha" in C(a, "name", "0")),
    ("a[b][c][0]", lambda a: bool(C(a, "a", "b", "c", "0"))),
]
RELATIONSHIPS_AND_INSTANCES = [
    ("refGrid==urn:ngsi-ld:Grid:1", lambda a: "urn:ngsi-ld:Grid:1" in V(a, "refGrid")),
    ('refGrid=="urn:ngsi-ld:Grid:1"', lambda a: "urn:ngsi-ld:Grid:1" in V(a, "refGrid")),
    ("refGrid!=urn:ngsi-ld:Grid:1", lambda a: any(v != "urn:ngsi-ld:Grid:1" for v in V(a, "refGrid"))),
    ("temp==30", lambda a: any(num(v) and v == 30 for v in V(a, "temp"))),
    ("temp==10", lambda a: any(num(v) and v == 10 for v in V(a, "temp"))),
    ('temp.datasetId=="urn:ds:b"', lambda a: "urn:ds:b" in V(a, "temp", "datasetId")),
    ("temp.datasetId==urn:ds:a", lambda a: "urn:ds:a" in V(a, "temp", "datasetId")),
    ("temp.datasetId", lambda a: bool(V(a, "temp", "datasetId"))),
    ("flag==true", lambda a: True in [v for v in V(a, "flag") if isinstance(v, bool)]),
    ("flag==false", lambda a: False in [v for v in V(a, "flag") if isinstance(v, bool)]),
    ("flag!=true", lambda a: any(v is not True for v in V(a, "flag"))),
    ("flag==true,false", lambda a: any(isinstance(v, bool) for v in V(a, "flag"))),
]
TYPE_SAFETY = [
    # e3 stores the string "25", e6 an object: neither is a number above 20.
    ("temp>20", lambda a: any(num(v) and v > 20 for v in V(a, "temp"))),
    ('temp>"2"', lambda a: any(txt(v) and v > "2" for v in V(a, "temp"))),
    ('temp=="25"', lambda a: "25" in V(a, "temp")),
    ("name<30", lambda a: any(num(v) and v < 30 for v in V(a, "name"))),
    ('flag=="true"', lambda a: "true" in V(a, "flag")),
    ("flag==1", lambda a: any(num(v) and v == 1 for v in V(a, "flag"))),
]


@pytest.mark.parametrize(
    "group",
    [NUMBERS, STRINGS, DATES, LISTS_AND_RANGES, REGEX, EXISTS, LOGIC, PATHS, RELATIONSHIPS_AND_INSTANCES, TYPE_SAFETY],
    ids=[
        "numbers",
        "strings",
        "dates",
        "lists-ranges",
        "regex",
        "exists",
        "logic",
        "paths",
        "relationships-instances",
        "type-safety",
    ],
)
def test_q_selects_what_python_selects(world: Database, group: list[tuple[str, Callable[..., bool]]]) -> None:
    wrong = {}
    for q, pred in group:
        got, want = matched(world, q), expected(pred)
        if got != want:
            wrong[q] = {"sql": sorted(got), "python": sorted(want)}
    assert not wrong


def test_expected_sets_are_not_trivial() -> None:
    """Each group's cases select different, non-empty sets, so a broken compiler cannot pass by luck."""
    for group in (NUMBERS, STRINGS, DATES, LISTS_AND_RANGES, REGEX, PATHS, RELATIONSHIPS_AND_INSTANCES):
        sets = [frozenset(expected(pred)) for _, pred in group]
        assert sum(1 for s in sets if s and s != ALL) >= len(sets) - 2


def _typed(pred: Callable[[list[str]], bool]) -> set[str]:
    return {eid for eid, (types, _) in DATA.items() if pred(types)}


@pytest.mark.parametrize(
    ("types", "pred"),
    [
        ("Sensor", lambda ts: "Sensor" in ts),
        ("https://example.org/Sensor", lambda ts: "Sensor" in ts),
        ("Sensor,Device", lambda ts: "Sensor" in ts or "Device" in ts),
        ("Sensor|Other", lambda ts: "Sensor" in ts or "Other" in ts),
        ("Sensor;Device", lambda ts: "Sensor" in ts and "Device" in ts),
        ("(Sensor;Other)|Device", lambda ts: ("Sensor" in ts and "Other" in ts) or "Device" in ts),
        ("Sensor;(Device,Other)", lambda ts: "Sensor" in ts and ("Device" in ts or "Other" in ts)),
        ("Device,Sensor;Other", lambda ts: "Device" in ts or ("Sensor" in ts and "Other" in ts)),
        ("((Device|Missing));(Device)", lambda ts: "Device" in ts),
        ("Missing", lambda ts: False),
    ],
)
def test_type_expressions(world: Database, types: str, pred: Callable[[list[str]], bool]) -> None:
    want = _typed(pred)
    assert want not in (set(), ALL) or types == "Missing"
    assert matched(world, types=types) == want


def test_type_and_q_together(world: Database) -> None:
    want = {
        eid for eid, (types, a) in DATA.items() if "Sensor" in types and any(num(v) and v > 20 for v in V(a, "temp"))
    }
    assert matched(world, "temp>20", types="Sensor") == want == {"urn:e1", "urn:e4"}


@pytest.mark.parametrize(
    "q",
    [
        'name=="x\' OR 1=1 --"',
        'name=="\\" OR \\"\\"=\\""',
        'name=="\'); DROP TABLE context_entities; --"',
        'address[it\'s]=="x"',
        'address[a"b]=="x"',
        "address[a\\b]==1",
        "name~=\"' OR '1'='1\"",
    ],
)
def test_injection_attempts_match_nothing(world: Database, q: str) -> None:
    assert matched(world, q) == set()
    assert inspect(world.engine).has_table("context_entities")


def test_names_with_quotes_are_data_not_sql(world: Database) -> None:
    quoted = QTerm(AttrPath("it's"), "==", QNumber(1))
    assert matched(world, quoted) == expected(lambda a: 1 in V(a, "it's"))
    evil = AttrPath('x"); DROP TABLE context_entities; --', sub=("s'\"",), compound=("k'\"",))
    assert matched(world, QTerm(evil, "==", QString("a"))) == set()
    assert matched(world, QTerm(AttrPath(evil.attr))) == set()
    assert matched(world, QTerm(AttrPath(evil.attr), negated_exists=True)) == ALL
    assert matched(world, QTerm(AttrPath("temp", sub=('a"b',)), "!=", QNumber(1))) == set()
    assert inspect(world.engine).has_table("context_entities")


def test_one_shape_of_term_binds_each_use_its_own_values(world: Database) -> None:
    """A term's SQL is built once per shape and kept (cityos.context.qtemplate); each use binds its own values,
    also when one shape comes twice in a statement, and names expanded elsewhere are their own shape."""
    answers = set()
    for t in (5, 15.5, 20, 25, 40):
        want = expected(lambda a, t=t: any(num(v) and v > t for v in V(a, "temp")))
        assert matched(world, f"temp>{t}") == want
        answers.add(frozenset(want))
    assert len(answers) > 2  # the values, not the first use, decide
    first = compile_q(parse_q("temp>5"), expand=expand, dialect=world.dialect)
    again = compile_q(parse_q("temp>40"), expand=expand, dialect=world.dialect)
    assert str(first) == str(again)  # the same text: the database's statement cache holds it once
    both = expected(lambda a: any(num(v) and (v > 24 or v < 12) for v in V(a, "temp")))
    assert matched(world, "temp>24|temp<12") == both and both not in (set(), ALL)
    written = expected(lambda a: "2018-12-04T12:00:00Z" in V(a, "at"))
    assert written and matched(world, "at==2018-12-04T12:00:00Z") == written  # as written, not stored form
    assert matched(world, "at==2018-12-04T12:00:00.000Z") == set()
    many = ",".join(str(n) for n in range(100, 120))  # more values than a template takes: built the plain way
    assert matched(world, f"temp=={many},25") == expected(lambda a: any(num(v) and v == 25 for v in V(a, "temp")))
    elsewhere = compile_q(parse_q("temp>5"), expand=lambda n: f"https://elsewhere.example/{n}", dialect=world.dialect)
    with world.connect() as conn:
        assert set(conn.execute(select(entities.c.id).where(entities.c.tenant == "t1", elsewhere)).scalars()) == set()


def test_scope_q_passes_over_a_scope_that_is_no_array(world: Database) -> None:
    """Scopes are kept as an array; a scope written otherwise (here a bare JSON string) is passed over, not an
    error of the whole query (on PostgreSQL the walk of the scopes fails on anything but an array)."""
    with world.begin() as conn:
        for eid, scope in (("urn:scoped", ["/a/b"]), ("urn:odd", "/a/b")):
            conn.execute(
                insert(entities).values(
                    tenant="t3", id=eid, types=[], scope=scope, attrs={}, created_at=TS, modified_at=TS
                )
            )
    with world.connect() as conn:
        where = compile_scope_q(parse_scope_q("/a/#"), dialect=world.dialect)
        got = set(conn.execute(select(entities.c.id).where(entities.c.tenant == "t3", where)).scalars())
    assert "urn:scoped" in got


def test_other_tenants_are_not_selected_by_type(world: Database) -> None:
    with world.connect() as conn:
        pks = set(
            conn.execute(
                select(entities.c.pk).where(compile_type_expr(parse_type_expr("Sensor"), expand=expand, tenant="t2"))
            ).scalars()
        )
        assert len(pks) == 1


# --- differential: random queries over the fixture, SQL against a plain-Python evaluator -----------


def _py_target(inst: dict[str, Any], path: AttrPath, *, ordered: bool = False) -> Any:
    """The compared value of one instance in the term-form fixture, or MISSING. A Relationship's object is
    compared by equality and pattern, never ordered (NGSI-LD v1.8, clause 4.9)."""
    node: Any = inst
    for s in path.sub:
        node = node.get(s, MISSING) if isinstance(node, dict) else MISSING
    if node is MISSING:
        return MISSING
    on_member = bool(path.sub) and path.sub[-1] in LITERAL_MEMBERS
    if not path.compound:
        return node if on_member else node.get("value", MISSING if ordered else node.get("object", MISSING))
    if not on_member:
        node = node.get("value", MISSING)
    for k in path.compound:
        node = node.get(k, MISSING) if isinstance(node, dict) else MISSING
    return node


def _py_equal(v: Any, lit: Any) -> bool:
    if isinstance(lit, QNumber):
        return num(v) and v == lit.value
    if isinstance(lit, QBool):
        return isinstance(v, bool) and v == lit.value
    if isinstance(lit, QDateTime):
        return txt(v) and v in (lit.value, lit.text)
    return txt(v) and v == lit.value


def _py_key(v: Any, lit: Any) -> tuple[bool, Any]:
    """Whether ``v`` is of the literal's kind, and the literal as a comparable Python value."""
    if isinstance(lit, QNumber):
        return num(v), lit.value
    return txt(v), lit.value


def _py_match(v: Any, op: str, lit: Any) -> bool:
    if op in ("~=", "!~="):
        hit = txt(v) and re.search(lit.value, v) is not None
        return hit if op == "~=" else not hit
    if op in ("==", "!="):
        if isinstance(lit, QRange):
            ok, low = _py_key(v, lit.low)
            hit = ok and low <= v <= _py_key(v, lit.high)[1]
        else:
            hit = any(_py_equal(v, x) for x in (lit.items if isinstance(lit, QList) else (lit,)))
        return hit if op == "==" else not hit
    ok, x = _py_key(v, lit)
    return ok and {">": v > x, ">=": v >= x, "<": v < x, "<=": v <= x}[op] if ok else False


def _py_eval(expr: Any, attrs: dict[str, list[dict[str, Any]]]) -> bool:
    if isinstance(expr, QAnd):
        return all(_py_eval(e, attrs) for e in expr.items)
    if isinstance(expr, QOr):
        return any(_py_eval(e, attrs) for e in expr.items)
    path, instances = expr.path, attrs.get(expr.path.attr, [])
    if expr.op is None:
        if not path.sub and not path.compound:
            found = bool(instances)
        else:
            bare = AttrPath(path.attr, path.sub, path.compound)
            found = any(_py_present(i, bare) for i in instances)
        return not found if expr.negated_exists else found
    ordered = expr.op in (">", ">=", "<", "<=")
    return any(
        (v := _py_target(i, path, ordered=ordered)) is not MISSING and _py_term(v, expr.op, expr.value)
        for i in instances
    )


def _py_term(v: Any, op: str, lit: Any) -> bool:
    """A term on one value: an array matches when the array or one of its elements does, and a negated term
    when none of them matches the positive one (NGSI-LD v1.9, clause 4.9)."""
    candidates = [v, *v] if isinstance(v, list) else [v]
    if op.startswith("!"):
        positive = "==" if op == "!=" else "~="
        return not any(_py_match(c, positive, lit) for c in candidates)
    return any(_py_match(c, op, lit) for c in candidates)


def _py_present(inst: dict[str, Any], path: AttrPath) -> bool:
    node: Any = inst
    keys = [
        *path.sub,
        *(
            ("value", *path.compound)
            if path.compound and not (path.sub and path.sub[-1] in LITERAL_MEMBERS)
            else path.compound
        ),
    ]
    for k in keys:
        node = node.get(k, MISSING) if isinstance(node, dict) else MISSING
    return node is not MISSING


FIX_ATTR = st.sampled_from(["temp", "name", "flag", "day", "refGrid", "address", "a", "opens", "at", "nothing"])
FIX_SUB = st.sampled_from([(), (), ("observedAt",), ("accuracy",), ("datasetId",), ("unitCode",)])
FIX_KEYS = st.sampled_from([(), (), ("addressLocality",), ("b",), ("b", "c")])
FIX_NUMBER = st.sampled_from(["10", "15.5", "20", "25", "30", "0.1", "0.5", "-1", "1"])
FIX_STRING = st.sampled_from(
    [
        '"25"',
        '"Alpha"',
        '"beta"',
        '"a"',
        '"Gamma\'s"',
        '"CEL"',
        '"Berlin"',
        '"1"',
        '"true"',
        "2018-12-04",
        "2018-12-04T12:00:00Z",
        "2018-12-04T20:00:00+08:00",
        "12:00:00",
    ]
)
FIX_OTHER = st.sampled_from(["true", "false", "urn:ngsi-ld:Grid:1", "urn:ds:b"])
FIX_SCALAR = st.one_of(FIX_NUMBER, FIX_STRING, FIX_OTHER)
FIX_VALUE = st.one_of(
    FIX_SCALAR,
    st.lists(FIX_SCALAR, min_size=2, max_size=3).map(",".join),
    st.tuples(FIX_NUMBER, FIX_NUMBER).map("..".join),
    st.tuples(FIX_STRING, FIX_STRING).map("..".join),
)


@st.composite
def fixture_terms(draw: st.DrawFn) -> str:
    path = draw(FIX_ATTR) + "".join("." + s for s in draw(FIX_SUB)) + "".join(f"[{k}]" for k in draw(FIX_KEYS))
    form = draw(st.sampled_from(["exists", "not", "eq", "order", "regex"]))
    if form == "exists":
        return path
    if form == "not":
        return "!" + path
    if form == "eq":
        return path + draw(st.sampled_from(["==", "!="])) + draw(FIX_VALUE)
    if form == "order":
        return path + draw(st.sampled_from([">", ">=", "<", "<="])) + draw(st.one_of(FIX_NUMBER, FIX_STRING))
    return (
        path + draw(st.sampled_from(["~=", "!~="])) + draw(st.sampled_from(["^A", "a$", "(?i)^b", "[0-9]", "Grid:2"]))
    )


FIXTURE_Q = st.recursive(
    fixture_terms(),
    lambda kids: st.lists(kids, min_size=2, max_size=3).flatmap(
        lambda xs: st.sampled_from([";".join(f"({x})" for x in xs), "|".join(f"({x})" for x in xs)])
    ),
    max_leaves=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=FIXTURE_Q)
def test_random_queries_agree_with_python(world: Database, q: str) -> None:
    expr = parse_q(q)
    assert matched(world, expr) == expected(lambda a: _py_eval(expr, a))


def test_a_relationship_is_never_ordered(world: Database) -> None:
    """Found by the differential test: ``refGrid>"25"`` compares no Relationship's object (its URI), on both
    databases and in the reference evaluator alike."""
    for q in ('refGrid>"25"', '(temp);(refGrid>"25")', 'refGrid<"zzz"'):
        expr = parse_q(q)
        assert matched(world, expr) == expected(lambda a, expr=expr: _py_eval(expr, a)) == set()
    assert matched(world, 'refGrid=="urn:ngsi-ld:Grid:1"')  # equality still compares the object


# --- expired instances (NGSI-LD 4.22) --------------------------------------------------------------

EARLY, LATE = "2026-01-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z"  # instances' expiresAt, in stored form
TRANSIENT: dict[str, dict[str, list[dict[str, Any]]]] = {
    "urn:x1": {"temp": [prop(30, expiresAt=EARLY)]},
    "urn:x2": {"temp": [prop(30, expiresAt=LATE)]},
    "urn:x3": {"temp": [prop(30, expiresAt=EARLY, datasetId="urn:d"), prop(10)]},
    "urn:x4": {"temp": [prop(10), prop(30, expiresAt=LATE, datasetId="urn:d")], "name": [prop("x4")]},
}


@pytest.mark.parametrize("q", ["temp>20", "temp<20", "temp==30", "temp!=30", "temp", "!temp", "temp==25..35",
                               "temp.datasetId==urn:d", 'temp>20|name=="x4"', "temp>20;temp<20"])  # fmt: skip
def test_q_leaves_out_expired_instances_as_python_does(db: Database, q: str) -> None:
    """compile_q and eval_q given a time see only the instances not expired then; the same term's kept
    template binds each use's time (before, between and after the two expiries)."""
    with db.begin() as conn:
        for eid, attrs in TRANSIENT.items():
            pk = conn.execute(
                insert(entities)
                .values(tenant="t3", id=eid, types=[EX + "S"], attrs=_stored(attrs), created_at=TS, modified_at=TS)
                .returning(entities.c.pk)
            ).scalar_one()
            conn.execute(insert(entity_types), [{"entity_pk": pk, "type": EX + "S", "tenant": "t3"}])
    answers = []
    for now in ("2025-12-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z", "2026-07-01T00:00:00.000Z", None):
        cond = compile_q(parse_q(q), expand=expand, dialect=db.dialect, now=now)
        with db.connect() as conn:
            found = set(conn.execute(select(entities.c.id).where(entities.c.tenant == "t3", cond)).scalars())
        want = {eid for eid, attrs in TRANSIENT.items() if eval_q(parse_q(q), _stored(attrs), expand, now)}
        assert found == want, now
        answers.append(frozenset(found))
    # no time given: every instance counts, as before (callers that read a stored state as it was)
    everything = {eid for eid, attrs in TRANSIENT.items() if eval_q(parse_q(q), _stored(attrs), expand)}
    assert answers[-1] == everything
    if q == "temp>20":  # what each time should see, spelled out
        assert answers == [{"urn:x1", "urn:x2", "urn:x3", "urn:x4"}, {"urn:x2", "urn:x4"}, set(), everything]
