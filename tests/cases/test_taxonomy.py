"""The case taxonomy: the shipped one is complete and consistent; a broken one is refused with the entry and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.taxonomy import DEFAULT_PATH, Taxonomy, load_taxonomy

DEMO_DEPARTMENTS = {
    "city-appearance",
    "transport",
    "public-security",
    "ecology-environment",
    "water-affairs",
    "meteorology",
    "housing",
    "fire-rescue",
    "urban-management",
    "market-regulation",
    "emergency-management",
    "civil-affairs",
    "street-office",
}


def test_shipped_taxonomy_is_complete() -> None:
    taxonomy = load_taxonomy()
    assert len(taxonomy.mains) >= 8
    assert len(taxonomy.subs) >= 40
    zh_mains = {m.name.zh for m in taxonomy.mains}
    assert {"市容环境", "街面秩序", "设施管理", "交通管理", "房屋管理", "生态环境", "公共安全", "突发事件"} <= zh_mains
    for main in taxonomy.mains:
        assert taxonomy.subs_of(main.code), main.code
    for sub in taxonomy.subs:
        assert sub.department in DEMO_DEPARTMENTS, sub.code
        assert sub.keywords and sub.name.zh and sub.description.en


def test_lookups() -> None:
    taxonomy = load_taxonomy()
    manhole = taxonomy.sub("road-manhole-damaged")
    assert manhole.time_limit == "2h" and manhole.priority == "urgent"
    assert manhole.time_limit_parts == (2, "h")
    assert taxonomy.main_of("road-manhole-damaged").name.zh == "设施管理"
    assert "road-manhole-damaged" in [s.code for s in taxonomy.subs_of("facilities")]
    assert taxonomy.sub("garbage-sorting").time_limit_parts == (3, "wd")
    with pytest.raises(KeyError):
        taxonomy.sub("no-such-sub")
    with pytest.raises(KeyError):
        taxonomy.subs_of("no-such-main")


def test_default_is_read_once() -> None:
    assert load_taxonomy() is load_taxonomy()


def test_time_limits_are_realistic() -> None:
    """Danger to people is hours; nothing waits more than a working week."""
    for sub in load_taxonomy().subs:
        amount, unit = sub.time_limit_parts
        if sub.priority == "urgent":
            assert unit == "h" and amount <= 4, sub.code
        assert (unit == "h" and amount <= 24) or (unit == "wd" and amount <= 5), sub.code


def _raw() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_copy_of_the_shipped_file_loads(tmp_path: Path) -> None:
    assert load_taxonomy(_write(tmp_path, _raw())) == load_taxonomy()


def test_duplicate_code_is_refused(tmp_path: Path) -> None:
    data = _raw()
    data["subs"][5]["code"] = data["subs"][2]["code"]
    with pytest.raises(InvalidCasesConfig, match=r"subs\[5\].*field 'code'.*duplicate code 'road-litter'"):
        load_taxonomy(_write(tmp_path, data))


def test_a_sub_may_not_reuse_a_main_code(tmp_path: Path) -> None:
    data = _raw()
    data["subs"][0]["code"] = "traffic"
    with pytest.raises(InvalidCasesConfig, match=r"subs\[0\].*'code'.*duplicate code 'traffic'"):
        load_taxonomy(_write(tmp_path, data))


@pytest.mark.parametrize("limit", ["2 days", "0h", "3d", "h", "1.5wd", ""])
def test_bad_time_limit_is_refused(tmp_path: Path, limit: str) -> None:
    data = _raw()
    data["subs"][3]["time_limit"] = limit
    with pytest.raises(InvalidCasesConfig, match=r"subs\[3\] \(construction-waste-dumping\) field 'time_limit'"):
        load_taxonomy(_write(tmp_path, data))


def test_unknown_main_is_refused(tmp_path: Path) -> None:
    data = _raw()
    data["subs"][7]["main"] = "nowhere"
    with pytest.raises(InvalidCasesConfig, match=r"subs\[7\] \(street-vending\) field 'main': unknown main.*'nowhere'"):
        load_taxonomy(_write(tmp_path, data))


def test_unknown_priority_is_refused(tmp_path: Path) -> None:
    data = _raw()
    data["subs"][0]["priority"] = "asap"
    with pytest.raises(InvalidCasesConfig, match=r"subs\[0\] \(garbage-uncollected\) field 'priority'"):
        load_taxonomy(_write(tmp_path, data))


def test_main_without_subs_is_refused(tmp_path: Path) -> None:
    data = _raw()
    data["mains"].append({"code": "empty", "name": {"zh": "空", "en": "Empty"}})
    with pytest.raises(InvalidCasesConfig, match=r"mains\[\d+\] \(empty\) has no sub-categories"):
        load_taxonomy(_write(tmp_path, data))


def test_missing_field_and_unknown_field_are_refused(tmp_path: Path) -> None:
    data = _raw()
    del data["subs"][1]["department"]
    with pytest.raises(InvalidCasesConfig, match=r"subs\[1\] \(garbage-sorting\) field 'department'"):
        load_taxonomy(_write(tmp_path, data))
    data = _raw()
    data["subs"][1]["colour"] = "red"
    with pytest.raises(InvalidCasesConfig, match=r"subs\[1\] \(garbage-sorting\) field 'colour'"):
        load_taxonomy(_write(tmp_path, data))


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidCasesConfig, match="cannot read"):
        load_taxonomy(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("mains: [\n", encoding="utf-8")
    with pytest.raises(InvalidCasesConfig, match="not valid YAML"):
        load_taxonomy(broken)
    with pytest.raises(InvalidCasesConfig, match="'subs' must be a non-empty list"):
        Taxonomy.from_data({"mains": [{"code": "a", "name": {"zh": "甲", "en": "A"}}], "subs": []})


def test_invalid_cases_config_is_a_422_problem() -> None:
    with pytest.raises(InvalidCasesConfig) as info:
        Taxonomy.from_data([])
    problem = info.value.problem()
    assert problem["status"] == 422 and problem["type"].endswith("invalid-cases-config")


def test_a_taxonomy_built_directly_is_checked_too() -> None:
    shipped = load_taxonomy()
    with pytest.raises(InvalidCasesConfig, match=r"subs\[1\].*duplicate code 'garbage-uncollected'"):
        Taxonomy(mains=shipped.mains, subs=(shipped.subs[0], shipped.subs[0]))
