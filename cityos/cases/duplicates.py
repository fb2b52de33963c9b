"""Duplicate reports (重复上报): link a new report to the open case it repeats, Signalen/FixMyStreet style.

Pure functions, no SQL and no clock: the store hands in the candidates (prefiltered with :func:`bounding_box` if it
likes) and the report's time. A report repeats a case when the case is still open, is of the same sub-category (or,
with ``same_main_only``, of any sub-category of the same main category), lies within ``distance_m`` metres and was
reported no more than ``within`` before the new report. Of several such cases the nearest wins, then the earliest.

A category may have its own distance and window (``overrides``): a burst water main floods a whole crossing and is
reported for hours, a full litter bin is one spot on one afternoon.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.workflow import OPEN
from cityos.core.durations import parse_duration as core_duration

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), the usual figure for haversine
MAX_DISTANCE_M = 5000.0
MIN_WITHIN = timedelta(minutes=1)
MAX_WITHIN = timedelta(days=30)

# Every workflow state but closed, cancelled, merged and split: a closed case that is reopened is open again.
OPEN_STATES: frozenset[str] = frozenset(s.value for s in OPEN)

_FIELDS = ("distance_m", "within", "same_main_only", "overrides")
_OVERRIDE_FIELDS = ("distance_m", "within")


@dataclass(frozen=True)
class DuplicatePolicy:
    """How near and how recent an open case must be for a new report to repeat it.

    ``overrides`` maps a sub-category or main-category code to its own (distance in metres, window); a
    sub-category's entry wins over its main category's.
    """

    distance_m: float = 50.0
    within: timedelta = timedelta(hours=24)
    same_main_only: bool = False
    overrides: Mapping[str, tuple[float, timedelta]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _check_distance(self.distance_m, "DuplicatePolicy.distance_m")
        _check_within(self.within, "DuplicatePolicy.within")
        for code, (d, w) in self.overrides.items():
            _check_distance(d, f"DuplicatePolicy.overrides[{code}].distance_m")
            _check_within(w, f"DuplicatePolicy.overrides[{code}].within")
        # A read-only copy, so a frozen policy cannot be changed through the caller's dict.
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def limits(self, category: str, main_category: str | None = None) -> tuple[float, timedelta]:
        """(distance in metres, window) for a report of ``category`` (of ``main_category``)."""
        if category in self.overrides:
            return self.overrides[category]
        if main_category is not None and main_category in self.overrides:
            return self.overrides[main_category]
        return self.distance_m, self.within


@dataclass(frozen=True)
class Candidate:
    """An existing case a new report might repeat, as the store has it."""

    case_id: str
    category: str
    main_category: str
    lon: float
    lat: float
    reported_at_ms: int
    state: str


# --- configuration ------------------------------------------------------------------------------------------


def _check_distance(value: Any, where: str) -> float:
    # bool is an int to Python, but `distance_m: true` in a config file is a mistake, not 1 metre
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= MAX_DISTANCE_M
    if not ok:
        raise InvalidCasesConfig(
            f"{where}: {value!r} is not a distance; give metres greater than 0 and at most {MAX_DISTANCE_M:g}"
        )
    return float(value)


def _check_within(value: Any, where: str) -> timedelta:
    if not isinstance(value, timedelta) or not MIN_WITHIN <= value <= MAX_WITHIN:
        raise InvalidCasesConfig(f"{where}: {value!r} is not a window between 1 minute and 30 days")
    return value


def parse_duration(text: Any, *, where: str = "duration") -> timedelta:
    """A duration of the cases configuration (``"30m"``, ``"24h"``, ``"7d"``, ISO ``"P7D"``; a timedelta passes
    through); ``where`` names the field in the error."""
    if isinstance(text, timedelta):
        return text
    try:
        return core_duration(text)
    except ValueError as exc:
        raise InvalidCasesConfig(f"{where}: {exc}") from None


def _unknown_keys(raw: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    # A misspelt key would otherwise fall back to the default without a word.
    extra = sorted(str(k) for k in raw if k not in known)
    if extra:
        raise InvalidCasesConfig(f"{where}: unknown field {extra[0]!r}; fields are {', '.join(known)}")


def policy_from_config(
    raw: Mapping[str, Any] | None,
    *,
    categories: Collection[str] | None = None,
    where: str = "duplicates",
) -> DuplicatePolicy:
    """Build and validate a policy from a config mapping, e.g. from YAML::

        distance_m: 50
        within: 24h
        same_main_only: false
        overrides:
          water-main-burst: {distance_m: 200, within: 6h}

    Missing fields take the defaults; an override may give one field and take the other from the policy.
    ``categories``, when given, are the known category codes an override may name. Raises
    :class:`InvalidCasesConfig` naming the field.
    """
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise InvalidCasesConfig(f"{where}: {raw!r} is not a mapping of {', '.join(_FIELDS)}")
    _unknown_keys(raw, _FIELDS, where)
    default = DuplicatePolicy()
    distance = _check_distance(raw.get("distance_m", default.distance_m), f"{where}.distance_m")
    within = _check_within(
        parse_duration(raw.get("within", default.within), where=f"{where}.within"), f"{where}.within"
    )
    same_main_only = raw.get("same_main_only", default.same_main_only)
    if not isinstance(same_main_only, bool):
        raise InvalidCasesConfig(f"{where}.same_main_only: {same_main_only!r} must be true or false")

    raw_overrides = raw.get("overrides") or {}
    if not isinstance(raw_overrides, Mapping):
        raise InvalidCasesConfig(f"{where}.overrides: {raw_overrides!r} is not a mapping of category code to limits")
    overrides: dict[str, tuple[float, timedelta]] = {}
    for code, entry in raw_overrides.items():
        at = f"{where}.overrides[{code}]"
        if not isinstance(code, str) or not code.strip():
            raise InvalidCasesConfig(f"{where}.overrides: {code!r} is not a category code")
        if categories is not None and code not in categories:
            raise InvalidCasesConfig(f"{at}: unknown category {code!r}")
        if not isinstance(entry, Mapping) or not entry:
            raise InvalidCasesConfig(f"{at}: {entry!r} must be a mapping with distance_m and/or within")
        _unknown_keys(entry, _OVERRIDE_FIELDS, at)
        d = _check_distance(entry.get("distance_m", distance), f"{at}.distance_m")
        w = _check_within(parse_duration(entry.get("within", within), where=f"{at}.within"), f"{at}.within")
        overrides[code] = (d, w)
    return DuplicatePolicy(distance, within, same_main_only, overrides)


# --- geometry -----------------------------------------------------------------------------------------------


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS 84 points (haversine on the mean Earth radius).

    The sphere is off the ellipsoid by at most about 0.5 %, far below what a duplicate radius cares about.
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))  # min(): rounding can push h a hair above 1


def bounding_box(lon: float, lat: float, distance_m: float) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of a box holding every point within ``distance_m`` of (lon, lat).

    A cheap index prefilter (``lon BETWEEN … AND lat BETWEEN …``) before the exact :func:`distance_m`. The
    longitude half-width is asin(sin r / cos φ), the true widest point of the circle, not r / cos φ at the centre
    latitude. Near a pole, or across the antimeridian, the box takes every longitude so it stays one rectangle.
    """
    if distance_m < 0:
        raise ValueError(f"distance {distance_m!r} must not be negative")
    # A hair wider, so that float rounding never leaves a point on the circle itself outside the box.
    r = distance_m / EARTH_RADIUS_M * (1 + 1e-9) + 1e-12
    phi = math.radians(lat)
    min_lat, max_lat = math.degrees(phi - r), math.degrees(phi + r)
    if min_lat <= -90 or max_lat >= 90 or math.sin(r) >= math.cos(phi):
        return -180.0, max(min_lat, -90.0), 180.0, min(max_lat, 90.0)
    dlon = math.degrees(math.asin(math.sin(r) / math.cos(phi)))
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180 or max_lon > 180:
        return -180.0, min_lat, 180.0, max_lat
    return min_lon, min_lat, max_lon, max_lat


# --- matching -----------------------------------------------------------------------------------------------


def find_duplicate(
    policy: DuplicatePolicy,
    category: str,
    main_category: str,
    lon: float,
    lat: float,
    at_ms: int,
    candidates: Iterable[Candidate],
) -> Candidate | None:
    """The open case a report of ``category`` at (lon, lat) made at ``at_ms`` repeats, or None.

    Qualifies: an open state, the same sub-category (or main category with ``same_main_only``), at most the
    policy's distance away, reported in [at_ms − within, at_ms]. A case reported after the new report is not one
    it can repeat. Nearest first; ties go to the earlier report, then the smaller case id so the answer is stable.
    """
    max_m, within = policy.limits(category, main_category)
    earliest = at_ms - within // timedelta(milliseconds=1)
    best: tuple[float, int, str] | None = None
    found: Candidate | None = None
    for c in candidates:
        if c.state not in OPEN_STATES or not earliest <= c.reported_at_ms <= at_ms:
            continue
        if c.category != category and not (policy.same_main_only and c.main_category == main_category):
            continue
        d = distance_m(lon, lat, c.lon, c.lat)
        if d > max_m:
            continue
        rank = (d, c.reported_at_ms, c.case_id)
        if best is None or rank < best:
            best, found = rank, c
    return found
