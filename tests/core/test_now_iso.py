"""Stored timestamps: now_iso as format_ts of the time now."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from cityos.core.timefmt import _second_text, format_ts, from_ms, now_iso


def test_now_iso_is_the_stored_form_of_the_time_now() -> None:
    before = format_ts(datetime.now(UTC))
    now = now_iso()
    after = format_ts(datetime.now(UTC))
    assert before <= now <= after
    assert len(now) == 24 and now.endswith("Z")


@given(st.integers(min_value=0, max_value=253402300799999))  # up to 9999-12-31T23:59:59.999Z
def test_the_second_formatted_once_gives_the_stored_form(ms: int) -> None:
    assert _second_text(ms // 1000) + f"{ms % 1000:03d}Z" == from_ms(ms)
