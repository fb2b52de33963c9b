"""Property tests of the payload decoders: they read back what a device encodes, and anything else is
refused with ``Rejected`` (a dead letter), never another exception."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.iot.decoders import decode_json, decode_ul, typed_value
from cityos.iot.errors import Rejected

names = st.text(alphabet=st.characters(blacklist_characters="|#", blacklist_categories=("Cs", "Zs", "Cc")), min_size=1)
numbers = st.floats(allow_nan=False, allow_infinity=False, width=32)
groups = st.dictionaries(names.filter(lambda s: s.strip() == s), numbers, min_size=1, max_size=5)


@given(st.lists(groups, min_size=1, max_size=4))
def test_ultralight_reads_back_what_was_encoded(readings: list[dict[str, float]]) -> None:
    payload = "#".join("|".join(f"{k}|{v!r}" for k, v in g.items()) for g in readings).encode()
    decoded = decode_ul(payload)
    assert [list(r.measures) for r in decoded] == [list(g) for g in readings]
    for r, g in zip(decoded, readings, strict=True):
        assert {k: typed_value(k, v, "number") for k, v in r.measures.items()} == as_stored(g)


def as_stored(g: dict[str, float]) -> dict[str, float]:
    return {k: (int(v) if v.is_integer() and abs(v) < 2**53 else v) for k, v in g.items()}


@given(st.lists(groups, min_size=1, max_size=4))
def test_json_reads_back_what_was_encoded(readings: list[dict[str, float]]) -> None:
    decoded = decode_json(orjson.dumps(readings))
    assert [r.measures for r in decoded] == readings


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_are_rejected(payload: bytes) -> None:
    for decode in (decode_json, decode_ul):
        try:
            readings = decode(payload)
        except Rejected as exc:
            assert exc.code == "unparseable" and exc.detail
        else:
            assert readings and all(r.measures for r in readings)


def test_json_nested_hundreds_deep_is_a_dead_letter_not_a_failed_batch() -> None:
    # Over MQTT no body limit stands in front: a value nested 1,000 deep (orjson reads 1,024) made showing
    # it in the rejection raise RecursionError, which fails the whole batch, again at each redelivery.
    payload = b'{"t":' + b'{"a":' * 1000 + b"1" + b"}" * 1001
    with pytest.raises(Rejected, match="nests more than 8 levels") as err:
        decode_json(payload)
    assert err.value.code == "unparseable"
    with pytest.raises(Rejected, match="must be a number"):
        decode_json(b'{"t": {"a": {"b": 1}}}')  # shallow nesting is refused as before, naming the measure


def test_a_leading_time_in_an_ultralight_group_is_its_observation_time() -> None:
    first, second = decode_ul(b"2026-11-21T08:00:00Z|t|25.1|h|60#t|25.3")
    assert first.observed_at == "2026-11-21T08:00:00.000Z" and first.measures == {"t": "25.1", "h": "60"}
    assert second.observed_at is None
