"""cityos.onestop.jcs writes the bytes of the reference JCS library (rfc8785) for every JSON value, through orjson
where it can: on generated JSON (every kind of string, key order across the UTF-16 surrogate range, integers
around the safe range, floats), and it takes orjson's way for what an e-certificate holds. The proof value's
base58, written and read, is the base58 library's."""

from __future__ import annotations

import json
from typing import Any

import base58
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from test_credentials import ENTERPRISE, LICENCE, SECRET

from cityos import onestop
from cityos.onestop import jcs
from cityos.onestop.credentials import B58_ALPHABET, b58decode, b58encode
from cityos.runtime import Runtime

# characters where JCS and orjson could part: controls, the escapes, U+007F, U+2028, the private use area
# (U+E000..U+FFFF orders after a surrogate pair in UTF-16 but before it by code point), astral ones, and lone
# surrogates (which UTF-8 cannot carry)
TRICKY = st.sampled_from(['"', "\\", "/", "\x7f", "\u2028", "\ue000", "\uffff", "\U0001f600", "\U00010000", "é"])
CHARS = st.one_of(
    st.characters(max_codepoint=0x1F),
    TRICKY,
    st.characters(codec="utf-8"),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
)
TEXT = st.text(CHARS, max_size=8)
SAFE = 2**53 - 1
INTS = st.one_of(st.integers(-SAFE, SAFE), st.sampled_from([SAFE, -SAFE, SAFE + 1, -SAFE - 1, 2**64]))
SCALARS = st.one_of(st.none(), st.booleans(), INTS, TEXT, st.floats(allow_nan=False, allow_infinity=False))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                      st.dictionaries(TEXT, inner, max_size=5)),
                    max_leaves=30)  # fmt: skip


def _outcome(fn: Any, value: Any) -> bytes | type[BaseException]:
    try:
        return bytes(fn(value))
    except Exception as exc:  # the reference's refusal is part of what must match
        return type(exc)


@given(JSON)
@settings(deadline=None)  # the reference library is pure Python: on a loaded machine an example can take 200 ms
def test_jcs_writes_the_reference_bytes(value: Any) -> None:
    assert _outcome(jcs.dumps, value) == _outcome(rfc8785.dumps, value)


@given(st.dictionaries(st.text(st.one_of(TRICKY, st.characters(min_codepoint=0xE000)), min_size=1, max_size=3),
                       st.integers(0, 9), min_size=2, max_size=6))  # fmt: skip
def test_keys_are_ordered_by_utf16_code_units(value: dict[str, int]) -> None:
    written = _outcome(jcs.dumps, value)
    assert written == _outcome(rfc8785.dumps, value)
    if isinstance(written, bytes):
        order = list(json.loads(written, object_pairs_hook=lambda pairs: [k for k, _ in pairs]))
        assert order == sorted(value, key=lambda k: k.encode("utf-16be"))


def test_a_surrogate_pair_key_sorts_before_the_private_use_area() -> None:
    value = {"\ue000": 1, "\U0001f600": 2}  # U+1F600 is D83D DE00 in UTF-16, before E000; after it by code point
    assert jcs.dumps(value) == rfc8785.dumps(value)
    assert jcs.dumps(value).decode().index("\U0001f600") < jcs.dumps(value).decode().index("\ue000")


@given(st.tuples(st.integers(-SAFE, SAFE), TEXT))
def test_a_tuple_is_an_array(value: tuple[int, str]) -> None:
    # a lone surrogate in the text: both refuse it, as for the list
    assert _outcome(jcs.dumps, value) == _outcome(rfc8785.dumps, value) == _outcome(jcs.dumps, list(value))


@pytest.mark.settings(seal_secret=SECRET)
def test_an_issued_credential_takes_the_fast_way(rt: Runtime) -> None:
    issued = onestop.issue_credential(rt, "BusinessLicence", ENTERPRISE, LICENCE, "market-regulation")
    document = issued.document
    assert jcs._plain(document)
    assert jcs.dumps(document) == rfc8785.dumps(document)
    assert onestop.verify_credential_here(rt, document).ok


@given(st.one_of(st.binary(max_size=80), st.binary(max_size=4).map(lambda b: b"\0" * 3 + b)))
def test_base58_is_the_librarys(data: bytes) -> None:
    assert b58encode(data) == base58.b58encode(data).decode("ascii")
    assert base58.b58decode(b58encode(data)) == data
    assert b58decode(b58encode(data)) == data


@given(st.text(alphabet=B58_ALPHABET, max_size=120), st.text(alphabet="1", max_size=3))
def test_base58_reads_as_the_library_reads(text: str, ones: str) -> None:
    assert b58decode(ones + text) == base58.b58decode(ones + text)


@pytest.mark.parametrize("text", ["0", "abcO", "Il", "+/", "é", "2 "])
def test_base58_refuses_a_character_outside_the_alphabet(text: str) -> None:
    with pytest.raises(ValueError, match="not base58"):
        b58decode(text)
