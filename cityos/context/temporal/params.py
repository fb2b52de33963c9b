"""Parameters of the NGSI-LD temporal API: time relation, lastN, aggregation methods and periods."""

from __future__ import annotations

from dataclasses import dataclass

from cityos.context.errors import BadRequestData, InvalidRequest
from cityos.core.durations import duration_ms
from cityos.core.timefmt import FORMAT_HINT, normalize_ts, to_ms

TIMERELS = ("before", "after", "between")
AGGR_METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
# observedAt is the instance's key; createdAt and modifiedAt are both the time the instance was stored;
# deletedAt selects the instances that record a deletion, by the time they were stored (when it went)
TIME_PROPERTIES = ("observedAt", "createdAt", "modifiedAt", "deletedAt")


@dataclass(frozen=True)
class TimeRange:
    """A half-open range [start, end) in epoch ms; None is unbounded."""

    start: int | None = None
    end: int | None = None
    prop: str = "observedAt"  # the timeproperty the range applies to
    # the datasetIds whose instances are read ("" the default instance); None: all of them
    datasets: frozenset[str] | None = None

    @property
    def bounded(self) -> bool:
        """True when timerel gave the range a start or an end."""
        return self.start is not None or self.end is not None

    @property
    def by_storage_time(self) -> bool:
        """True when the range is on the time instances were stored rather than observed."""
        return self.prop != "observedAt"


@dataclass(frozen=True)
class Aggregation:
    methods: tuple[str, ...]
    period_ms: int | None  # None: one period over the whole range
    origin_ms: int | None  # periods are counted from here; None: from the first instance aggregated


def parse_time_range(
    timerel: str | None, time_at: str | None, end_time_at: str | None, timeproperty: str | None = None
) -> TimeRange:
    """The time range of ``timerel``/``timeAt``/``endTimeAt`` (all history when timerel is absent)."""
    if timeproperty not in (None, *TIME_PROPERTIES):
        raise BadRequestData(
            f"timeproperty={timeproperty!r} is unknown: use observedAt, createdAt, modifiedAt or deletedAt"
        )
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
    if timerel == "after":  # timeAt is an inclusive bound, before's an exclusive one (NGSI-LD v1.8 clause 4.11)
        return TimeRange(start, None, prop)
    if not end_time_at:
        raise BadRequestData(f"timerel=between needs endTimeAt, {FORMAT_HINT}")
    end = _ms("endTimeAt", end_time_at)
    if end <= start:
        raise BadRequestData(f"endTimeAt ({end_time_at}) must be after timeAt ({time_at})")
    return TimeRange(start, end, prop)


def _ms(name: str, text: str) -> int:
    if not isinstance(text, str) or "T" not in text:  # a date alone is not a DateTime (ETSI 021_26_09)
        raise BadRequestData(f"{name}={text!r} is not {FORMAT_HINT}")
    try:
        return to_ms(normalize_ts(text))
    except (ValueError, TypeError):
        raise BadRequestData(f"{name}={text!r} is not {FORMAT_HINT}") from None


# a lastN beyond this is as good as all of the history (and its digits are not worth converting)
LAST_N_MOST = 10**9


def parse_last_n(text: str | None) -> int | None:
    """``lastN``: a positive integer. One larger than the instances per attribute an answer holds is served
    a page at a time (206 Partial Content, NGSI-LD v1.8 clause 6.3.10), not refused."""
    if text is None or text == "":
        return None
    if not text.isascii() or not text.isdigit() or not text.strip("0"):
        raise InvalidRequest(f"lastN must be a positive integer, got {text[:40]!r}")
    digits = text.lstrip("0")
    return LAST_N_MOST if len(digits) > len(str(LAST_N_MOST)) else min(int(digits), LAST_N_MOST)


def parse_duration_ms(text: str) -> int:
    """``aggrPeriodDuration``: an ISO 8601 duration of weeks, days, hours, minutes and seconds in milliseconds.

    Years and months have no fixed length and are refused with a message saying so.
    """
    if not (text or "").startswith("P"):
        raise BadRequestData(f"aggrPeriodDuration={text!r} is not an ISO 8601 duration such as PT1H, P1D or P1W")
    try:
        total = duration_ms(text)
    except ValueError as exc:
        raise BadRequestData(f"aggrPeriodDuration={exc}") from None
    if total < 1:
        raise BadRequestData(f"aggrPeriodDuration={text!r} must be longer than zero")
    return total


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
    # PT0S (the default): one period over the whole range (NGSI-LD v1.8 clause 4.5.19)
    period_ms = parse_duration_ms(period) if period and period != "PT0S" else None
    # the first period starts at the first instance of the range, not at timeAt nor a clock hour (NGSI-LD
    # v1.8 clause 4.5.19; ETSI 020_11, 021_17)
    return Aggregation(names, period_ms, None)
