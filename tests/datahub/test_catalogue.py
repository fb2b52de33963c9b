"""The catalogue's use cases on both databases: registration, versions with who and why, one source per
item, fields refused by name, listing filters and paging, the classification tree."""

from __future__ import annotations

import dataclasses

import pytest
from samples import lights_entry, person_entry

from cityos import datahub
from cityos.datahub import DataItem, EntryExists, EntryNotFound, Filters, InvalidEntry, SecondSource, SharingType
from cityos.runtime import Runtime

T = "default"


def test_a_registered_entry_reads_back_as_version_1_with_its_level(rt: Runtime) -> None:
    registered = datahub.register_entry(rt, T, person_entry(), by="alice")
    assert registered.version == 1
    assert datahub.get_entry(rt, T, "HP-01-01-0001") == registered
    view = datahub.view_entry(rt, T, "HP-01-01-0001")
    assert view.level is not None and view.level.name == "important"  # its most protected item's
    assert view.sources["idCard"].department == "public-security"
    assert view.sources["idCard"].code == "HP-01-01-0001"


def test_an_unknown_code_is_not_found(rt: Runtime) -> None:
    with pytest.raises(EntryNotFound, match="HP-09-09-0009"):
        datahub.get_entry(rt, T, "HP-09-09-0009")
    with pytest.raises(EntryNotFound):
        datahub.entry_versions(rt, T, "HP-09-09-0009")


def test_a_code_is_registered_once(rt: Runtime) -> None:
    datahub.register_entry(rt, T, person_entry(), by="alice")
    with pytest.raises(EntryExists, match="PUT"):
        datahub.register_entry(rt, T, person_entry(), by="alice")


def test_each_change_is_a_new_version_kept_with_who_when_and_why(rt: Runtime) -> None:
    datahub.register_entry(rt, T, person_entry(), by="alice")
    changed = datahub.change_entry(rt, T, person_entry(name="户籍人口信息"), by="bob", reason="更名")
    assert changed.version == 2
    datahub.change_entry(rt, T, person_entry(update_cycle="real-time"), by="carol", reason="实时同步")
    versions = datahub.entry_versions(rt, T, "HP-01-01-0001")
    assert [(v.entry.version, v.changed_by, v.reason) for v in versions] == [
        (1, "alice", "registered"),
        (2, "bob", "更名"),
        (3, "carol", "实时同步"),
    ]
    assert versions[0].entry.name == "户籍人口基本信息" and versions[1].entry.name == "户籍人口信息"
    assert all(v.changed_at for v in versions)
    assert datahub.get_entry(rt, T, "HP-01-01-0001").update_cycle == "real-time"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_change_needs_a_reason(rt: Runtime, reason: str) -> None:
    datahub.register_entry(rt, T, person_entry(), by="alice")
    with pytest.raises(InvalidEntry) as caught:
        datahub.change_entry(rt, T, person_entry(name="x"), by="bob", reason=reason)
    assert caught.value.extra["field"] == "reason"
    assert datahub.get_entry(rt, T, "HP-01-01-0001").version == 1


def test_changing_an_entry_not_registered_is_not_found(rt: Runtime) -> None:
    with pytest.raises(EntryNotFound):
        datahub.change_entry(rt, T, person_entry(), by="bob", reason="why")


def test_a_second_source_of_an_item_is_refused_naming_the_owner(rt: Runtime) -> None:
    datahub.register_entry(rt, T, person_entry(), by="alice")
    rival = person_entry(code="HP-01-02-0001", provider="civil-affairs", name="低保对象信息")
    with pytest.raises(SecondSource) as caught:
        datahub.register_entry(rt, T, rival, by="dan")
    assert "public-security" in caught.value.detail and "HP-01-01-0001" in caught.value.detail
    assert caught.value.extra["owner"] == "public-security"
    assert caught.value.extra["ownerEntry"] == "HP-01-01-0001"
    with pytest.raises(EntryNotFound):  # nothing of it was kept
        datahub.get_entry(rt, T, "HP-01-02-0001")


def test_an_entry_that_names_the_source_cites_it_without_claiming_it(rt: Runtime) -> None:
    datahub.register_entry(rt, T, person_entry(), by="alice")
    items = tuple(dataclasses.replace(i, source="public-security") for i in person_entry().items)
    citing = person_entry(code="HP-01-02-0001", provider="civil-affairs", items=items)
    datahub.register_entry(rt, T, citing, by="dan")
    view = datahub.view_entry(rt, T, "HP-01-02-0001")
    assert {s.code for s in view.sources.values()} == {"HP-01-01-0001"}
    assert {s.key for s in datahub.item_sources(rt, T, department="civil-affairs")} == set()


def test_the_same_department_may_reuse_its_own_items(rt: Runtime) -> None:
    datahub.register_entry(rt, T, person_entry(), by="alice")
    datahub.register_entry(rt, T, person_entry(code="HP-01-01-0002", name="常住人口"), by="alice")
    assert datahub.view_entry(rt, T, "HP-01-01-0002").sources["idCard"].code == "HP-01-01-0001"


def test_an_item_dropped_in_a_change_frees_its_source(rt: Runtime) -> None:
    datahub.register_entry(rt, T, person_entry(), by="alice")
    fewer = person_entry(items=person_entry().items[:2])
    datahub.change_entry(rt, T, fewer, by="alice", reason="户籍地址移交")
    assert "person.registeredAddress" not in {s.key for s in datahub.item_sources(rt, T)}
    other = person_entry(code="HP-01-03-0001", provider="housing", items=(person_entry().items[2],))
    datahub.register_entry(rt, T, other, by="erin")
    assert datahub.view_entry(rt, T, "HP-01-03-0001").sources["registeredAddress"].department == "housing"


def test_a_change_to_a_source_held_elsewhere_is_refused(rt: Runtime) -> None:
    datahub.register_entry(rt, T, person_entry(), by="alice")
    datahub.register_entry(rt, T, lights_entry(), by="frank")
    grabbing = lights_entry(items=(*lights_entry().items, DataItem("idCard", "身份证号", "id-card", "core",
                                                                   key="person.idCard")))  # fmt: skip
    with pytest.raises(SecondSource, match="public-security"):
        datahub.change_entry(rt, T, grabbing, by="frank", reason="加字段")
    assert datahub.get_entry(rt, T, "HP-04-01-0001").version == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "HP-1-0001"}, "code"),
        ({"code": "hp-01-01-0001"}, "code"),
        ({"name": "  "}, "name"),
        ({"abstract": ""}, "abstract"),
        ({"provider": ""}, "provider"),
        ({"classification": ()}, "classification"),
        ({"classification": ("人口", "a/b")}, "classification[1]"),
        ({"format": "fax"}, "format"),
        ({"update_cycle": "sometimes"}, "updateCycle"),
        ({"published": "2024-13-01"}, "published"),
        ({"sharing_conditions": ""}, "sharingConditions"),
        ({"items": ()}, "items"),
        ({"related": ("HP-01-01-0001",)}, "related[0]"),
    ],
)
def test_a_bad_field_is_refused_by_name(rt: Runtime, changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidEntry) as caught:
        datahub.register_entry(rt, T, person_entry(**changes), by="alice")
    assert caught.value.extra["field"] == field
    assert caught.value.detail.startswith(field)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (DataItem("x", "某项", "text", "secret"), "items[3].level"),
        (DataItem("x", "某项", "colour", "general-1"), "items[3].kind"),
        (DataItem("", "某项", "text", "general-1"), "items[3].name"),
        (DataItem("x", " ", "text", "general-1"), "items[3].zh"),
        (DataItem("idCard", "某项", "text", "general-1"), "items[3].name"),
        (DataItem("x", "某项", "text", "general-1", key="no key"), "items[3].key"),
        (DataItem("x", "某项", "text", "general-1", key="person.idCard", source="civil-affairs"), "items[3].source"),
    ],
)
def test_a_bad_item_is_refused_by_name(rt: Runtime, item: DataItem, field: str) -> None:
    entry = person_entry(items=(*person_entry().items, item))
    with pytest.raises(InvalidEntry) as caught:
        datahub.register_entry(rt, T, entry, by="alice")
    assert caught.value.extra["field"] == field


def test_the_levels_named_in_the_error_are_the_scale(rt: Runtime) -> None:
    entry = person_entry(items=(DataItem("x", "某项", "text", "secret"),))
    with pytest.raises(InvalidEntry, match="general-1, general-2, general-3, general-4, important, core"):
        datahub.register_entry(rt, T, entry, by="alice")


def _many(rt: Runtime) -> None:
    datahub.register_entry(rt, T, person_entry(), by="a")
    datahub.register_entry(rt, T, lights_entry(), by="a")
    for n in range(1, 6):
        datahub.register_entry(
            rt, T, lights_entry(code=f"HP-04-02-{n:04d}", name=f"停车场{n}号泊位数据",
                                classification=("城市运行", "交通", "停车"), provider="transport",
                                items=(DataItem("occupancy", "占用率", "number", f"general-{1 + n % 2}"),)),
            by="a",
        )  # fmt: skip


def test_listing_filters_and_pages(rt: Runtime) -> None:
    _many(rt)
    page = datahub.list_entries(rt, T, limit=3)
    assert page.total == 7 and [v.entry.code for v in page.views] == ["HP-01-01-0001", "HP-04-01-0001",
                                                                        "HP-04-02-0001"]  # fmt: skip
    assert [v.entry.code for v in datahub.list_entries(rt, T, limit=3, offset=6).views] == ["HP-04-02-0005"]

    def codes(**f: str) -> list[str]:
        return [v.entry.code for v in datahub.list_entries(rt, T, Filters(**f), limit=100).views]  # type: ignore[arg-type]

    assert codes(department="public-security") == ["HP-01-01-0001"]
    assert len(codes(classification="城市运行")) == 6
    assert len(codes(classification="城市运行/交通")) == 5
    assert codes(classification="城市运行/交") == []  # whole levels only
    assert codes(sharing=SharingType.CONDITIONAL) == ["HP-01-01-0001"]
    assert codes(level="important") == ["HP-01-01-0001"]
    assert codes(level="general-2") == ["HP-04-01-0001", "HP-04-02-0001", "HP-04-02-0003", "HP-04-02-0005"]
    assert codes(text="户籍地址") == ["HP-01-01-0001"]  # an item's Chinese name
    assert codes(text="POWERCONSUMPTION") == ["HP-04-01-0001"]  # an item's name, any case
    assert codes(text="3号") == ["HP-04-02-0003"]
    assert codes(text="100%") == []  # LIKE's wildcards are text
    with pytest.raises(InvalidEntry, match="level"):
        codes(level="secret")


def test_the_classification_tree_counts_entries_below_each_node(rt: Runtime) -> None:
    _many(rt)
    tree = {n.name: n for n in datahub.classification_tree(rt, T)}
    assert tree["城市运行"].count == 6 and tree["基础信息"].count == 1
    below = {n.path: n.count for n in tree["城市运行"].children}
    assert below == {"城市运行/交通": 5, "城市运行/市政设施": 1}


def test_tenants_keep_their_own_catalogues(rt: Runtime) -> None:
    datahub.register_entry(rt, T, person_entry(), by="a")
    datahub.register_entry(rt, "jinshan", person_entry(provider="civil-affairs"), by="b")  # its own source
    assert datahub.get_entry(rt, "jinshan", "HP-01-01-0001").provider == "civil-affairs"
    assert datahub.list_entries(rt, "pudong").total == 0


def test_rival_sources_registered_at_once_leave_one_source(rt: Runtime) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rivals = [person_entry(code=f"HP-01-0{n}-0001", provider=f"department-{n}") for n in range(1, 7)]

    def register(entry: datahub.CatalogueEntry) -> str:
        try:
            datahub.register_entry(rt, T, entry, by="a")
        except SecondSource:
            return "refused"
        return "registered"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(register, rivals))
    assert sorted(outcomes) == ["refused"] * 5 + ["registered"]
    assert datahub.list_entries(rt, T).total == 1
    assert len({s.department for s in datahub.item_sources(rt, T)}) == 1
