"""Timestamps as cityos stores them: UTC, millisecond precision, ``Z`` suffix; and as epoch milliseconds.

One fixed width means that string order is time order, in SQL and in Python alike.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache

FORMAT_HINT = "an ISO 8601 date-time such as 2026-11-21T08:00:00Z"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC) - _EPOCH


def now_iso() -> str:
    """The time now as a stored timestamp (as ``format_ts(datetime.now(UTC))``, at a fraction of the cost: a
    notifier stamps thousands of notifications a second)."""
    return ms_iso(time.time_ns() // 1_000_000)


def ms_iso(ms: int) -> str:
    """A time in milliseconds since the epoch as a stored timestamp."""
    return _second_text(ms // 1000) + f"{ms % 1000:03d}Z"


@lru_cache(maxsize=4)
def _second_text(second: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.`` of an epoch second: formatted once for the thousands of stamps it begins."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))


def format_ts(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> datetime:
    """Parse an ISO 8601 date-time (naive values are taken as UTC). Raises ValueError."""
    if not isinstance(text, str) or len(text) < 10:
        raise ValueError("not a date-time string")
    dt = datetime.fromisoformat(text.replace("z", "Z"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def normalize_ts(text: str) -> str:
    """Any ISO 8601 date-time to the stored form. Raises ValueError."""
    if isinstance(text, str) and len(text) == 24 and text[19] == "." and text[23] == "Z" and text[10] == "T":
        datetime.fromisoformat(text[:23])  # already in the stored form (most telemetry): only check it
        return text
    return format_ts(parse_ts(text))


def to_ms(stamp: str) -> int:
    """A stored timestamp (``YYYY-MM-DDTHH:MM:SS.fffZ``) as epoch milliseconds."""
    dt = datetime.fromisoformat(stamp)
    return (dt - _EPOCH) // _ONE_MS


def from_ms(ms: int) -> str:
    """Epoch milliseconds as a stored timestamp."""
    dt = _EPOCH + ms * _ONE_MS
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def now_ms() -> int:
    """The time now in epoch milliseconds."""
    return int(datetime.now(UTC).timestamp() * 1000)
