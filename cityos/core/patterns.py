"""Regular expressions that come from requests (idPattern, q ``~=``), compiled for RE2.

RE2 matches in time linear in the text whatever the pattern, so a pattern such as ``(a|a)*!`` cannot
stall the process the way a backtracking engine (Python's ``re``) lets it. RE2 has no backreferences
and no lookaround: such a pattern is refused with a message naming the construct. PostgreSQL matches
these patterns itself; refused there too, they keep to the constructs its engine runs without
backtracking as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the caller's answer, not a line on stderr
_OPTIONS.max_mem = 8 << 20  # RE2's own default, said here: a pattern that needs more is refused

# What RE2 refuses, by what the pattern writes: (the construct's start, the name a person knows it by).
_CONSTRUCTS = (
    (re.compile(r"\\[1-9]|\(\?P=|\\k<"), "a backreference"),
    (re.compile(r"\(\?<?[=!]"), "a lookaround ((?=, (?!, (?<=, (?<!)"),
    (re.compile(r"\(\?>"), "an atomic group ((?>)"),
    (re.compile(r"[*+?}]\+"), "a possessive quantifier"),
)


class UnsupportedPattern(ValueError):
    """A pattern RE2 does not compile; the message names the construct, or says what RE2 said."""


def unsupported_construct(pattern: str) -> str | None:
    """The name of a construct in ``pattern`` that the linear-time engine does not have, or None."""
    for rx, name in _CONSTRUCTS:
        if rx.search(pattern):
            return name
    return None


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """``pattern`` compiled for RE2 (it has ``search`` as ``re`` patterns do); UnsupportedPattern if RE2
    cannot run it. Compiled patterns are kept: SQLite calls the matcher once per row."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        construct = unsupported_construct(pattern)
        if construct:
            raise UnsupportedPattern(
                f"it uses {construct}, which the linear-time regular expression engine (RE2) does not support"
            ) from None
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsupportedPattern(f"{reason} (patterns use the RE2 syntax)") from None


@lru_cache(maxsize=512)
def compile_utf8_pattern(pattern: str) -> Any:
    """``pattern`` compiled for RE2 to match UTF-8 bytes (``value.encode()``): the same matches as
    :func:`compile_pattern`, some four times faster per call on Chinese text, which the str form converts
    and maps back each time. UnsupportedPattern if RE2 cannot run it."""
    compile_pattern(pattern)  # the same refusals, with their messages
    return re2.compile(pattern.encode(), options=_OPTIONS)


@lru_cache(maxsize=512)
def utf8_searcher(pattern: str) -> Callable[[bytes], bool]:
    """Whether ``pattern`` matches somewhere in UTF-8 bytes: what ``compile_utf8_pattern(pattern).search``
    answers, as a bool and about twice as fast per call (an RE2 set of one pattern builds no match object).
    A set's DFA may run out of memory and answer no: a no is asked again of the pattern itself."""
    search = compile_utf8_pattern(pattern).search
    one = re2.Set.SearchSet(_OPTIONS)
    one.Add(pattern.encode())
    one.Compile()
    matches = one.Match

    def found(text: bytes) -> bool:
        return bool(matches(text)) or search(text) is not None

    return found
