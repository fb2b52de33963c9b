"""The quality evaluator's pattern test (an RE2 set of one pattern) answers what the compiled pattern's search
answers, on any text, for patterns that anchor, repeat, take classes and Chinese."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.core.patterns import compile_utf8_pattern, utf8_searcher

PATTERNS = ["^上海市黄浦区.+号", "[0-9]{3}弄", "^$", "路(\\d+)号$", "(a|ab)*c", "^\\s*$", "黄浦|静安", "号.室"]
ALPHABET = st.sampled_from(list("上海市黄浦区静安路弄号室0123456789abc \t\n"))


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), text=st.text(ALPHABET, max_size=30))
def test_the_searcher_answers_as_the_pattern_searches(pattern: str, text: str) -> None:
    data = text.encode()
    assert utf8_searcher(pattern)(data) == (compile_utf8_pattern(pattern).search(data) is not None)
