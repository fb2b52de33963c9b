"""Service items (事项) shipped as checked data and versioned in the database, on SQLite and PostgreSQL: version 1
from the file (read before it is written, written once by the seeding), a new version published with who and
why, the latest in force and the older ones still readable, a stale or bad publication refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cityos.onestop import (
    BundleNotFound,
    InvalidServiceData,
    ItemNotFound,
    ItemVersionConflict,
    bundle,
    item,
    item_version,
    items,
    publish_item,
    seed_items,
)
from cityos.onestop.catalogue import References, check_item, parse_item, references, shipped
from cityos.onestop.items import history
from cityos.runtime import Runtime

FOOD = "HP-SJ-0002"


def test_the_shipped_items_hold_together() -> None:
    s = shipped()
    assert len(s.items) >= 22 and len(s.bundles) == 5
    assert {b.name for b in s.bundles.values()} == {"新生儿出生一件事", "开办餐饮店一件事", "退休一件事",
                                                   "企业变更一件事", "二手房交易及水电气过户一件事"}  # fmt: skip
    food = s.items[FOOD]
    assert food.legal_basis[0] == "《中华人民共和国食品安全法》第三十五条"
    assert food.department == "market-regulation" and food.certificate_type == "FoodBusinessPermit"
    registry = [m for it in s.items.values() for m in it.materials if m.source == "registry"]
    assert {m.registry for m in registry} == {"person", "organization", "building"}
    for it in s.items.values():
        assert it.promised_limit_days <= it.legal_limit_days


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"department": "nowhere"}, "department 'nowhere' is not a known department"),
        ({"promised_limit_days": 30}, "promised_limit_days (30) exceeds legal_limit_days (10)"),
        ({"questions": ["no_such_question"]}, "'no_such_question' is not a question"),
        ({"certificate_type": "CN-NOTHING"}, "certificate_type 'CN-NOTHING' is not a known type"),
    ],
)
def test_a_bad_item_is_refused_naming_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidServiceData, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_item(replace(shipped().items[FOOD], **change), references(), "test")  # type: ignore[arg-type]


def test_a_registry_material_names_an_entry_and_items_of_the_catalogue() -> None:
    raw = {**_raw(FOOD), "materials": [{"code": "x", "name": "企业", "source": "registry", "registry": "organization",
                                        "entry": "HP-02-01-0001", "items": ["creditCode", "shoeSize"]}]}  # fmt: skip
    with pytest.raises(InvalidServiceData, match=r"entry HP-02-01-0001 has no items \['shoeSize'\]"):
        check_item(parse_item(raw, "test"), references(), "test")
    raw["materials"][0]["entry"] = "HP-99-99-9999"
    with pytest.raises(InvalidServiceData, match="not in the data resource catalogue"):
        check_item(parse_item(raw, "test"), references(), "test")
    assert isinstance(references(), References)


def _raw(code: str) -> dict[str, object]:
    from cityos.onestop.catalogue import item_json

    return item_json(shipped().items[code])


def test_an_item_is_read_from_the_file_before_the_seeding_and_from_the_database_after(rt: Runtime) -> None:
    assert item(rt, FOOD) == shipped().items[FOOD]
    assert not item_version(rt, FOOD).stored
    assert seed_items(rt) == len(shipped().items)
    assert seed_items(rt) == 0  # seeding twice writes nothing
    v = item_version(rt, FOOD)
    assert v.stored and v.item == shipped().items[FOOD] and v.by == "cityos"
    with rt.db.connect() as conn:  # inside the caller's transaction
        assert item(rt, FOOD, conn=conn).version == 1


def test_publishing_a_version_keeps_the_older_ones(rt: Runtime) -> None:
    old = item(rt, FOOD)
    new = replace(old, promised_limit_days=2, fee="不收费（2026年起）")
    published = publish_item(rt, FOOD, new, by="ops-zhang", reason="承诺时限压缩为2个工作日", expected=1)
    assert published.item.version == 2
    assert item(rt, FOOD).promised_limit_days == 2
    assert item(rt, FOOD, version=1) == old
    assert [(v.item.version, v.by, v.reason) for v in history(rt, FOOD)] == [
        (1, "cityos", "shipped with cityos (cityos/onestop/data/items.yaml)"),
        (2, "ops-zhang", "承诺时限压缩为2个工作日"),
    ]
    assert next(it for it in items(rt) if it.code == FOOD).version == 2
    assert len(items(rt)) == len(shipped().items)
    assert item(rt, FOOD, tenant="elsewhere").version == 1  # a tenant's versions are its own
    with pytest.raises(ItemVersionConflict, match="is at version 2, not 1"):
        publish_item(rt, FOOD, new, by="ops-li", reason="stale", expected=1)
    with pytest.raises(ItemNotFound, match="has no version 7; the latest is 2"):
        item(rt, FOOD, version=7)


def test_a_publication_that_breaks_a_bundle_is_refused(rt: Runtime) -> None:
    tobacco = item(rt, "HP-YC-0001")
    with pytest.raises(InvalidServiceData, match="does not serve a enterprise"):
        publish_item(rt, tobacco.code, replace(tobacco, applicant_kinds=("person",)), by="x", reason="narrow")
    with pytest.raises(InvalidServiceData, match="not the one in the path"):
        publish_item(rt, "HP-SJ-0001", tobacco, by="x", reason="wrong path")
    with pytest.raises(InvalidServiceData, match="reason"):
        publish_item(rt, tobacco.code, tobacco, by="x", reason=" ")
    assert item(rt, "HP-YC-0001").version == 1  # nothing was written


def test_a_new_item_starts_at_version_one(rt: Runtime) -> None:
    fresh = replace(shipped().items[FOOD], code="HP-SJ-0099", name="食品经营许可延续")
    assert publish_item(rt, "HP-SJ-0099", fresh, by="x", reason="new item").item.version == 1
    assert items(rt)[-1].code == "HP-SJ-0099"


def test_unknown_items_and_bundles(rt: Runtime) -> None:
    with pytest.raises(ItemNotFound, match="no service item 'HP-NONE'"):
        item(rt, "HP-NONE")
    with pytest.raises(BundleNotFound, match="the bundles are newborn, restaurant"):
        bundle("wedding")


def test_each_item_that_issues_an_e_certificate_is_of_the_office_that_seals_it() -> None:
    from cityos.onestop import certificate_types
    from cityos.onestop.catalogue import shipped

    kinds = certificate_types.catalogue()
    issuing = [it for it in shipped().items.values() if it.certificate_type in kinds]
    assert len(issuing) >= 9
    wrong = [(it.code, it.department, kinds[str(it.certificate_type)].department) for it in issuing
             if it.department != kinds[str(it.certificate_type)].department]  # fmt: skip
    assert wrong == []  # 统一发证 seals with the deciding department's seal, which must be the type's office
