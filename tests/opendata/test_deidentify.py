"""The de-identification gate as pure functions: a planted register that would re-identify a small street's
residents by birth date, gender and street is blocked and the combinations named, and passes once birth dates
are generalised; an aggregate with a cell of 2 is flagged, or suppressed with the marker; items go by level,
kind and policy. Hypothesis: the check never passes a release with a group below k, and generalising never
adds a value."""

from __future__ import annotations

from collections import Counter
from typing import Any

from gate_samples import BIG, RESIDENTS, SMALL, STATS, entry, policy, residents, residents_policy, stats
from hypothesis import given
from hypothesis import strategies as st

from cityos.datahub import DataItem, OpeningType, load_scale
from cityos.opendata import (
    Action,
    GateResult,
    Rule,
    content_hash,
    deidentify,
    generaliser,
    k_anonymity,
    policy_for,
)

SCALE = load_scale()


def _gate(e: Any, records: list[dict[str, Any]], **own: Any) -> GateResult:
    return deidentify(e, records, policy_for(policy(**{e.code: own}), e), SCALE)


def _actions(result: GateResult) -> dict[str, tuple[str, str]]:
    return {t.item: (t.action.value, t.reason) for t in result.treatments}


def test_a_register_that_singles_out_a_small_streets_residents_is_blocked_naming_them() -> None:
    result = deidentify(RESIDENTS, residents(), policy_for(residents_policy(False), RESIDENTS), SCALE)
    assert not result.passed and result.quasi == ("gender", "birthDate", "address")
    named = {(g.values["gender"], g.values["birthDate"], g.values["address"]): g.count for g in result.offending}
    for j in range(10):  # each of the small street's ten, alone in their combination
        assert named[("男女"[j % 2], f"195{j // 2}-0{1 + j % 9}-1{j}", SMALL)] == 1
    assert "shared by fewer than 5 records" in result.reasons[0] and "birthDate=" in result.reasons[0]
    assert all(set(r) == {"gender", "birthDate", "address"} for r in result.records)


def test_the_same_register_passes_with_birth_dates_in_five_year_bands() -> None:
    result = deidentify(RESIDENTS, residents(), policy_for(residents_policy(True), RESIDENTS), SCALE)
    assert result.passed and result.offending == () and result.reasons == ()
    assert {r["address"] for r in result.records} == {BIG, SMALL}
    small = Counter((r["gender"], r["birthDate"]) for r in result.records if r["address"] == SMALL)
    assert small == {("男", "1950-1954"): 5, ("女", "1950-1954"): 5}
    assert _actions(result) == {
        "idCard": ("removed", "direct"),
        "name": ("removed", "direct"),
        "gender": ("kept", "kept"),
        "birthDate": ("generalised", "rule"),
        "address": ("generalised", "rule"),
        "income": ("removed", "level"),  # general-4, above the general-2 an unconditional release opens
    }


def test_an_aggregate_with_a_cell_of_two_is_flagged_and_blocked() -> None:
    result = _gate(STATS, stats(small=2), subject="aggregates", counts=["residents"])
    assert not result.passed and result.suppressed == 0
    [cell] = result.small_cells
    assert (cell.row, cell.item, cell.count, dict(cell.cell)) == (
        4,
        "residents",
        2,
        {"street": "外滩", "ageGroup": "18-59"},
    )
    assert "residents=2" in result.reasons[0] and result.records[4]["residents"] == 2


def test_small_cells_suppressed_with_the_marker_pass_and_are_listed() -> None:
    rows = stats(small=2)
    rows[0]["residents"] = 0  # a zero tells of no one: not a small cell
    result = _gate(STATS, rows, subject="aggregates", counts=["residents"], suppress=True, marker="≤4")
    assert result.passed and result.suppressed == 1 and [c.row for c in result.small_cells] == [4]
    assert result.records[4]["residents"] == "≤4" and result.records[0]["residents"] == 0
    assert result.quasi is None and result.groups == 0


def test_a_person_release_without_declared_quasi_identifiers_is_checked_over_all_it_releases() -> None:
    records = [{"gender": "男", "birthDate": "1980-01-01", "address": "上海市黄浦区外滩街道中山东一路1号"}] * 6
    result = _gate(RESIDENTS, records, subject="persons", generalise={"address": "street"})
    assert result.passed and result.quasi == ("gender", "birthDate", "address") and result.groups == 1
    result = _gate(RESIDENTS, records[:4], subject="persons", generalise={"address": "street"})
    assert not result.passed and [g.count for g in result.offending] == [4]


def test_an_address_in_a_release_about_persons_goes_unless_generalised_and_stays_for_others() -> None:
    records = [{"address": "上海市黄浦区外滩街道中山东一路1号", "gender": "男"}]
    about_persons = _gate(RESIDENTS, records, subject="persons", quasi=[], k=1)
    assert _actions(about_persons)["address"] == ("removed", "direct-of-person") and about_persons.records == [
        {"gender": "男", "birthDate": None}
    ]
    about_things = _gate(RESIDENTS, records, subject="things")
    assert about_things.passed and about_things.records[0]["address"] == records[0]["address"]
    assert about_things.quasi is None  # no k-anonymity check for records that describe no person


def test_columns_that_are_no_item_are_removed_and_listed() -> None:
    result = _gate(STATS, [{"street": "外滩", "ageGroup": "60+", "residents": 40, "note": "王某家"}],
                   subject="aggregates", counts=["residents"])  # fmt: skip
    assert result.records == [{"street": "外滩", "ageGroup": "60+", "residents": 40}]
    assert _actions(result)["note"] == ("removed", "not-an-item")


def test_credit_codes_of_natural_persons_are_withheld_from_an_organisations_release() -> None:
    firms = entry("T-02-0001", (DataItem("creditCode", "统一社会信用代码", "credit-code", "general-1"),
                                DataItem("legalRepresentative", "法定代表人", "name", "general-1")))  # fmt: skip
    records = [{"creditCode": "91310101MA1FL0XX1A", "legalRepresentative": "王五"},
               {"creditCode": "92310101MA1FL0XX2B", "legalRepresentative": "赵六"}]  # fmt: skip
    result = _gate(firms, records, subject="organisations")
    assert result.passed and result.records == [{"creditCode": "91310101MA1FL0XX1A"}, {"creditCode": None}]
    credit = next(t for t in result.treatments if t.item == "creditCode")
    assert credit.action is Action.KEPT and credit.withheld == 1
    assert _actions(result)["legalRepresentative"] == ("removed", "direct")


def test_a_public_item_is_kept_with_its_reason_and_a_withheld_one_removed() -> None:
    rivers = entry("T-13-0001", (DataItem("river", "河湖名称", "text", "general-1"),
                                 DataItem("chief", "河长姓名", "name", "general-1"),
                                 DataItem("length", "长度", "number", "general-1")))  # fmt: skip
    result = _gate(rivers, [{"river": "黄浦江", "chief": "李四", "length": 12.5}], subject="things",
                   public={"chief": "河长依法公示"}, withhold=["length"])  # fmt: skip
    assert result.records == [{"river": "黄浦江", "chief": "李四"}]
    chief = next(t for t in result.treatments if t.item == "chief")
    assert (chief.action, chief.reason, chief.detail) == (Action.KEPT, "public", "河长依法公示")


def test_an_entry_not_for_opening_releases_nothing() -> None:
    closed = entry("T-09-0001", RESIDENTS.items, opening=OpeningType.NONE)
    result = _gate(closed, residents())
    assert not result.passed and result.records == [] and "不予开放" in result.reasons[0]
    assert {t.reason for t in result.treatments} == {"not-opened"}


def test_a_conditional_release_opens_one_level_more() -> None:
    conditional = entry("T-01-0003", RESIDENTS.items[2:], opening=OpeningType.CONDITIONAL)  # income general-4 stays out
    born = entry(
        "T-01-0004", (DataItem("birthDate", "出生日期", "date", "general-3"),), opening=OpeningType.CONDITIONAL
    )
    assert _actions(_gate(conditional, []))["income"] == ("removed", "level")
    assert _gate(born, [{"birthDate": "1990-01-02"}], subject="things").records == [{"birthDate": "1990-01-02"}]


def test_unreadable_values_are_withheld_and_counted() -> None:
    given = [("1980-01-01", "上海市黄浦区外滩街道1号"), ("unknown", "上海市黄浦区外滩街道2号"), (None, "36号")]
    records = [{"gender": "男", "birthDate": d, "address": a} for d, a in given]
    result = _gate(RESIDENTS, records, subject="persons", quasi=["gender"], k=1,
                   generalise={"birthDate": "year", "address": "street"})  # fmt: skip
    assert [r["birthDate"] for r in result.records] == ["1980", None, None]
    assert [r["address"] for r in result.records] == ["上海市黄浦区外滩街道"] * 2 + [None]
    withheld = {t.item: t.withheld for t in result.treatments}
    assert (withheld["birthDate"], withheld["address"]) == (1, 1)  # a None was nothing to withhold


def test_a_rule_answers_each_value_of_a_release_as_it_would_alone() -> None:
    ages = entry(
        "T-01-0005", (DataItem("age", "年龄", "number", "general-1"), DataItem("code", "编码", "code", "general-1"))
    )
    rows = [
        {"age": a, "code": c} for a, c in [(1, "200001"), (True, "200"), (1.0, "200001"), ("1", 200001), (95, "200")]
    ]
    result = _gate(ages, rows, subject="things", generalise={"age": {"band": 10, "top": 90}, "code": {"prefix": 3}})
    assert [(r["age"], r["code"]) for r in result.records] == [
        ("0-9", "200"),
        (None, None),
        ("0-9", "200"),
        (None, "200"),
        ("90+", None),
    ]


def test_rules_generalise_as_declared() -> None:
    assert generaliser(Rule("year"))({"@type": "DateTime", "@value": "1987-06-05T08:00:00Z"}) == "1987"
    assert generaliser(Rule("years", 5))("1987-06-05") == "1985-1989"
    assert generaliser(Rule("years", 10))("1987年6月") == "1980-1989"
    band = generaliser(Rule("band", 10, 90))
    assert [band(v) for v in (0, 37, 37.9, 90, 104, -1, True, "40")] == [
        "0-9",
        "30-39",
        "30-39",
        "90+",
        "90+",
        None,
        None,
        None,
    ]
    assert generaliser(Rule("prefix", 3))("200001") == "200" and generaliser(Rule("prefix", 3))(200001) == "200"
    assert generaliser(Rule("prefix", 3))("200") is None  # the prefix would be the whole value
    street = generaliser(Rule("street"))
    assert street("上海市黄浦区南京东路街道贵州路101号") == "上海市黄浦区南京东路街道"
    assert street("上海市黄浦区人民路100号") == "上海市黄浦区人民路"
    assert street("上海市金山区朱泾镇健康路1号") == "上海市金山区朱泾镇"
    assert street("12号楼301室") is None and street("黄浦区3街坊") is None


def test_the_content_hash_is_of_the_records_as_released() -> None:
    a = [{"x": 1, "y": "甲"}, {"y": "乙", "x": 2}]
    assert content_hash(a) == content_hash([{"y": "甲", "x": 1}, {"x": 2, "y": "乙"}])
    assert content_hash(a) != content_hash(a[::-1]) and len(content_hash([])) == 64


# --- properties --------------------------------------------------------------------------------------------------

values = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]), st.integers(0, 3), st.just([1, 2]))
records = st.lists(st.fixed_dictionaries({"p": values, "q": values, "r": values}), max_size=60)


@given(records, st.lists(st.sampled_from(["p", "q", "r"]), unique=True), st.integers(1, 8))
def test_the_check_lists_exactly_the_groups_below_k(rows: list[dict[str, Any]], quasi: list[str], k: int) -> None:
    groups, offending = k_anonymity(rows, quasi, k)
    expected = Counter(tuple(repr(r[q]) for q in quasi) for r in rows)
    assert groups == len(expected)
    assert sorted(g.count for g in offending) == sorted(c for c in expected.values() if c < k)
    assert [g.count for g in offending] == sorted(g.count for g in offending)


people = st.lists(st.fixed_dictionaries({
    "gender": st.sampled_from(["男", "女"]),
    "birthDate": st.dates().map(lambda d: d.isoformat()),
    "address": st.sampled_from([BIG + "1号", SMALL + "2号", "36号", "上海市黄浦区人民路3号"]),
    "income": st.integers(0, 10),
}), max_size=40)  # fmt: skip


@given(people, st.integers(1, 6), st.booleans())
def test_the_gate_never_passes_a_release_with_a_group_below_k(rows: list[dict[str, Any]], k: int, band: bool) -> None:
    rules = {"address": "street", **({"birthDate": {"years": 5}} if band else {})}
    result = _gate(RESIDENTS, rows, subject="persons", quasi=["gender", "birthDate", "address"], k=k, generalise=rules)
    counts = Counter((r["gender"], r["birthDate"], r["address"]) for r in result.records)
    assert result.passed == all(c >= k for c in counts.values())
    assert len(result.offending) == sum(c < k for c in counts.values())


rule_inputs = {
    Rule("year"): st.one_of(st.dates().map(str), st.text(max_size=12), st.none()),
    Rule("years", 5): st.one_of(st.dates().map(str), st.none(), st.integers()),
    Rule("band", 10, 90): st.one_of(st.integers(-5, 200), st.floats(allow_nan=False), st.none(), st.text(max_size=3)),
    Rule("street"): st.one_of(st.text(alphabet="上海市黄浦区南京东路街道镇乡大道12号", max_size=20), st.none()),
    Rule("prefix", 3): st.one_of(st.text(max_size=8), st.integers(), st.none()),
}


@given(st.data())
def test_generalising_never_adds_a_value(data: st.DataObject) -> None:
    rule = data.draw(st.sampled_from(list(rule_inputs)))
    vs = data.draw(st.lists(rule_inputs[rule], max_size=30))
    g = generaliser(rule)
    out = [g(v) for v in vs]
    assert g(None) is None
    assert len({repr(o) for o in out if o is not None}) <= len({repr(v) for v in vs if v is not None})
    # a function of the value: equal inputs, equal outputs, so groups only merge
    assert all(out[i] == out[j] for i in range(len(vs)) for j in range(len(vs)) if repr(vs[i]) == repr(vs[j]))


@given(people)
def test_generalising_birth_dates_never_makes_more_groups(rows: list[dict[str, Any]]) -> None:
    exact = _gate(
        RESIDENTS, rows, subject="persons", quasi=["gender", "birthDate", "address"], generalise={"address": "street"}
    )
    banded = _gate(RESIDENTS, rows, subject="persons", quasi=["gender", "birthDate", "address"],
                   generalise={"address": "street", "birthDate": {"years": 5}})  # fmt: skip
    assert banded.groups <= exact.groups and len(banded.offending) <= len(exact.offending)
