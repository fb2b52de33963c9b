"""Formulas of derived indicators: evaluated as plain arithmetic would, and nothing else is run."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.vitals.errors import InvalidFormula
from cityos.vitals.formula import parse

NAMES = ["people", "area", "dwell", "k"]


def expressions() -> st.SearchStrategy[str]:
    leaf = st.one_of(
        st.sampled_from(NAMES),
        st.integers(0, 1000).map(str),
        st.floats(0.001, 1000, allow_nan=False).map(lambda f: f"{f:.3f}"),
    )

    def grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(children, st.sampled_from("+-*/"), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            children.map(lambda c: f"-{c}"),
            st.tuples(st.sampled_from(["min", "max"]), st.lists(children, min_size=2, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"
            ),
            children.map(lambda c: f"abs({c})"),
        )

    return st.recursive(leaf, grow, max_leaves=12)


def reference(text: str, values: dict[str, float]) -> float | None:
    """Python's own arithmetic on the same text; None where it divides by zero or overflows."""
    try:
        out = eval(text, {"__builtins__": {}, "min": min, "max": max, "abs": abs}, dict(values))
    except ZeroDivisionError:
        return None
    return float(out) if math.isfinite(out) else None


@settings(max_examples=300, deadline=None)
@given(text=expressions(), values=st.fixed_dictionaries({n: st.floats(-1e3, 1e3, allow_nan=False) for n in NAMES}))
def test_a_formula_evaluates_as_python_arithmetic(text: str, values: dict[str, float]) -> None:
    f = parse(text)
    assert f.names <= set(NAMES)
    want = reference(text, values)
    got = f.evaluate(values)
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(text=expressions())
def test_a_missing_input_makes_no_value(text: str) -> None:
    f = parse(text)
    if f.names:
        assert f.evaluate({}) is None


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_any_text_is_a_formula_or_a_clear_refusal(text: str) -> None:
    try:
        f = parse(text)
    except InvalidFormula as exc:
        assert str(exc)
    else:
        f.evaluate(dict.fromkeys(f.names, 1.0))


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "people.__class__",
        "people[0]",
        "lambda: 1",
        "[x for x in people]",
        "'text'",
        "people ** 1000",
        "people if area else dwell",
        "open('/etc/passwd')",
        "max(people, key=area)",
        "True + 1",
        "min(people)",
        "abs(people, area)",
    ],
)
def test_anything_but_arithmetic_is_refused(text: str) -> None:
    with pytest.raises(InvalidFormula):
        parse(text)
