"""Ids as IRIs: control characters are found, and an IRI written as a URI path segment decodes back."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.core.iris import control_character, holds_nul, no_control_characters, uri_segment


@given(st.text())
def test_a_segment_is_ascii_without_delimiters_and_decodes_back(iri: str) -> None:
    segment = uri_segment(iri)
    assert segment.isascii()
    assert not {"/", "?", "#", " "} & set(segment)
    assert unquote(segment, errors="strict") == iri


def test_non_ascii_is_percent_encoded_utf8() -> None:
    assert uri_segment("urn:ngsi-ld:Street:南京路") == "urn:ngsi-ld:Street:%E5%8D%97%E4%BA%AC%E8%B7%AF"


@pytest.mark.parametrize(("text", "found"), [("a\x00b", "U+0000 at position 1"), ("\x1f", "U+001F at position 0"),
    ("x\x7f", "U+007F at position 1"), ("\x85", "U+0085 at position 0"), ("南京路 ok\u00a0", None)])  # fmt: skip
def test_control_characters_are_found(text: str, found: str | None) -> None:
    assert control_character(text) == found
    if found is None:
        assert no_control_characters(text) == text
    else:
        with pytest.raises(ValueError, match="control character"):
            no_control_characters(text)


def test_nul_is_found_anywhere_in_a_json_value() -> None:
    assert holds_nul({"a": [1, {"b": "x\x00"}]})
    assert holds_nul({"k\x00": 1})
    assert not holds_nul({"a": [1, {"b": "x\n\x01"}], "c": None})
