"""The policies' condition language (政策找人): parsing with errors that name the position, the shipped policies,
derived columns, and the vectorised evaluation held equal to a row-at-a-time evaluation of the same condition
for any condition and any columns Hypothesis draws (missing values included)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.onestop.policies import ColumnSpec, build_column, parse_policies, shipped
from cityos.onestop.policy_errors import InvalidPolicy
from cityos.onestop.policy_rules import (
    And,
    Cmp,
    In,
    Node,
    Not,
    Or,
    Present,
    RuleError,
    Text,
    evaluate,
    holds,
    make_column,
    parse,
    unparse,
)

KINDS: dict[str, Any] = {"age": "number", "staff": "number", "gender": "text", "address": "text"}


def test_a_condition_parses_into_its_tree() -> None:
    tree = parse('age >= 80 and contains(address, "黄浦区")', KINDS)
    assert tree == And((Cmp("age", ">=", 80.0), Text("address", "contains", "黄浦区")))
    assert parse("1 <= staff <= 100", KINDS) == And((Cmp("staff", ">=", 1.0), Cmp("staff", "<=", 100.0)))
    assert parse('not gender in ["男"]', KINDS) == Not(In("gender", ("男",)))
    assert parse('gender not in ["男", "女"] or present(age)', KINDS) == Or((In("gender", ("男", "女"), True),
                                                                            Present("age")))  # fmt: skip


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("age >=", "column"),
        ("salary > 3", "no column 'salary'"),
        ('age == "80"', "number column"),
        ("gender == 1", "quote it"),
        ('gender < "男"', "text column"),
        ("age", "bare column"),
        ("age + 1 > 3", "of a column with a literal"),
        ("__import__('os')", "functions are"),
        ("age in []", "non-empty list"),
        ("", "1 to"),
    ],
)
def test_a_wrong_condition_is_refused_naming_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse(text, KINDS)
    assert says in str(caught.value)


def test_the_shipped_policies_are_ten_and_name_their_entries() -> None:
    found = shipped()
    assert len(found.policies) >= 10
    assert {p.mode for p in found.policies.values()} == {"notify", "grant"}
    assert {p.target for p in found.policies.values()} == {"person", "enterprise"}
    names = {p.name_zh for p in found.policies.values()}
    assert {"高龄津贴", "独生子女父母奖励", "小微企业稳岗补贴", "新生儿医保参保"} <= names
    for p in found.policies.values():
        assert found.entries(p) and p.legal_basis and p.benefit


def test_a_policy_file_with_a_bad_condition_names_the_policy() -> None:
    doc = {"columns": {"person": {"age": {"entry": "E", "item": "birthDate", "derive": "years"}}},
           "policies": [{"code": "X-1", "nameZh": "甲", "nameEn": "A", "department": "d", "target": "person",
                         "condition": "age >= ", "mode": "notify", "benefit": "b", "legalBasis": "l"}]}  # fmt: skip
    with pytest.raises(InvalidPolicy, match="X-1: condition"):
        parse_policies(doc)


def test_ages_and_days_are_derived_from_dates_at_the_run_date() -> None:
    on = date(2026, 12, 6)
    years = build_column(ColumnSpec("age", "E", "birthDate", "number", "years"),
                         ["1946-12-06", "1946-12-07", "2000-02-29", None, "1990-02-30", "garbage"], on)  # fmt: skip
    assert years.present.tolist() == [True, True, True, False, False, False]
    assert years.values[:3].tolist() == [80.0, 79.0, 26.0]
    days = build_column(ColumnSpec("d", "E", "birthDate", "number", "days"), ["2026-12-01", "2026-01-01"], on)
    assert days.values.tolist() == [5.0, 339.0]


# --- vectorised == row at a time -------------------------------------------------------------------------------

NUMBERS = st.one_of(st.none(), st.integers(-5, 120).map(float), st.just(float("nan")))
TEXTS = st.one_of(st.none(), st.sampled_from(["", "男", "女", "上海市黄浦区南京东路1号", "黄浦", "静安区"]))
LITERAL_N = st.integers(-5, 120).map(float)
LITERAL_T = st.sampled_from(["", "男", "女", "黄浦", "上海市", "区"])


def _leaf() -> st.SearchStrategy[Node]:
    number_col, text_col = st.sampled_from(["age", "staff"]), st.sampled_from(["gender", "address"])
    return st.one_of(
        st.builds(Cmp, number_col, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), LITERAL_N),
        st.builds(Cmp, text_col, st.sampled_from(["==", "!="]), LITERAL_T),
        st.builds(In, number_col, st.lists(LITERAL_N, min_size=1, max_size=3).map(tuple), st.booleans()),
        st.builds(In, text_col, st.lists(LITERAL_T, min_size=1, max_size=3).map(tuple), st.booleans()),
        st.builds(Text, text_col, st.sampled_from(["contains", "startswith"]), LITERAL_T),
        st.builds(Present, st.sampled_from(list(KINDS))),
    )


CONDITIONS = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.builds(And, st.lists(inner, min_size=1, max_size=3).map(tuple)),
        st.builds(Or, st.lists(inner, min_size=1, max_size=3).map(tuple)),
        st.builds(Not, inner),
    ),
    max_leaves=8,
)


@st.composite
def tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(0, 30))
    return [{"age": draw(NUMBERS), "staff": draw(NUMBERS), "gender": draw(TEXTS), "address": draw(TEXTS)}
            for _ in range(n)]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(CONDITIONS, tables())
def test_the_vectorised_evaluation_agrees_with_one_row_at_a_time(node: Node, rows: list[dict[str, Any]]) -> None:
    columns = {name: make_column(kind, [r[name] for r in rows]) for name, kind in KINDS.items()}
    vector = evaluate(node, columns, len(rows))
    assert vector.dtype == np.bool_ and vector.shape == (len(rows),)
    assert vector.tolist() == [holds(node, r) for r in rows]


@settings(max_examples=200, deadline=None)
@given(CONDITIONS)
def test_a_condition_written_back_parses_to_the_same_meaning(node: Node) -> None:
    again = parse(unparse(node), KINDS)
    rows = [{"age": a, "staff": s, "gender": g, "address": t} for a in (None, 3.0, 80.0) for s in (None, 100.0)
            for g in (None, "男") for t in (None, "上海市黄浦区")]  # fmt: skip
    assert [holds(again, r) for r in rows] == [holds(node, r) for r in rows]
