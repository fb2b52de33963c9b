"""Durations as people write them in cityos's configuration and APIs: one parser for all of them.

Two spellings are read, each case-sensitive as written here:

* compact: ``90s``, ``5m``, ``1h30m``, ``7d`` (days, hours, minutes, seconds, in that order);
* ISO 8601: ``PT15M``, ``P1D``, ``P1DT12H``, ``P2W``, ``PT0.5S``.

Years and months have no fixed length and are refused with a message saying so. A number alone is
not accepted here (its unit would be a guess); callers that take seconds as a number say so
themselves. No duration is longer than ``MAX_DAYS`` (about a hundred years): a longer one is a
mistake, and past about 2.7 million years it would not even fit a ``timedelta``.
"""

from __future__ import annotations

import re
from datetime import timedelta

EXAMPLES = "5m, 1h30m, 7d or ISO 8601 PT15M, P1D, P1W"
MAX_DAYS = 36_525
_UNIT_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}

_COMPACT = re.compile(r"^(?:(?P<days>\d+)d)?(?:(?P<hours>\d+)h)?(?:(?P<minutes>\d+)m)?(?:(?P<seconds>\d+)s)?$")
_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_YEARS_OR_MONTHS = re.compile(r"^P(?:\d+Y)?(?:\d+M)?")


def parse_duration(text: str) -> timedelta:
    """The duration ``text`` names; ValueError with a message a person can act on otherwise.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    >>> parse_duration("P1W")
    datetime.timedelta(days=7)
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration such as {EXAMPLES}")
    s = text.strip()
    m = _COMPACT.match(s) or _ISO.match(s)
    if not s or m is None or not any(m.groupdict().values()):
        date_part = s.split("T")[0]
        if _YEARS_OR_MONTHS.match(s) and re.search(r"\d+[YM]", date_part):
            raise ValueError(f"{text!r}: years and months have no fixed length; use days or weeks (e.g. P30D)")
        raise ValueError(f"{text!r} is not a duration such as {EXAMPLES}")
    parts = {k: float(v) for k, v in m.groupdict().items() if v}
    if sum(n * _UNIT_SECONDS[k] for k, n in parts.items()) > MAX_DAYS * 86_400:
        raise ValueError(f"{text[:40]!r} is longer than the longest duration accepted, {MAX_DAYS:,} days")
    return timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


def duration_ms(text: str) -> int:
    """``parse_duration`` in whole milliseconds."""
    return int(parse_duration(text) / timedelta(milliseconds=1))
