"""The demo district's catalogue: it loads (twice without change), spans the city's themes and departments,
holds every sharing and opening type, backs every sensor type of the demo, and one personal dataset."""

from __future__ import annotations

from cityos import datahub
from cityos.datahub import OpeningType, SharingType
from cityos.demo.devices import DEPARTMENTS
from cityos.runtime import Runtime

T = "default"


def test_the_demo_catalogue_loads_once_and_meets_its_counts(rt: Runtime) -> None:
    first = datahub.load_catalogue(rt, T, by="cityos-demo")
    assert first.registered >= 60 and first.kept == 0
    again = datahub.load_catalogue(rt, T, by="cityos-demo")
    assert again.registered == 0 and again.kept == first.registered
    views = datahub.list_entries(rt, T, limit=1000).views
    entries = [v.entry for v in views]
    assert len(entries) == first.registered and all(e.version == 1 for e in entries)
    assert len({e.provider for e in entries}) >= 12
    assert {e.sharing for e in entries} == set(SharingType)
    assert {e.opening for e in entries} == set(OpeningType)
    assert len({v.level.name for v in views if v.level}) >= 5  # levels vary
    assert len({e.classification[:2] for e in entries}) >= 15  # the city's themes
    assert len({e.code.split("-")[1] for e in entries}) >= 15
    backed = {t for e in entries for t in e.backing.entity_types}
    assert set(DEPARTMENTS) <= backed  # every sensor type of the demo has its entry
    tree = datahub.classification_tree(rt, T)
    assert sum(n.count for n in tree) == len(entries)


def test_the_personal_dataset_has_its_sources_and_high_levels(rt: Runtime) -> None:
    datahub.load_catalogue(rt, T)
    view = datahub.view_entry(rt, T, "HP-01-01-0001")
    assert view.entry.backing.entity_types == ("Person",)
    kinds = {i.kind: i.level for i in view.entry.items}
    assert kinds["id-card"] == "important" and kinds["mobile"] == "general-4" and kinds["address"] == "general-4"
    assert view.level is not None and view.level.name == "important"
    # the items other departments cite keep public security as their one source
    cited = datahub.view_entry(rt, T, "HP-11-01-0001")
    assert cited.sources["idCard"].department == "public-security"
    assert cited.sources["idCard"].code == "HP-01-01-0001"
    assert cited.entry.provider == "civil-affairs"


def test_every_department_named_in_the_demo_catalogue_is_listed() -> None:
    found = datahub.read_catalogue()
    named = {e.provider for e in found.entries} | {i.source for e in found.entries for i in e.items if i.source}
    assert named <= set(found.departments)
    assert all(found.departments.values())


def test_the_backing_index_names_the_entries_of_each_entity_type(rt: Runtime) -> None:
    datahub.load_catalogue(rt, T)
    index = datahub.backing_index(rt, T)
    assert next(e.code for e in index["Person"]) == "HP-01-01-0001"  # the policy matching views follow it
    assert [e.provider for e in index["Streetlight"]] == ["city-appearance"]
    assert set(DEPARTMENTS) <= set(index)
