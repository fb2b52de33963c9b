"""The demo's fictitious registries (cityos.demo.registries): valid-format, unique, plainly synthetic,
the same for the same seed; defects planted at the rates asked."""

from __future__ import annotations

from collections import Counter

import pytest

from cityos.core.identifiers import credit_code_problem, id_card_birth, id_card_male, id_card_problem
from cityos.demo import registries as reg
from cityos.demo.district import STREET_NAMES


def test_persons_are_valid_unique_and_marked_fictitious() -> None:
    people = reg.persons(5000)
    assert people == reg.persons(5000) and people != reg.persons(5000, seed=2)
    assert len({p["idCard"] for p in people}) == 5000
    for p in people:
        assert id_card_problem(p["idCard"]) is None and p["idCard"].startswith("310101")
        assert 900 <= int(p["idCard"][14:17]) <= 995  # the synthetic sequences
        assert id_card_birth(p["idCard"]) == p["birthDate"]
        assert id_card_male(p["idCard"]) == (p["gender"] == "男")
        assert p["street"] in STREET_NAMES and p["registeredAddress"].startswith("上海市黄浦区")
        assert p["source"] == reg.SYNTHETIC
    decades = Counter(p["birthDate"][:3] for p in people)
    assert decades["196"] > decades["201"] > decades["192"]  # an ageing central district


def test_entities_have_valid_credit_codes() -> None:
    firms = reg.entities(2000)
    assert len({f["creditCode"] for f in firms}) == 2000
    for f in firms:
        assert credit_code_problem(f["creditCode"]) is None and f["creditCode"][:10] == "91310101CY"
        assert f["source"] == reg.SYNTHETIC and f["name"].endswith("有限公司")


def test_defects_are_planted_at_their_rates_in_records_of_their_own() -> None:
    people = reg.persons(1000)
    planted = reg.plant_defects(people, {"check-digit": 0.05, "missing": 0.03, "duplicate": 0.02})
    kinds = Counter(d.kind for d in planted.defects)
    assert kinds == {"check-digit": 50, "missing": 30, "duplicate": 20}
    assert len(planted.records) == 1020 and len(planted.touched) == 120
    assert people == reg.persons(1000)  # the originals are left as they were
    with pytest.raises(ValueError, match="unknown defect kind 'typo'"):
        reg.plant_defects(people, {"typo": 0.1})


def test_tax_and_insured_employer_feeds_disagree_only_on_the_names_planted() -> None:
    firms = reg.entities(500)
    for made in (reg.tax_records(firms, 0.04), reg.insured_employer_records(firms, 0.04)):
        assert [r["creditCode"] for r in made.records] == [f["creditCode"] for f in firms]
        differs = {f["id"] for f, r in zip(firms, made.records, strict=True) if r["name"] != f["name"]}
        assert differs == made.touched and len(differs) == 20 and {d.item for d in made.defects} == {"name"}
    assert reg.tax_records(firms, 0.04) == reg.tax_records(firms, 0.04)
    assert {r["taxCreditRating"] for r in reg.tax_records(firms).records} == set(reg.TAX_RATING)


def test_place_feeds_are_of_the_districts_buildings() -> None:
    from cityos.demo.district import build_district

    district = build_district(sensors=13)
    ids = [e["id"] for e in district if e["type"] == "Building"]
    buildings = reg.building_records(district)
    assert [f"urn:ngsi-ld:Building:{b['buildingCode']}" for b in buildings] == ids
    addresses = reg.address_records(district)
    assert len({a["addressCode"] for a in addresses}) == len(ids)
    housing = reg.housing_records(district, 0.1)
    floors = {b["buildingCode"]: b["floorsAboveGround"] for b in buildings}
    differs = {h["buildingCode"] for h in housing.records if h["floorsAboveGround"] != floors[h["buildingCode"]]}
    assert differs == housing.touched and 0 < len(differs) < len(ids) // 5
