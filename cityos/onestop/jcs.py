"""JCS (RFC 8785, JSON Canonicalization Scheme) of the JSON values e-certificates sign, fast for what they hold.

The reference is the ``rfc8785`` library (pure Python). For a value made only of objects with string keys,
arrays, strings, integers within JCS's safe range, booleans and null, orjson with sorted keys writes the same
bytes (tests/onestop/test_jcs.py checks it on generated JSON) at a tenth of the cost:
- strings: both write UTF-8 unescaped except ``"``, ``\\`` and U+0000..U+001F, the latter as ``\\b \\t \\n \\f \\r``
  or ``\\u00xx`` in lower case, as ECMAScript's JSON.stringify does;
- keys: JCS orders them by UTF-16 code units, orjson by code points; the two orders differ only between a
  character above U+FFFF and one of U+E000..U+FFFF, so a key with a character above U+FFFF goes to the library;
- integers: the same decimal digits; one beyond +-(2**53 - 1) goes to the library (which refuses it).
Everything else (a float, whose ECMAScript form orjson does not write; a tuple; a subclass of str, int, dict or
list; a lone surrogate, which orjson refuses) goes to the library, so its answers and errors stay the reference.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

_SAFE = 2**53 - 1
_BMP_END = "\uffff"


def _plain(value: Any) -> bool:
    """Whether orjson's sorted form of ``value`` is its JCS form (see the module's docstring). A loop over a stack
    of containers, their scalars checked in place: this walk costs more than orjson's writing."""
    stack: list[Any] = [[value]]
    while stack:
        container = stack.pop()
        if type(container) is dict:
            for key in container:
                if type(key) is not str or not (key.isascii() or not key or max(key) <= _BMP_END):
                    return False
            container = container.values()
        for item in container:
            kind = type(item)
            if kind is str or item is None or kind is bool:
                continue
            if kind is int:
                if not -_SAFE <= item <= _SAFE:
                    return False
            elif kind is dict or kind is list:
                stack.append(item)
            else:
                return False
    return True


def dumps(value: Any) -> bytes:
    """The JCS form of a JSON value (bytes, UTF-8); the ``rfc8785`` library's errors for what JCS cannot write."""
    if _plain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # a lone surrogate, a nesting too deep: the reference decides
            pass
    return rfc8785.dumps(value)
