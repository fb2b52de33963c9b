"""Stored timestamps have one width, so that text order is time order."""

import pytest

from cityos.core.timefmt import normalize_ts


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2026-11-21T08:00:00Z", "2026-11-21T08:00:00.000Z"),
        ("2026-11-21T16:00:00+08:00", "2026-11-21T08:00:00.000Z"),
        ("2026-11-21T08:00:00.123456Z", "2026-11-21T08:00:00.123Z"),
        ("2026-11-21T08:00:00", "2026-11-21T08:00:00.000Z"),
    ],
)
def test_normalize(given: str, stored: str) -> None:
    assert normalize_ts(given) == stored


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-13-01T00:00:00Z", "21/11/2026"])
def test_bad_timestamps_raise_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_ts(bad)
