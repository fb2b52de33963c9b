"""How deeply a JSON text nests, checked on the raw bytes before any parser sees them.

Parsers and serialisers disagree on depth (orjson reads 1,024 levels and writes about 255), so a body
between the two is taken in and then fails on the way out. One limit, checked here for every body,
keeps what is taken in writable. Every step runs in C over the bytes (``bytes.replace``, ``split``,
``translate`` and a numpy running sum): a body of many megabytes is checked in tens of milliseconds,
whatever it holds.
"""

from __future__ import annotations

import numpy as np

_SAME_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def _outside_strings(text: bytes) -> bytes:
    """``text`` without its JSON strings. Escapes pair up from the left as ``replace`` goes, so once the
    escaped backslashes and then the escaped quotes are gone, quotes alternate opening and closing."""
    unescaped = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(unescaped.split(b'"')[::2])


def nests_deeper_than(text: bytes, limit: int) -> bool:
    """Whether the JSON ``text`` nests arrays and objects more than ``limit`` levels deep (``[]`` is one
    level, ``[{}]`` two). Text that is not JSON is judged by its brackets outside double quotes."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    brackets = _outside_strings(text).translate(_SAME_BRACKETS, delete=_NOT_A_BRACKET)
    return _deepest(brackets) > limit


def holds_escaped_nul(text: bytes) -> bool:
    """Whether the JSON ``text`` holds U+0000 written as the escape ``\\u0000`` (not a backslash that is
    itself escaped and then the letters ``u0000``)."""
    at = text.find(b"\\u0000")
    while at != -1:
        backslashes = at - len(text[:at].rstrip(b"\\"))  # those just before this escape's own backslash
        if backslashes % 2 == 0:
            return True
        at = text.find(b"\\u0000", at + 1)
    return False


def _deepest(brackets: bytes) -> int:
    """The largest number of open brackets at any point of a text of brackets alone."""
    steps = 92 - np.frombuffer(brackets, dtype=np.int8)  # "[" is 91: +1; "]" is 93: -1
    return int(np.cumsum(steps, dtype=np.int32).max(initial=0))
