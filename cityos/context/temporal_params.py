"""Parameters of the NGSI-LD temporal API: time relation, lastN, aggregation methods and periods."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cityos.context.errors import BadRequestData, InvalidRequest
from cityos.context.history import to_ms
from cityos.context.timefmt import FORMAT_HINT, normalize_ts

TIMERELS = ("before", "after", "between")
AGGR_METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
# observedAt is the instance's key; createdAt and modifiedAt are both the time the instance was stored
TIME_PROPERTIES = ("observedAt", "createdAt", "modifiedAt")

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W|(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?)$"
)
_MS = {"weeks": 604_800_000, "days": 86_400_000, "hours": 3_600_000, "minutes": 60_000, "seconds": 1_000}


@dataclass(frozen=True)
class TimeRange:
    """A half-open range [start, end) in epoch ms; None is unbounded."""

    start: int | None = None
    end: int | None = None
    prop: str = "observedAt"  # the timeproperty the range applies to

    @property
    def by_storage_time(self) -> bool:
        """True when the range is on the time instances were stored rather than observed."""
        return self.prop != "observedAt"


@dataclass(frozen=True)
class Aggregation:
    methods: tuple[str, ...]
    period_ms: int | None  # None: one period over the whole range
    origin_ms: int  # periods are counted from here


def parse_time_range(
    timerel: str | None, time_at: str | None, end_time_at: str | None, timeproperty: str | None = None
) -> TimeRange:
    """The time range of ``timerel``/``timeAt``/``endTimeAt`` (all history when timerel is absent)."""
    if timeproperty not in (None, *TIME_PROPERTIES):
        raise BadRequestData(f"timeproperty={timeproperty!r} is unknown: use observedAt, createdAt or modifiedAt")
    prop = timeproperty or "observedAt"
    if timerel is None:
        if time_at or end_time_at:
            raise BadRequestData("timeAt and endTimeAt need timerel (before, after or between)")
        return TimeRange(prop=prop)
    if timerel not in TIMERELS:
        raise BadRequestData(f"timerel={timerel!r} is unknown: use before, after or between")
    if not time_at:
        raise BadRequestData(f"timerel={timerel} needs timeAt, {FORMAT_HINT}")
    start = _ms("timeAt", time_at)
    if timerel == "before":
        return TimeRange(None, start, prop)
    if timerel == "after":  # strictly after timeAt
        return TimeRange(start + 1, None, prop)
    if not end_time_at:
        raise BadRequestData(f"timerel=between needs endTimeAt, {FORMAT_HINT}")
    end = _ms("endTimeAt", end_time_at)
    if end <= start:
        raise BadRequestData(f"endTimeAt ({end_time_at}) must be after timeAt ({time_at})")
    return TimeRange(start, end, prop)


def _ms(name: str, text: str) -> int:
    try:
        return to_ms(normalize_ts(text))
    except (ValueError, TypeError):
        raise BadRequestData(f"{name}={text!r} is not {FORMAT_HINT}") from None


def parse_last_n(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit() or int(text) < 1:
        raise InvalidRequest(f"lastN must be a positive integer, got {text!r}")
    return int(text)


def parse_duration_ms(text: str) -> int:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds in milliseconds.

    Years and months have no fixed length and are refused with a message saying so.
    """
    m = _DURATION.match(text or "")
    if not m or not any(m.groupdict().values()):
        if re.match(r"^P(\d+Y)?(\d+M)?", text or "") and re.search(r"\d+[YM]", (text or "").split("T")[0]):
            raise BadRequestData(
                f"aggrPeriodDuration={text!r}: years and months are not supported, use days or weeks (e.g. P30D)"
            )
        raise BadRequestData(f"aggrPeriodDuration={text!r} is not an ISO 8601 duration such as PT1H, P1D or P1W")
    total = 0.0
    for unit, value in m.groupdict().items():
        if value:
            total += float(value) * _MS[unit]
    if total < 1:
        raise BadRequestData(f"aggrPeriodDuration={text!r} must be longer than zero")
    return int(total)


def parse_aggregation(methods: str | None, period: str | None, rng: TimeRange) -> Aggregation:
    names = tuple(m.strip() for m in (methods or "").split(",") if m.strip())
    if not names:
        raise BadRequestData(f"options=aggregatedValues needs aggrMethods, some of {', '.join(AGGR_METHODS)}")
    unknown = [n for n in names if n not in AGGR_METHODS]
    if unknown:
        raise BadRequestData(f"aggrMethods {', '.join(unknown)} unknown: use {', '.join(AGGR_METHODS)}")
    if rng.by_storage_time:
        raise BadRequestData(
            f"aggregated values are computed over observedAt only; leave out timeproperty={rng.prop} to aggregate"
        )
    period_ms = parse_duration_ms(period) if period else None
    return Aggregation(names, period_ms, rng.start if rng.start is not None else 0)
