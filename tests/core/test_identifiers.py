"""The identifier checks (cityos.core.identifiers): the standards' own examples, a reason for each kind of
mistake, and properties: a generated valid value passes, and any single-character change of it fails."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from cityos.core.identifiers import (
    CREDIT_CHARSET,
    credit_check_character,
    credit_code_problem,
    date_problem,
    id_card_birth,
    id_card_male,
    id_card_problem,
    id_check_character,
    mobile_problem,
)

ID_CHARS = "0123456789X"
MOBILE_CHARS = "0123456789"


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(("310101", "110105", "440305", "650102", "820000")))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)))
    first17 = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + id_check_character(first17)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from("123456789ANY")) + draw(st.sampled_from("12359"))
    region = f"{draw(st.integers(110000, 659999)):06d}"
    org = "".join(draw(st.lists(st.sampled_from(CREDIT_CHARSET), min_size=9, max_size=9)))
    first17 = head + region + org
    return first17 + credit_check_character(first17)


def _changed(value: str, where: int, to: str) -> str:
    return value[:where] + to + value[where + 1 :]


def test_the_standards_examples() -> None:
    assert id_check_character("11010519491231002") == "X"  # GB 11643's own example
    assert id_card_problem("11010519491231002X") is None
    assert credit_code_problem("91350100M000100Y43") is None  # GB 32100's example
    assert credit_check_character("91350100M000100Y4") == "3"


def test_each_mistake_has_a_reason() -> None:
    good = "11010519491231002X"
    assert id_card_problem(good[:-1] + "3") == "check digit should be X, found 3"
    assert id_card_problem(good[:-1]) == "an ID number has 18 characters, found 17"
    assert "character 5" in (id_card_problem("1101A519491231002X") or "")
    assert "not a calendar date" in (id_card_problem("110105" + "19490231" + "0021") or "")
    assert "province" in (id_card_problem("990105" + "19491231" + "0021") or "")
    assert "out of range" in (id_card_problem("110105" + "18991231" + "0021") or "")
    assert "out of range" in (id_card_problem("110105" + "20301231" + "0021", today=date(2026, 1, 1)) or "")
    assert credit_code_problem("91350100M000100Y41") == "check character should be 3, found 1"
    assert "without I, O, Z, S, V" in (credit_code_problem("91350100M000100O43") or "")
    assert "region code" in (credit_code_problem("913501A0M000100Y43") or "")
    assert mobile_problem("13812345678") is None
    assert mobile_problem("1381234567") == "a mobile number has 11 digits, found 10"
    assert mobile_problem("12812345678") == "a mobile number starts with 13 to 19, found 12"
    assert "digits only" in (mobile_problem("138-1234-5678") or "")
    assert date_problem("2024-02-29") is None
    assert date_problem("2023-02-29") == "date 2023-02-29 is not a calendar date"
    assert "YYYY-MM-DD" in (date_problem("2024/02/29") or "")


def test_what_an_id_number_states() -> None:
    assert id_card_birth("11010519491231002X") == "1949-12-31"
    assert id_card_male("11010519491231002X") is False
    assert id_card_male("110105194912310031"[:17] + id_check_character("11010519491231003")) is True


@given(id_numbers())
def test_a_generated_id_number_passes(value: str) -> None:
    assert id_card_problem(value) is None


@given(id_numbers(), st.integers(0, 17), st.sampled_from(ID_CHARS))
def test_any_single_change_of_an_id_number_fails(value: str, where: int, to: str) -> None:
    changed = _changed(value, where, to)
    if changed != value:
        assert id_card_problem(changed) is not None


@given(credit_codes())
def test_a_generated_credit_code_passes(value: str) -> None:
    assert credit_code_problem(value) is None


@given(credit_codes(), st.integers(0, 17), st.sampled_from(CREDIT_CHARSET + "IOZSV"))
def test_any_single_change_of_a_credit_code_fails(value: str, where: int, to: str) -> None:
    changed = _changed(value, where, to)
    if changed != value:
        assert credit_code_problem(changed) is not None


@given(st.dates(min_value=date(1, 1, 1)))
def test_a_calendar_date_passes(day: date) -> None:
    assert date_problem(f"{day.year:04d}-{day.month:02d}-{day.day:02d}") is None


@given(st.text(max_size=20))
def test_the_checks_never_raise(text: str) -> None:
    for check in (id_card_problem, credit_code_problem, mobile_problem, date_problem):
        result = check(text)
        assert result is None or isinstance(result, str)
