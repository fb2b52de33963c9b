"""The merged forms (一表申请) of the five bundles: each question asked once, the skip logic (JsonLogic over the
answers) leaving out items and questions that do not apply, and the validator that names every wrong field.
Hypothesis throws arbitrary JSON answers at the validator and at the skip logic."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.core.identifiers import ID_CHECK, ID_WEIGHTS, credit_check_character
from cityos.onestop import (
    InvalidAnswers,
    InvalidServiceData,
    applicable_items,
    bundle,
    bundles,
    form_for,
    validate_answers,
    visible_questions,
)
from cityos.onestop.catalogue import Question, shipped
from cityos.onestop.forms import check, clean
from cityos.onestop.models import Bundle, BundleItem


def id_card(first17: str = "31010119900307123") -> str:
    return first17 + ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


MOTHER, FATHER = id_card("31010119900307002"), id_card("31010119880512003")
CREDIT = "91310101MA1FPX" + "123"
CREDIT += credit_check_character(CREDIT)

RESTAURANT: dict[str, Any] = {
    "has_outdoor_sign": True,
    "sells_tobacco": False,
    "business_name": "黄浦小笼馆",
    "business_form": "individual",
    "operator_id_card": FATHER,
    "premises_address": "上海市黄浦区云南南路 100 号",
    "floor_area": 86.5,
    "food_categories": ["hot", "drinks"],
    "food_safety_manager": "李明",
    "seats": 30,
    "sign_text": "黄浦小笼馆",
    "sign_area": 3.2,
    "fire_commitment": True,
}


def test_each_bundle_asks_each_question_once_its_own_first() -> None:
    for b in bundles():
        form = form_for(b)
        codes = [q.code for q in form.questions]
        assert len(codes) == len(set(codes)), b.code
        assert tuple(codes[: len(b.questions)]) == b.questions
        needed = {q for p in b.items for q in shipped().items[p.item].questions} | set(b.questions)
        assert set(codes) == needed


def test_the_newborn_bundle_has_the_five_items_and_shares_the_baby_questions() -> None:
    b = bundle("newborn")
    names = [shipped().items[p.item].name for p in b.items]
    assert names == ["出生医学证明首次签发", "出生登记（户口登记）", "城乡居民基本医疗保险参保登记（新生儿）",
                     "社会保障卡申领（新生儿）", "预防接种证办理"]  # fmt: skip
    form = form_for(b)
    assert form.owners["baby_name"] == tuple(p.item for p in b.items)  # five items, one question


def test_the_tobacco_licence_applies_only_when_tobacco_is_sold() -> None:
    b = bundle("restaurant")
    assert "HP-YC-0001" not in [p.item for p in applicable_items(b, {"sells_tobacco": False})]
    assert "HP-YC-0001" in [p.item for p in applicable_items(b, {"sells_tobacco": True})]
    form = form_for(b)
    shown = [q.code for q in visible_questions(form, {"sells_tobacco": False})]
    assert "school_distance" not in shown  # only the tobacco licence asks it
    assert "school_distance" in [q.code for q in visible_questions(form, {"sells_tobacco": True})]


def test_valid_answers_are_cleaned_and_hidden_answers_dropped() -> None:
    form = form_for(bundle("restaurant"))
    answers = {**RESTAURANT, "school_distance": 400, "registered_capital": 50, "operator_id_card": FATHER.lower()}
    cleaned = validate_answers(form, answers)
    assert "school_distance" not in cleaned  # no tobacco: the question is hidden, its answer dropped
    assert "registered_capital" not in cleaned  # an individual business has no registered capital
    assert cleaned["operator_id_card"] == FATHER.upper()
    assert cleaned["food_categories"] == ["hot", "drinks"]


def test_a_wrong_type_and_a_missing_required_answer_are_named() -> None:
    form = form_for(bundle("restaurant"))
    answers = {**RESTAURANT, "seats": "thirty", "sells_tobacco": True}
    del answers["business_name"]
    with pytest.raises(InvalidAnswers) as caught:
        validate_answers(form, answers)
    err = caught.value
    fields = {e["field"]: e["message"] for e in err.extra["errors"]}
    assert fields == {"seats": "expected a number, found 'thirty'", "business_name": "required",
                      "school_distance": "required"}  # fmt: skip
    assert err.status == 400
    assert "seats" in err.detail and "business_name" in err.detail


def test_a_question_shown_by_an_earlier_answer() -> None:
    form = form_for(bundle("enterprise-change"))
    base = {"has_housing_fund_account": False, "holds_food_licence": False, "credit_code": CREDIT}
    shown = [q.code for q in visible_questions(form, {**base, "change_kinds": ["name"]})]
    assert "new_name" in shown and "new_domicile" not in shown
    with pytest.raises(InvalidAnswers, match="new_name: required"):
        validate_answers(form, {**base, "change_kinds": ["name"]})
    assert validate_answers(form, {**base, "change_kinds": ["name"], "new_name": "上海新名称餐饮有限公司"})


def test_codes_and_dates_are_checked() -> None:
    form = form_for(bundle("newborn"))
    fields = {
        e.field: e.message
        for e in check(form, {"mother_id_card": MOTHER[:-1] + "0", "birth_date": "2026-02-30"}).errors
    }
    assert fields["mother_id_card"].startswith("check digit should be")
    assert fields["birth_date"] == "'2026-02-30' is not a calendar date (YYYY-MM-DD)"
    assert check(form, {"nonsense": 1}).errors[0].field == "nonsense"


def test_a_show_when_reading_a_later_question_is_refused() -> None:
    b = bundle("restaurant")
    bad = Question("early", "boolean", "早", "early", show_when={"var": "fire_commitment"})
    questions = {**shipped().questions, "early": bad}
    with pytest.raises(InvalidServiceData, match="not asked before it"):
        form_for(replace(b, questions=("early", *b.questions)), questions=questions)


# --- properties ---------------------------------------------------------------------------------------------

SCALAR = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=True) | st.text(max_size=20)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)  # fmt: skip


def _answers(form_codes: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    good = {q.code: _good(q) for q in shipped().questions.values() if q.code in form_codes}
    keys = st.sampled_from(form_codes) | st.text(max_size=10)
    value = st.one_of(JSON, *good.values())
    return st.dictionaries(keys, value, max_size=len(form_codes) + 2)


def _good(q: Question) -> st.SearchStrategy[Any]:
    """Answers of the right type for a question (and some out of range)."""
    return {
        "boolean": st.booleans(),
        "integer": st.integers(-5, 20000),
        "number": st.floats(-5, 1e6, allow_nan=False),
        "date": st.dates().map(str),
        "choice": st.sampled_from(q.values or ("x",)),
        "multichoice": st.lists(st.sampled_from(q.values or ("x",)), max_size=3),
        "id-card": st.sampled_from([MOTHER, FATHER, "310101"]),
        "credit-code": st.sampled_from([CREDIT, "91310101MA1FPX1230"]),
    }.get(q.type, st.text(max_size=30))


@pytest.mark.parametrize("code", [b.code for b in shipped().bundles.values()])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_validator_cleans_or_names_every_wrong_field(code: str, data: st.DataObject) -> None:
    form = form_for(bundle(code))
    answers = data.draw(_answers([q.code for q in form.questions]))
    checked = check(form, answers)
    shown = {q.code for q in checked.questions}
    try:
        cleaned = validate_answers(form, answers)
    except InvalidAnswers as err:
        assert checked.errors
        named = {e["field"] for e in err.extra["errors"]}
        assert named <= shown | (set(answers) - {q.code for q in form.questions})
        for f in named:
            assert f in err.detail
        return
    assert set(cleaned) <= shown  # hidden questions' answers are dropped
    for q in checked.questions:
        if q.required:
            assert q.code in cleaned, q.code  # every required shown question is answered
        if q.code in cleaned:
            assert clean(q, cleaned[q.code]) == (cleaned[q.code], None)  # cleaning is idempotent
    assert validate_answers(form, cleaned) == cleaned


@settings(max_examples=300, deadline=None)
@given(gates=st.dictionaries(st.sampled_from(["has_outdoor_sign", "sells_tobacco"]), JSON))
def test_the_skip_logic_follows_the_gates(gates: dict[str, Any]) -> None:
    b = bundle("restaurant")
    form = form_for(b)
    checked = check(form, gates)
    items = {p.item for p in checked.items}
    assert ("HP-YC-0001" in items) == (gates.get("sells_tobacco") is True)
    assert ("HP-LH-0001" in items) == (gates.get("has_outdoor_sign") is True)
    assert {"HP-SJ-0001", "HP-SJ-0002", "HP-XF-0001"} <= items  # the items without a condition always apply
    owners = form.owners
    for q in checked.questions:  # a shown question is a gate or needed by an applicable item
        assert not owners[q.code] or set(owners[q.code]) & items


@settings(max_examples=200, deadline=None)
@given(rule_value=SCALAR | st.lists(SCALAR, max_size=3), answers=st.dictionaries(st.sampled_from(["a", "b"]), JSON))
def test_a_rule_never_fails_whatever_the_answers(rule_value: Any, answers: dict[str, Any]) -> None:
    """A rule's constants are plain values (the rules are checked when loaded); the answers are anything."""
    rules = [{"==": [{"var": "a"}, rule_value]}, {"in": [rule_value, {"var": "b"}]}, {"<": [{"var": "a"}, 3]},
             {"and": [{"var": "a"}, {"!": {"var": "b"}}]}]  # fmt: skip
    b = Bundle("t", "测试", "test", "person", tuple(BundleItem("HP-WJ-0001", r) for r in rules[:1]), "health")
    assert isinstance(applicable_items(b, answers), tuple)
    for r in rules:
        applicable_items(Bundle("t", "测试", "test", "person", (BundleItem("HP-WJ-0001", r),), "health"), answers)
