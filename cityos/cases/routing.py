"""Routing of incident cases: ordered rules as data, evaluated by one pure function.

A rule matches on category × place (grids, streets or an area polygon) × time (a local time window and
working or rest days) and names the responsible department, optional cooperating departments for joint
handling (联合处置) and optionally the level that handles it. The first matching rule wins; when none
matches, the sub-category's default department (from the taxonomy, passed in by the caller) takes it.

Every condition a rule states must hold; a list matches when any of its entries does. A rule that asks
for a grid, street or area does not match a case that lacks that field. Times are Asia/Shanghai local.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import shapely
from pydantic import BaseModel, ConfigDict, ValidationError
from shapely.geometry import Point, Polygon

from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.taxonomy import read_yaml
from cityos.cases.timelimits import DEFAULT_CALENDAR, TZ, parse_window

DEFAULT_RULES = Path(__file__).with_name("routing.yaml")
DEFAULT_RULE_ID = "default"  # reserved: the rule id reported when the category's default department is used
GRID_PREFIX = "urn:ngsi-ld:Grid:"
STREET_PREFIX = "urn:ngsi-ld:Street:"
_DAY_MINUTES = 24 * 60

Days = Literal["all", "working-days", "rest-days"]
Level = Literal["grid", "street", "district"]


class _RuleSpec(BaseModel):
    """The shape of one rule as written; meaning is checked when it is compiled."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    name: str | None = None
    categories: list[str] | str  # a list of codes, or "*"
    grids: list[str] | None = None
    streets: list[str] | None = None
    area: dict[str, Any] | None = None
    hours: str | None = None
    days: Days = "all"
    department: str
    cooperating: list[str] = []
    level: Level | None = None


@dataclass(frozen=True)
class Rule:
    """A validated rule; ``None`` conditions are not asked."""

    id: str
    name: str | None
    department: str
    cooperating: tuple[str, ...] = ()
    level: Level | None = None
    categories: frozenset[str] | None = None  # None: any category ("*")
    grids: frozenset[str] | None = None
    streets: frozenset[str] | None = None
    area: Polygon | None = field(default=None, compare=False)  # prepared (shapely.prepare)
    area_bounds: tuple[float, float, float, float] | None = None
    hours: tuple[int, int] | None = None  # minutes since midnight [start, end); start > end wraps midnight
    hours_text: str | None = None
    days: Days = "all"

    @property
    def catch_all(self) -> bool:
        """Whether the rule matches every case, leaving every later rule unreachable."""
        conditions = (self.categories, self.grids, self.streets, self.area, self.hours)
        return all(c is None for c in conditions) and self.days == "all"


@dataclass(frozen=True)
class RuleSet:
    """Ordered rules and where they came from."""

    rules: tuple[Rule, ...]
    source: str = "routing rules"

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def __len__(self) -> int:
        return len(self.rules)


@dataclass(frozen=True)
class Routing:
    """Who gets a case and why.

    ``rule_id`` is the matching rule's id, ``"default"`` when the category's default department took it,
    or None when nobody did (no rule matched and the category has no default department).
    ``trace`` lists, when asked for, each rule tried before the match with the first condition that failed.
    """

    department: str | None
    cooperating: tuple[str, ...]
    rule_id: str | None
    level: Level | None
    explanation: str
    explanation_zh: str
    trace: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------------------------------------
# Loading and validation


def load_rules(
    path: str | Path | None = None,
    *,
    known_departments: Collection[str] | None = None,
    known_categories: Collection[str] | None = None,
) -> RuleSet:
    """Load and validate a routing YAML file (the demo rules by default); errors name the rule and field."""
    path = Path(path) if path is not None else DEFAULT_RULES
    data = read_yaml(path, "the routing rules")
    return parse_rules(data, source=str(path), known_departments=known_departments, known_categories=known_categories)


def parse_rules(
    data: Any,
    *,
    source: str = "routing rules",
    known_departments: Collection[str] | None = None,
    known_categories: Collection[str] | None = None,
) -> RuleSet:
    """Validate rules given as data: ``{"rules": [...]}``."""
    raw = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise InvalidCasesConfig(f"{source}: expected a mapping with a 'rules' list")
    rules: list[Rule] = []
    for i, item in enumerate(raw, start=1):
        rule = _compile(item, _where(source, i, item), known_departments, known_categories)
        where = f"{source}: rule '{rule.id}'"
        if any(r.id == rule.id for r in rules):
            raise InvalidCasesConfig(f"{where}, field 'id': duplicate id; rule ids must be unique")
        if rules and rules[-1].catch_all:
            raise InvalidCasesConfig(f"{where}: can never match; rule '{rules[-1].id}' before it matches every case")
        rules.append(rule)
    return RuleSet(tuple(rules), source)


def _where(source: str, index: int, item: Any) -> str:
    """Name a rule by its id when it has one, else by its position."""
    rule_id = item.get("id") if isinstance(item, dict) else None
    return f"{source}: rule '{rule_id}'" if isinstance(rule_id, str) and rule_id.strip() else f"{source}: rule #{index}"


def _compile(
    item: Any, where: str, known_departments: Collection[str] | None, known_categories: Collection[str] | None
) -> Rule:
    try:
        spec = _RuleSpec.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidCasesConfig(f"{where}, field '{_field_name(first['loc'])}': {first['msg']}") from None

    def fail(fld: str, msg: str) -> InvalidCasesConfig:
        return InvalidCasesConfig(f"{where}, field '{fld}': {msg}")

    if not spec.id.strip() or spec.id == DEFAULT_RULE_ID:
        raise fail("id", f"give a non-empty id other than the reserved {DEFAULT_RULE_ID!r}")
    categories = _codes(spec.categories, "categories", known_categories, fail)
    grids = _ids(spec.grids, "grids", GRID_PREFIX, fail)
    streets = _ids(spec.streets, "streets", STREET_PREFIX, fail)
    department, cooperating = _departments(spec.department, spec.cooperating, known_departments, fail)
    hours = _minutes(spec.hours, fail)
    area = _polygon(spec.area, fail) if spec.area is not None else None
    return Rule(
        spec.id, spec.name, department, cooperating, spec.level, categories, grids, streets, area,
        area.bounds if area is not None else None, hours, spec.hours, spec.days,
    )  # fmt: skip


_Fail = Callable[[str, str], InvalidCasesConfig]


def _field_name(loc: tuple[int | str, ...]) -> str:
    """``("cooperating", 1)`` → ``cooperating[1]``; drops pydantic's union-member tags."""
    if not loc:
        return "rule"
    return str(loc[0]) + "".join(f"[{p}]" for p in loc[1:] if isinstance(p, int))


def _codes(value: list[str] | str, fld: str, known: Collection[str] | None, fail: _Fail) -> frozenset[str] | None:
    if value == "*":
        return None
    if isinstance(value, str) or not value or any(not c.strip() for c in value):
        raise fail(fld, "give one or more category codes, or '*' for any category")
    unknown = sorted(set(value) - set(known)) if known is not None else []
    if unknown:
        raise fail(fld, f"unknown category {unknown[0]!r}")
    return frozenset(value)


def _ids(value: list[str] | None, fld: str, prefix: str, fail: _Fail) -> frozenset[str] | None:
    if value is None:
        return None
    if not value:
        raise fail(fld, "an empty list never matches; leave the field out to match anywhere")
    bad = [v for v in value if not v.startswith(prefix) or len(v) == len(prefix)]
    if bad:
        raise fail(fld, f"{bad[0]!r} is not an id like '{prefix}…'")
    return frozenset(value)


def _departments(
    department: str, cooperating: list[str], known: Collection[str] | None, fail: _Fail
) -> tuple[str, tuple[str, ...]]:
    if not department.strip():
        raise fail("department", "give the responsible department")
    if known is not None and department not in known:
        raise fail("department", f"unknown department {department!r}")
    for d in cooperating:
        if known is not None and d not in known:
            raise fail("cooperating", f"unknown department {d!r}")
    if department in cooperating:
        raise fail("cooperating", f"{department!r} is the responsible department; it cannot also cooperate")
    if len(set(cooperating)) != len(cooperating):
        raise fail("cooperating", "lists a department twice")
    return department, tuple(cooperating)


def _minutes(text: str | None, fail: _Fail) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        start, end = parse_window(text, where="window")
    except InvalidCasesConfig as exc:
        raise fail("hours", exc.detail.removeprefix("window: ")) from None
    return start.hour * 60 + start.minute, _DAY_MINUTES if end is None else end.hour * 60 + end.minute


def _polygon(area: dict[str, Any], fail: _Fail) -> Polygon:
    """A GeoJSON Polygon in WGS84 lon/lat: closed rings, coordinates in range, valid geometry."""
    if area.get("type") != "Polygon" or not isinstance(area.get("coordinates"), list) or not area["coordinates"]:
        raise fail("area", "expected a GeoJSON Polygon: {type: Polygon, coordinates: [[[lon, lat], ...]]}")
    rings = []
    for n, ring in enumerate(area["coordinates"]):
        label = "outer ring" if n == 0 else f"hole {n}"
        if not isinstance(ring, list) or not all(_is_position(p) for p in ring):
            raise fail("area", f"{label}: every position must be [lon, lat] with -180 ≤ lon ≤ 180, -90 ≤ lat ≤ 90")
        if len(ring) < 4 or list(ring[0]) != list(ring[-1]):
            raise fail("area", f"{label}: a ring needs 4 or more positions and must end where it starts")
        rings.append([(float(p[0]), float(p[1])) for p in ring])
    poly = Polygon(rings[0], rings[1:])
    if not poly.is_valid:
        raise fail("area", f"invalid polygon: {shapely.is_valid_reason(poly)}")
    shapely.prepare(poly)  # later contains() tests use the prepared index
    return poly


def _is_position(p: Any) -> bool:
    if not isinstance(p, list | tuple) or len(p) != 2:
        return False
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in p):
        return False
    return -180 <= p[0] <= 180 and -90 <= p[1] <= 90


# ---------------------------------------------------------------------------------------------
# Routing


@dataclass
class _Case:
    """What rules look at, computed once per route."""

    category: str
    main_category: str
    location: tuple[float, float] | None
    grid: str | None
    street: str | None
    minute: int
    date: dt.date
    is_working_day: Callable[[dt.date], bool]
    _working: bool | None = None
    _point: Point | None = None

    @property
    def point(self) -> Point:
        if self._point is None:  # built once per route: a Point costs more than a prepared test
            self._point = Point(self.location)
        return self._point

    @property
    def working(self) -> bool:
        if self._working is None:  # only asked when a rule has a days condition
            self._working = bool(self.is_working_day(self.date))
        return self._working


def _mismatch(rule: Rule, case: _Case) -> str | None:
    """The first condition of ``rule`` that ``case`` fails, or None when it matches. Cheap tests first."""
    cats = rule.categories
    if cats is not None and case.category not in cats and case.main_category not in cats:
        return "category"
    if rule.grids is not None and case.grid not in rule.grids:
        return "grid"
    if rule.streets is not None and case.street not in rule.streets:
        return "street"
    if rule.hours is not None and not _in_window(case.minute, rule.hours):
        return "hours"
    if rule.days != "all" and case.working != (rule.days == "working-days"):
        return "days"
    if rule.area is not None:
        loc, bounds = case.location, rule.area_bounds
        if loc is None or bounds is None:
            return "area"
        # a bounding-box miss costs far less than any shapely call
        if not (bounds[0] <= loc[0] <= bounds[2] and bounds[1] <= loc[1] <= bounds[3]):
            return "area"
        if not rule.area.contains(case.point):
            return "area"
    return None


def _in_window(minute: int, window: tuple[int, int]) -> bool:
    start, end = window
    return start <= minute < end if start < end else minute >= start or minute < end


def route(
    rules: RuleSet,
    *,
    category: str,
    main_category: str,
    location: tuple[float, float] | None,
    grid: str | None,
    street: str | None,
    at: datetime,
    default_department: str | None,
    is_working_day: Callable[[date], bool] | None = None,
    trace: bool = False,
) -> Routing:
    """Who gets a case: the first matching rule, else ``default_department``; also the dry run's answer.

    ``location`` is (lon, lat) in WGS84; ``at`` an aware datetime; ``is_working_day`` defaults to the
    Chinese working-day calendar. With ``trace`` the result lists why each earlier rule did not match.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("route: 'at' needs a time zone")
    local = at.astimezone(TZ)
    case = _Case(
        category, main_category, location, grid, street, local.hour * 60 + local.minute, local.date(),
        is_working_day or DEFAULT_CALENDAR.is_working_day,
    )  # fmt: skip
    skipped: list[tuple[str, str]] = []
    for rule in rules.rules:
        why_not = _mismatch(rule, case)
        if why_not is None:
            en, zh = _explain(rule, case, local)
            return Routing(rule.department, rule.cooperating, rule.id, rule.level, en, zh, tuple(skipped))
        if trace:
            skipped.append((rule.id, why_not))
    if default_department:
        en = f"no rule matched; the default department of category '{category}' → {default_department}"
        zh = f"未命中规则，按类别 {category} 的默认部门 → {default_department}"
        return Routing(default_department, (), DEFAULT_RULE_ID, None, en, zh, tuple(skipped))
    en = f"no rule matched and category '{category}' has no default department; dispatch by hand"
    zh = f"未命中规则，类别 {category} 无默认部门，需人工派遣"
    return Routing(None, (), None, None, en, zh, tuple(skipped))


def _explain(rule: Rule, case: _Case, local: datetime) -> tuple[str, str]:
    """Why ``rule`` matched, in English and Chinese: the conditions it asked for, with the case's values."""
    en: list[str] = []
    zh: list[str] = []
    if rule.categories is not None:
        if case.category in rule.categories:
            en.append(f"category '{case.category}'")
            zh.append(f"类别 {case.category}")
        else:
            en.append(f"main category '{case.main_category}'")
            zh.append(f"大类 {case.main_category}")
    if rule.grids is not None:
        en.append(f"grid {case.grid}")
        zh.append(f"网格 {case.grid}")
    if rule.streets is not None:
        en.append(f"street {case.street}")
        zh.append(f"街道 {case.street}")
    if rule.area is not None:
        en.append("location inside the rule's area")
        zh.append("位置在规则区域内")
    if rule.hours is not None:
        en.append(f"time {local:%H:%M} within {rule.hours_text}")
        zh.append(f"时间 {local:%H:%M} 在 {rule.hours_text} 内")
    if rule.days != "all":
        en.append(f"{local:%Y-%m-%d} is a {'working' if case.working else 'rest'} day")
        zh.append(f"{local:%Y-%m-%d} 为{'工作日' if case.working else '休息日'}")
    label = f"'{rule.id}'" + (f" ({rule.name})" if rule.name else "")
    target = rule.department + (f" with {', '.join(rule.cooperating)}" if rule.cooperating else "")
    target_zh = rule.department + (f"，协同 {'、'.join(rule.cooperating)}" if rule.cooperating else "")
    reasons = "; ".join(en) or "matches every case"
    reasons_zh = "；".join(zh) or "适用所有案件"
    return f"rule {label} matched: {reasons} → {target}", f"命中规则 {label}：{reasons_zh} → {target_zh}"
