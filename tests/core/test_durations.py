"""The one duration parser: compact and ISO 8601 forms, and clear refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.core.durations import MAX_DAYS, duration_ms, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("7d", timedelta(days=7)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("PT15M", timedelta(minutes=15)),
        ("P1D", timedelta(days=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P2W", timedelta(weeks=2)),
        ("PT0.5S", timedelta(seconds=0.5)),
        (" 24h ", timedelta(hours=24)),
    ],
)
def test_both_spellings(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "m5", "P", "PT", "1 h", "5x", "1h1d", "P1Y", None, 5])
def test_refused_with_an_example(text: object) -> None:
    with pytest.raises(ValueError, match=r"duration such as|years and months"):
        parse_duration(text)  # type: ignore[arg-type]


def test_years_and_months_are_refused_with_the_reason() -> None:
    for text in ("P1Y", "P2M", "P1Y2M3D"):
        with pytest.raises(ValueError, match="years and months have no fixed length"):
            parse_duration(text)
    assert parse_duration("PT2M") == timedelta(minutes=2)  # M after T is minutes


@given(st.integers(0, 400), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_compact_and_iso_agree(d: int, h: int, m: int, s: int) -> None:
    if d == h == m == s == 0:
        return
    compact = "".join(f"{n}{u}" for n, u in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if n)
    iso = f"P{d}DT{h}H{m}M{s}S"
    assert parse_duration(compact) == parse_duration(iso) == timedelta(days=d, hours=h, minutes=m, seconds=s)
    assert duration_ms(iso) == ((d * 24 + h) * 60 + m) * 60_000 + s * 1000


@pytest.mark.parametrize("text", ["P99999999999W", f"P{MAX_DAYS + 1}D", "PT" + "9" * 30 + "S", "9" * 5000 + "d"])
def test_a_duration_past_the_longest_is_refused_naming_the_bound(text: str) -> None:
    with pytest.raises(ValueError, match="longer than the longest duration accepted, 36,525 days"):
        parse_duration(text)
    assert parse_duration(f"P{MAX_DAYS}D") == timedelta(days=MAX_DAYS)
