"""Routing rules: validation on load, first-match evaluation, the default fallback and the dry-run explanation."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.routing import DEFAULT_RULES, Routing, RuleSet, load_rules, parse_rules, route
from cityos.cases.timelimits import TZ

DEPARTMENTS = frozenset(
    {
        "city-appearance", "transport", "public-security", "ecology-environment", "water-affairs", "meteorology",
        "housing", "fire-rescue", "urban-management", "market-regulation", "emergency-management", "civil-affairs",
        "street-office",
    }
)  # fmt: skip
_TAXONOMY = yaml.safe_load(DEFAULT_RULES.with_name("taxonomy.yaml").read_text(encoding="utf-8"))
CATEGORIES = frozenset(m["code"] for m in _TAXONOMY["mains"]) | frozenset(s["code"] for s in _TAXONOMY["subs"])
MAIN_OF = {s["code"]: s["main"] for s in _TAXONOMY["subs"]}
DEFAULT_OF = {s["code"]: s["department"] for s in _TAXONOMY["subs"]}

DEMO = load_rules(known_departments=DEPARTMENTS, known_categories=CATEGORIES)

BUND_POINT = (121.49305, 31.23715)  # on the promenade, inside the Bund unit
PEOPLES_SQUARE = (121.4730, 31.2327)
WT03 = "urn:ngsi-ld:Grid:HP-WT-03"
WAITAN = "urn:ngsi-ld:Street:waitan"
WEEKDAY_NOON = datetime(2026, 3, 4, 12, 0, tzinfo=TZ)  # a Wednesday


def at(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def send(rules: RuleSet, category: str, **kw: Any) -> Routing:
    """Route a case of ``category`` with the taxonomy's main category and default department."""
    args: dict[str, Any] = {"location": None, "grid": None, "street": None, "at": WEEKDAY_NOON}
    args.update(kw)
    return route(
        rules, category=category, main_category=MAIN_OF.get(category, category),
        default_department=DEFAULT_OF.get(category), **args,
    )  # fmt: skip


def rules_of(*rules: dict[str, Any]) -> RuleSet:
    return parse_rules({"rules": list(rules)}, known_departments=DEPARTMENTS)


def rule(rule_id: str, **kw: Any) -> dict[str, Any]:
    return {"id": rule_id, "categories": "*", "department": "street-office", **kw}


# ---------------------------------------------------------------------------------------------
# Evaluation


def test_demo_rules_use_taxonomy_codes_and_demo_departments() -> None:
    assert len(DEMO) >= 6
    assert DEMO.get("road-waterlogging") is not None


def test_first_matching_rule_wins() -> None:
    rules = rules_of(
        rule("vending-a", categories=["street-vending"], department="urban-management"),
        rule("street-order-b", categories=["street-order"], department="street-office"),
    )
    assert send(rules, "street-vending").rule_id == "vending-a"
    assert send(rules, "outside-shop-business").rule_id == "street-order-b"  # main category matches
    reordered = RuleSet(tuple(reversed(rules.rules)))
    assert send(reordered, "street-vending").rule_id == "street-order-b"


def test_polygon_match_on_the_bund() -> None:
    on_bund = send(DEMO, "security-hazard", location=BUND_POINT, grid=WT03, street=WAITAN)
    assert (on_bund.rule_id, on_bund.department, on_bund.cooperating) == (
        "bund-public-safety",
        "public-security",
        ("city-appearance",),
    )
    assert on_bund.level == "district"
    elsewhere = send(DEMO, "security-hazard", location=PEOPLES_SQUARE)
    assert (elsewhere.rule_id, elsewhere.department) == ("default", "public-security")
    assert elsewhere.cooperating == ()
    # a rule with an area does not match a case without a location
    assert send(DEMO, "security-hazard", grid=WT03).rule_id == "default"


def test_grid_match() -> None:
    yy02 = send(DEMO, "street-vending", grid="urn:ngsi-ld:Grid:HP-YY-02")
    assert (yy02.rule_id, yy02.department, yy02.level) == ("yuyuan-bazaar-vending", "street-office", "grid")
    assert yy02.cooperating == ("urban-management", "market-regulation")
    other = send(DEMO, "street-vending", grid="urn:ngsi-ld:Grid:HP-YY-01")
    assert (other.rule_id, other.department) == ("default", "urban-management")


def test_street_match() -> None:
    r = send(DEMO, "bike-parking-disorder", street=WAITAN, grid="urn:ngsi-ld:Grid:HP-WT-01")
    assert (r.rule_id, r.department, r.cooperating) == ("waitan-street-order", "street-office", ("urban-management",))
    assert send(DEMO, "bike-parking-disorder", street="urn:ngsi-ld:Street:yuyuan").rule_id == "default"


@pytest.mark.parametrize(
    ("when", "rule_id", "department"),
    [
        (at(2026, 3, 4, 22, 0), "night-construction-noise", "urban-management"),  # window start is inside
        (at(2026, 3, 4, 23, 59), "night-construction-noise", "urban-management"),
        (at(2026, 3, 5, 0, 0), "night-construction-noise", "urban-management"),  # past midnight
        (at(2026, 3, 5, 5, 59), "night-construction-noise", "urban-management"),
        (at(2026, 3, 5, 6, 0), "default", "urban-management"),  # window end is outside
        (at(2026, 3, 4, 21, 59), "default", "urban-management"),
    ],
)
def test_night_window_wraps_midnight(when: datetime, rule_id: str, department: str) -> None:
    r = send(DEMO, "construction-noise", at=when)
    assert (r.rule_id, r.department) == (rule_id, department)
    assert r.cooperating == (("public-security",) if rule_id != "default" else ())


def test_window_uses_shanghai_local_time() -> None:
    r = send(DEMO, "commercial-noise", at=datetime(2026, 3, 4, 15, 30, tzinfo=UTC))  # 23:30 in Shanghai
    assert (r.rule_id, r.department) == ("night-social-noise", "public-security")


def test_rest_day_condition_follows_the_chinese_calendar() -> None:
    nj04 = "urn:ngsi-ld:Grid:HP-NJ-04"
    saturday = send(DEMO, "road-litter", grid=nj04, at=at(2026, 3, 7))
    assert (saturday.rule_id, saturday.department) == ("nanjing-road-rest-day-appearance", "street-office")
    assert send(DEMO, "road-litter", grid=nj04, at=at(2026, 3, 4)).rule_id == "default"  # Wednesday
    # Thursday 1 October 2026 is National Day: a rest day
    assert send(DEMO, "road-litter", grid=nj04, at=at(2026, 10, 1)).rule_id == "nanjing-road-rest-day-appearance"
    # Saturday 28 February 2026 is an adjusted working day
    assert send(DEMO, "road-litter", grid=nj04, at=at(2026, 2, 28)).rule_id == "default"


def test_a_given_working_day_function_is_used() -> None:
    nj04 = "urn:ngsi-ld:Grid:HP-NJ-04"

    def every_day_off(_: date) -> bool:
        return False

    r = send(DEMO, "road-litter", grid=nj04, at=at(2026, 3, 4), is_working_day=every_day_off)
    assert r.rule_id == "nanjing-road-rest-day-appearance"


def test_fallback_to_default_department_and_to_nobody() -> None:
    r = send(DEMO, "food-safety")
    assert (r.department, r.rule_id, r.cooperating, r.level) == ("market-regulation", "default", (), None)
    assert "default department" in r.explanation
    nobody = route(
        DEMO, category="unknown", main_category="unknown", location=None, grid=None, street=None,
        at=WEEKDAY_NOON, default_department=None,
    )  # fmt: skip
    assert (nobody.department, nobody.rule_id) == (None, None)
    assert "by hand" in nobody.explanation


def test_waterlogging_anywhere() -> None:
    for grid in ("urn:ngsi-ld:Grid:HP-DPQ-01", None):
        r = send(DEMO, "road-waterlogging", grid=grid)
        assert (r.rule_id, r.department, r.cooperating) == ("road-waterlogging", "water-affairs", ("transport",))


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        send(DEMO, "food-safety", at=datetime(2026, 3, 4, 12))


# ---------------------------------------------------------------------------------------------
# Dry run


def test_dry_run_explains_the_match_in_english_and_chinese() -> None:
    r = send(DEMO, "construction-noise", at=at(2026, 3, 4, 23, 10), trace=True)
    assert r.explanation == (
        "rule 'night-construction-noise' (夜间施工噪声) matched: category 'construction-noise'; "
        "time 23:10 within 22:00-06:00 → urban-management with public-security"
    )
    assert r.explanation_zh == (
        "命中规则 'night-construction-noise' (夜间施工噪声)：类别 construction-noise；"
        "时间 23:10 在 22:00-06:00 内 → urban-management，协同 public-security"
    )
    assert r.trace == ()  # the first rule matched


def test_dry_run_trace_says_why_earlier_rules_did_not_match() -> None:
    r = send(DEMO, "street-vending", grid="urn:ngsi-ld:Grid:HP-YY-02", street="urn:ngsi-ld:Street:yuyuan", trace=True)
    assert r.rule_id == "yuyuan-bazaar-vending"
    assert dict(r.trace) == {
        "night-construction-noise": "category",
        "night-social-noise": "category",
        "bund-public-safety": "category",
        "road-waterlogging": "category",
        "nanjing-road-rest-day-appearance": "category",
        "waitan-street-order": "street",
    }
    assert "main category 'street-order'" not in r.explanation
    assert "category 'street-vending'; grid urn:ngsi-ld:Grid:HP-YY-02" in r.explanation
    assert send(DEMO, "street-vending", grid="urn:ngsi-ld:Grid:HP-YY-02").trace == ()  # only on request


def test_explanation_names_a_main_category_match_and_the_day() -> None:
    r = send(DEMO, "road-litter", grid="urn:ngsi-ld:Grid:HP-NJ-04", at=at(2026, 3, 7, 15, 0))
    assert "main category 'city-appearance'" in r.explanation
    assert "2026-03-07 is a rest day" in r.explanation
    assert "大类 city-appearance" in r.explanation_zh and "休息日" in r.explanation_zh


# ---------------------------------------------------------------------------------------------
# Validation


def _error(*rules: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(InvalidCasesConfig) as err:
        parse_rules({"rules": list(rules)}, source="routing.yaml", **kw)
    return err.value.detail


def test_duplicate_id() -> None:
    detail = _error(rule("a", categories=["x"]), rule("a", categories=["y"]))
    assert detail == "routing.yaml: rule 'a', field 'id': duplicate id; rule ids must be unique"


@pytest.mark.parametrize("window", ["22:00-22:00", "25:00-06:00", "22:00", "10pm-6am", "22:60-06:00", "24:00-06:00"])
def test_bad_time_window(window: str) -> None:
    detail = _error(rule("night", hours=window))
    assert detail.startswith("routing.yaml: rule 'night', field 'hours':")


def test_time_window_written_unquoted_in_yaml() -> None:
    # YAML 1.1 reads a bare 22:00 as the number 1320: the error says it is not text
    data = yaml.safe_load("rules: [{id: night, categories: '*', hours: 22:00, department: transport}]")
    with pytest.raises(InvalidCasesConfig, match="rule 'night', field 'hours'"):
        parse_rules(data)


def test_full_day_window_and_end_of_day() -> None:
    rules = rules_of(rule("evening", hours="18:00-24:00"), rule("all-day", hours="00:00-24:00"))
    assert send(rules, "x", at=at(2026, 3, 4, 23, 59)).rule_id == "evening"
    assert send(rules, "x", at=at(2026, 3, 4, 0, 0)).rule_id == "all-day"


@pytest.mark.parametrize(
    ("area", "fragment"),
    [
        ({"type": "Point", "coordinates": [121.0, 31.0]}, "expected a GeoJSON Polygon"),
        (
            {"type": "Polygon", "coordinates": [[[121.0, 31.0], [122.0, 31.0], [122.0, 32.0], [121.0, 32.0]]]},
            "end where",
        ),
        ({"type": "Polygon", "coordinates": [[[121.0, 31.0], [122.0, 31.0], [121.0, 31.0]]]}, "4 or more"),
        ({"type": "Polygon", "coordinates": [[[31.0, 121.0], [32.0, 121.0], [32.0, 122.0], [31.0, 121.0]]]}, "lat"),
        (
            {"type": "Polygon", "coordinates": [[[121, 31], [122, 32], [122, 31], [121, 32], [121, 31]]]},
            "invalid polygon: Self-intersection",
        ),
        ({"type": "Polygon", "coordinates": [[["121", "31"], [122, 31], [122, 32], ["121", "31"]]]}, "[lon, lat]"),
    ],
)
def test_bad_polygon(area: dict[str, Any], fragment: str) -> None:
    detail = _error(rule("bund", area=area))
    assert detail.startswith("routing.yaml: rule 'bund', field 'area':")
    assert fragment in detail


def test_unknown_department_when_known_departments_given() -> None:
    detail = _error(rule("r1", department="police"), known_departments=DEPARTMENTS)
    assert detail == "routing.yaml: rule 'r1', field 'department': unknown department 'police'"
    detail = _error(rule("r2", cooperating=["transport", "police"]), known_departments=DEPARTMENTS)
    assert detail == "routing.yaml: rule 'r2', field 'cooperating': unknown department 'police'"
    # without the set any department id is accepted
    assert len(parse_rules({"rules": [rule("r3", department="police")]})) == 1


def test_unknown_category_when_known_categories_given() -> None:
    detail = _error(rule("r1", categories=["noise"]), known_categories=CATEGORIES)
    assert detail == "routing.yaml: rule 'r1', field 'categories': unknown category 'noise'"


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"department": "street-office", "cooperating": ["street-office"]}, "cooperating", "cannot also cooperate"),
        ({"cooperating": ["transport", "transport"]}, "cooperating", "twice"),
        ({"department": " "}, "department", "give the responsible department"),
        ({"days": "weekends"}, "days", "'all', 'working-days' or 'rest-days'"),
        ({"level": "city"}, "level", "'grid', 'street' or 'district'"),
        ({"categories": []}, "categories", "one or more category codes"),
        ({"categories": "any"}, "categories", "or '*' for any category"),
        ({"cooperating": ["transport", 3]}, "cooperating[1]", "valid string"),
        ({"grids": ["HP-WT-03"]}, "grids", "not an id like 'urn:ngsi-ld:Grid:…'"),
        ({"grids": []}, "grids", "never matches"),
        ({"streets": ["urn:ngsi-ld:Grid:HP-WT-03"]}, "streets", "urn:ngsi-ld:Street:"),
        ({"departmnet": "transport"}, "departmnet", "Extra inputs are not permitted"),
        ({"department": None}, "department", "valid string"),
    ],
)
def test_field_errors_name_the_rule_and_field(changes: dict[str, Any], field: str, fragment: str) -> None:
    detail = _error(rule("r1", **changes))
    assert detail.startswith(f"routing.yaml: rule 'r1', field '{field}':")
    assert fragment in detail


def test_rules_without_an_id_are_named_by_position() -> None:
    assert _error(rule("ok"), {"categories": "*", "department": "transport"}).startswith(
        "routing.yaml: rule #2, field 'id':"
    )
    assert "reserved 'default'" in _error(rule("default"))


def test_a_rule_after_a_catch_all_can_never_match() -> None:
    detail = _error(rule("everything"), rule("later", categories=["x"]))
    assert detail == "routing.yaml: rule 'later': can never match; rule 'everything' before it matches every case"


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidCasesConfig, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(InvalidCasesConfig, match="not valid YAML"):
        load_rules(bad)
    bad.write_text("- id: a\n", encoding="utf-8")
    with pytest.raises(InvalidCasesConfig, match="'rules' list"):
        load_rules(bad)


def test_demo_file_round_trips_with_an_edit(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    edited = copy.deepcopy(data)
    edited["rules"][2]["area"]["coordinates"][0].pop()  # open the Bund ring
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidCasesConfig, match=r"rule 'bund-public-safety', field 'area'"):
        load_rules(path)


# ---------------------------------------------------------------------------------------------
# Properties and speed


_lon = st.floats(min_value=121.40, max_value=121.56, allow_nan=False)
_lat = st.floats(min_value=31.17, max_value=31.27, allow_nan=False)
_grids = st.sampled_from([f"urn:ngsi-ld:Grid:HP-{c}-0{n}" for c in ("WT", "NJ", "YY", "DPQ") for n in (1, 2, 3, 4)])
_streets = st.sampled_from([f"urn:ngsi-ld:Street:{k}" for k in ("waitan", "yuyuan", "nanjingdonglu", "laoximen")])
_times = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(TZ))


@given(
    category=st.sampled_from([*sorted(MAIN_OF), "not-in-taxonomy"]),
    location=st.none() | st.tuples(_lon, _lat),
    grid=st.none() | _grids,
    street=st.none() | _streets,
    when=_times,
    default=st.none() | st.sampled_from(sorted(DEPARTMENTS)),
)
def test_route_never_raises_and_always_answers_when_a_default_is_given(
    category: str,
    location: tuple[float, float] | None,
    grid: str | None,
    street: str | None,
    when: datetime,
    default: str | None,
) -> None:
    r = route(
        DEMO, category=category, main_category=MAIN_OF.get(category, "other"), location=location, grid=grid,
        street=street, at=when, default_department=default,
    )  # fmt: skip
    if default is not None:
        assert r.department in DEPARTMENTS
    assert (r.department is None) == (r.rule_id is None)
    assert r.department not in r.cooperating
    if r.rule_id not in (None, "default"):
        assert r.department == DEMO.get(r.rule_id).department  # type: ignore[union-attr]
    assert r.explanation and r.explanation_zh


def test_fifty_rules_near_the_worst_case_route_every_case_to_its_first_matching_rule() -> None:
    # Near the worst case (bench/cases.py times this set): every rule's category matches and the locations fall
    # inside each area's bounding box but outside the triangle, so all 50 rules are evaluated in full.
    triangle = {"type": "Polygon", "coordinates": [[[121.0, 31.0], [122.0, 31.0], [121.0, 32.0], [121.0, 31.0]]]}
    area_rules = [rule(f"area-{i}", categories=["street-order"], area=triangle, days="working-days") for i in range(25)]
    grid_rules = [
        rule(f"grid-{i}", categories=["street-order"], grids=[f"urn:ngsi-ld:Grid:HP-X-{i:02d}"]) for i in range(24)
    ]
    rules = rules_of(*area_rules, *grid_rules, rule("night", categories=["street-order"], hours="22:00-06:00"))
    assert len(rules) == 50
    cases = [((121.5 + (i % 97) / 200, 31.5 + (i % 89) / 200), at(2026, 3, 4, i % 24)) for i in range(10_000)]
    for loc, when in cases:
        r = route(
            rules, category="street-vending", main_category="street-order", location=loc, grid="g", street=None,
            at=when, default_department="urban-management", trace=True,
        )  # fmt: skip
        night = when.hour >= 22 or when.hour < 6
        assert (r.rule_id, r.department) == (("night", "street-office") if night else ("default", "urban-management"))
        # a working day, so every area rule got as far as its polygon
        assert r.trace[:25] == tuple((f"area-{i}", "area") for i in range(25))
        assert len(r.trace) == (49 if night else 50)
