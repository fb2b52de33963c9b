"""The demo's synthetic residents: deterministic, well-formed ID numbers that agree with the birth date and
the gender, households sharing an address on the district's roads."""

from __future__ import annotations

from collections import Counter
from datetime import date

from cityos.core.identifiers import id_check_character as check_character
from cityos.demo.district import ROAD_NAMES
from cityos.demo.people import AREA_CODE, FIRST_ROAD, build_residents, id_number, person_entity


def test_the_check_character_is_gb_11643s() -> None:
    assert check_character("11010519491231002") == "X"  # the standard's own example
    number = id_number(date(1949, 12, 31), 2)
    assert number[:17] == "31010119491231002" and number[17] == check_character(number[:17])


def test_residents_are_the_same_for_the_same_seed_and_differ_for_another() -> None:
    assert build_residents() == build_residents()
    assert build_residents(seed=1) != build_residents()
    assert len(build_residents(50)) == 50


def test_every_resident_is_well_formed() -> None:
    residents = build_residents()
    assert len({r.id_card for r in residents}) == len(residents)
    assert len({r.entity_id for r in residents}) == len(residents)
    for r in residents:
        card = r.id_card
        assert len(card) == 18 and card.startswith(AREA_CODE) and card[-1] == check_character(card[:17])
        assert card[6:14] == r.birth_date.strftime("%Y%m%d")
        assert (int(card[16]) % 2 == 1) == (r.gender == "男")
        assert len(r.mobile) == 11 and r.mobile.startswith("1") and r.mobile.isdigit()
        assert r.address.startswith("上海市黄浦区") and any(r.address[6:].startswith(road) for road in ROAD_NAMES)
        assert 2 <= len(r.name) <= 4
    assert residents[0].address[6:].startswith(FIRST_ROAD)
    sizes = Counter(r.household for r in residents)
    assert max(sizes.values()) >= 3 and min(sizes.values()) == 1
    for n in sizes:
        assert len({r.address for r in residents if r.household == n}) == 1


def test_an_entity_holds_the_items_of_the_personal_dataset() -> None:
    entity = person_entity(build_residents(1)[0])
    assert entity["type"] == "Person"
    assert {"idCard", "name", "gender", "birthDate", "mobile", "registeredAddress"} < set(entity)
