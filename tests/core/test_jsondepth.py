"""The JSON depth check on raw bytes (cityos.core.jsondepth) against the depth of the parsed value."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from cityos.core.jsondepth import nests_deeper_than

# Strings full of what could fool a scanner: brackets, quotes, backslashes.
tricky = st.text(alphabet='[]{}"\\ ax', max_size=12)
values = st.recursive(
    st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | tricky,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky, inner, max_size=3),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@given(values, st.integers(min_value=1, max_value=8), st.booleans())
def test_the_byte_check_agrees_with_the_parsed_depth(value: Any, limit: int, pretty: bool) -> None:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 if pretty else 0)
    assert nests_deeper_than(text, limit) == (depth(value) > limit)


def test_the_limit_is_inclusive_and_strings_do_not_nest() -> None:
    assert not nests_deeper_than(b"[" * 64 + b"]" * 64, 64)
    assert nests_deeper_than(b"[" * 65 + b"]" * 65, 64)
    assert not nests_deeper_than(orjson.dumps(["[" * 100, {"k{{{{": '\\"[[[['}]), 2)
