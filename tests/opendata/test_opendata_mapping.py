"""Catalogue entries as CKAN packages (issue 19, item 3): what is open, which of its items, and the metadata
each package carries. Pure: no database, no HTTP."""

from __future__ import annotations

import dataclasses

from opendata_samples import demo_entries, demo_packages, package_of

from cityos.datahub import CatalogueEntry, DataItem, OpeningType, load_scale
from cityos.opendata import PERSONAL_KINDS, item_opens
from cityos.opendata.ckan import package_dict
from cityos.opendata.mapping import is_open
from cityos.opendata.vocab import licenses


def _entry(code: str) -> CatalogueEntry:
    return next(e for e in demo_entries() if e.code == code)


def test_only_entries_marked_for_opening_become_packages() -> None:
    entries = demo_entries()
    names = {p.name for p in demo_packages()}
    opened = {e.code.lower() for e in entries if e.opening in (OpeningType.UNCONDITIONAL, OpeningType.CONDITIONAL)}
    assert names == opened and len(names) >= 30
    assert "hp-01-01-0001" not in names  # 户籍人口: not opened (不予开放)
    assert not is_open(_entry("HP-01-01-0001"))


def test_a_package_carries_the_entrys_metadata() -> None:
    p = package_of(_entry("HP-06-01-0001"), updated_at="2026-03-01T08:00:00.000Z")
    assert p.name == "hp-06-01-0001" and p.code == "HP-06-01-0001" and p.title == "空气质量实时监测数据"
    assert p.notes == _entry("HP-06-01-0001").abstract
    assert (p.organization.name, p.organization.title) == ("ecology-environment", "区生态环境局")
    assert [(g.name, g.title) for g in p.groups] == [("environment", "生态环境")]
    assert p.tags[:3] == ("生态环境", "大气环境", "空气质量") and "PM2.5浓度" in p.tags
    assert p.license_id == licenses()[0].id == "sh-public-data-open"
    assert p.created == "2024-06-30T00:00:00" and p.modified == "2026-03-01T08:00:00.000"
    assert p.update_cycle == "real-time" and p.opening == "unconditional"
    assert p.resource.path == "/opendata/datasets/hp-06-01-0001/records.csv" and p.resource.format == "CSV"


def test_ids_are_stable_and_distinct() -> None:
    first, again = demo_packages(), demo_packages()
    assert [p.id for p in first] == [p.id for p in again]
    assert [p.resource.id for p in first] == [p.resource.id for p in again]
    assert len({p.id for p in first} | {p.resource.id for p in first}) == 2 * len(first)


def test_only_items_of_the_lowest_level_open_and_never_a_personal_identifier() -> None:
    scale = load_scale()
    lowest = scale.levels[0].name
    for entry in demo_entries():
        if not is_open(entry):
            continue
        p = package_of(entry)
        shown = {c.id for c in p.resource.columns}
        for item in entry.items:
            assert (item.name in shown) == (item.level == lowest and item.kind not in PERSONAL_KINDS), item
        assert set(p.withheld) == {i.zh for i in entry.items if i.name not in shown}
    name_item = DataItem("contact", "联系人", "name", lowest)
    assert not item_opens(name_item, scale)  # a person's name stays closed even at the lowest level


def test_the_enterprise_register_withholds_the_representatives_id_number() -> None:
    p = package_of(_entry("HP-02-01-0001"))
    assert p.conditional and "legalRepresentativeIdCard" not in {c.id for c in p.resource.columns}
    assert "法定代表人证件号码" in p.withheld and "法定代表人" in p.withheld
    extras = {e["key"]: e["value"] for e in package_dict(p, "http://portal", None)["extras"]}
    assert extras["opening_type"] == "conditional" and extras["opening_type_zh"] == "有条件开放"
    assert "法定代表人证件号码不开放" in extras["open_conditions"]
    assert "法定代表人证件号码" in extras["withheld_items"] and extras["open_level"] == "general-1"


def test_the_package_dict_has_what_ckan_clients_read() -> None:
    p = package_of(_entry("HP-17-01-0001"))
    d = package_dict(p, "http://portal:8000/", licenses()[0])
    assert {
        "id",
        "name",
        "title",
        "notes",
        "organization",
        "groups",
        "tags",
        "resources",
        "license_id",
        "metadata_created",
        "metadata_modified",
        "extras",
        "num_resources",
        "num_tags",
    } <= set(d)
    assert d["resources"][0]["url"] == "http://portal:8000/opendata/datasets/hp-17-01-0001/records.csv"
    assert d["resources"][0]["datastore_active"] is True and d["resources"][0]["package_id"] == p.id
    assert d["license_title"].startswith("上海市公共数据开放") and d["isopen"] is False
    assert {"name": "气象", "display_name": "气象", "state": "active", "vocabulary_id": None, "id": "气象"} in d["tags"]


def test_an_entry_without_records_backing_has_no_datastore() -> None:
    p = package_of(_entry("HP-16-03-0001"))
    assert not p.datastore and package_dict(p, "", None)["resources"][0]["datastore_active"] is False


def test_a_theme_the_portal_does_not_know_leaves_the_groups_empty() -> None:
    entry = dataclasses.replace(_entry("HP-06-01-0001"), code="HP-99-01-0001")
    assert package_of(entry).groups == ()
