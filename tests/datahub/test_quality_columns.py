"""The column-wise quality evaluator (cityos.datahub.quality_columns) gives the report of the record-at-a-time
one (cityos.datahub.quality.evaluate_records), failures and reasons included, on generated records that mix
valid and broken identifiers, blanks, numbers where text is expected and chunk boundaries anywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityos.core.identifiers import credit_check_character, id_check_character
from cityos.datahub.quality import evaluate_records
from cityos.datahub.quality_columns import WHITESPACE, as_columns, evaluate, evaluate_columns, items_read
from cityos.datahub.quality_rules import RuleSet

AS_OF = datetime(2026, 12, 1, 9, 30, 15, 250_000, tzinfo=UTC)

RULES = RuleSet.model_validate(
    {
        "dataset": "T",
        "key": "id",
        "weights": {"validity": 2},
        "rules": [
            {"id": "card-present", "dimension": "completeness", "check": "present", "item": "card"},
            {"id": "name-present", "dimension": "completeness", "check": "present", "item": "name"},
            {"id": "card-unique", "dimension": "uniqueness", "check": "unique", "items": ["card"]},
            {"id": "pair-unique", "dimension": "uniqueness", "check": "unique", "items": ["name", "sex"]},
            {"id": "card-valid", "dimension": "validity", "check": "format", "item": "card", "format": "id-card"},
            {"id": "code-valid", "dimension": "validity", "check": "format", "item": "code", "format": "credit-code"},
            {"id": "mobile-valid", "dimension": "validity", "check": "format", "item": "mobile", "format": "mobile"},
            {"id": "born-valid", "dimension": "validity", "check": "format", "item": "born", "format": "date"},
            {"id": "sex-coded", "dimension": "validity", "check": "one-of", "item": "sex", "values": ["男", "女"]},
            {
                "id": "name-pattern",
                "dimension": "validity",
                "check": "pattern",
                "item": "name",
                "pattern": "^上海市.+号",
            },
            {"id": "amount-range", "dimension": "validity", "check": "range", "item": "amount", "min": 0, "max": 100},
            {"id": "fresh", "dimension": "timeliness", "check": "fresh", "item": "at", "within": "30d"},
            {
                "id": "card-agrees",
                "dimension": "consistency",
                "check": "id-card-agrees",
                "item": "card",
                "birth": "born",
                "gender": "sex",
            },
            {
                "id": "status-agrees",
                "dimension": "accuracy",
                "check": "agrees-with",
                "item": "status",
                "reference": "R",
                "by": "card",
                "referenceItem": "state",
            },
        ],
    }
)

blank = st.sampled_from([None, "", " ", "\u3000", "\t\n", "\x1c"])
days = st.dates(min_value=date(1880, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def id_cards(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["310101", "110105", "990000", "81000a"]))
    born = draw(days).strftime("%Y%m%d") if draw(st.booleans()) else draw(st.from_regex(r"[0-9]{8}", fullmatch=True))
    first = region + born + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    check = id_check_character(first) if first.isdigit() and draw(st.integers(0, 3)) else draw(st.sampled_from("0X7a"))
    return first + check


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    first = draw(st.from_regex(r"[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{9}", fullmatch=True))
    if draw(st.booleans()):
        first = first[:4] + draw(st.sampled_from("AIOZ")) + first[5:]
    ok = all(c in "0123456789ABCDEFGHJKLMNPQRTUWXY" for c in first)
    return first + (credit_check_character(first) if ok and draw(st.integers(0, 3)) else draw(st.sampled_from("0Y")))


def moments() -> st.SearchStrategy[Any]:
    near = st.datetimes(min_value=datetime(2026, 10, 1), max_value=datetime(2026, 12, 31))
    return st.one_of(
        near.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
        near.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S+08:00")),
        near.map(lambda d: d.isoformat()),
        st.just((AS_OF - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")),
        st.just((AS_OF - timedelta(days=30, seconds=-1)).strftime("%Y-%m-%dT%H:%M:%SZ")),
        st.sampled_from(["2026-13-01T00:00:00Z", "2026-11-31T10:00:00Z", "2026-11-30T24:00:00Z", "yesterday"]),
        near.map(lambda d: d.replace(tzinfo=UTC)),
        blank,
    )


def values(kind: str) -> st.SearchStrategy[Any]:
    texts = st.text(max_size=6)
    odd = st.one_of(st.integers(-5, 200), st.floats(allow_nan=True, allow_infinity=True), texts)
    found = {
        "card": st.one_of(id_cards(), id_cards(), st.just("3101011990010112٣4"), st.just("31010119900101123"), odd),
        "code": st.one_of(credit_codes(), odd),
        "mobile": st.one_of(st.from_regex(r"1[0-9]{10}", fullmatch=True), st.just("1381234567８"), odd),
        "born": st.one_of(
            days.map(date.isoformat),
            st.sampled_from(["2026-02-29", "2024-02-29", "0000-01-01"]),
            st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
            odd,
        ),
        "sex": st.one_of(st.sampled_from(["男", "女", "M", "F", "male", "female", "1", "2", "x"]), st.integers(1, 2)),
        "name": st.one_of(st.sampled_from(["上海市黄浦区1号", "上海市号", "上海市黄浦区", "北京市1号"]), texts),
        "amount": st.one_of(st.sampled_from(["5", "100", "100.5", "-1", "1e2", " 7 ", "nan", "x"]), odd),
        "at": moments(),
        "status": st.sampled_from(["a", "b", "c", 1]),
    }[kind]
    return st.one_of(found, blank)


@st.composite
def datasets(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    count = draw(st.integers(0, 40))
    records = []
    for n in range(count):
        record: dict[str, Any] = {"id": draw(st.sampled_from([f"r{n}", f"r{n % 5}", n]))}
        for item in ("card", "code", "mobile", "born", "sex", "name", "amount", "at", "status"):
            if draw(st.integers(0, 9)):  # now and then an item left out of the record
                record[item] = draw(values(item))
        if isinstance(record.get("card"), str) and len(record["card"]) == 18 and draw(st.booleans()):
            card = record["card"]  # birth and sex as the ID number states them, mostly
            record["born"] = f"{card[6:10]}-{card[10:12]}-{card[12:14]}" + draw(st.sampled_from(["", "T00:00"]))
        records.append(record)
    cards = [r["card"] for r in records if isinstance(r.get("card"), str)]
    reference = [
        {"card": draw(st.sampled_from(cards)) if cards and draw(st.booleans()) else draw(values("card")),
         "state": draw(st.one_of(st.sampled_from(["a", "b", 1]), blank))}
        for _ in range(draw(st.integers(0, 30)))
    ]  # fmt: skip
    return records, reference, draw(st.integers(1, 9))


# 100 examples (300 took 182 s of a full run at load 10): the differential check finds its disagreements early
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(datasets())
def test_column_wise_equals_record_at_a_time(data: tuple[list[dict[str, Any]], list[dict[str, Any]], int]) -> None:
    records, reference, size = data
    want = evaluate_records(records, RULES, as_of=AS_OF, references={"R": reference})
    chunks = as_columns(records, items_read(RULES), size=size)
    assert evaluate_columns(chunks, RULES, as_of=AS_OF, references={"R": reference}) == want
    assert evaluate(records, RULES, as_of=AS_OF, references={"R": reference}) == want


def test_text_only_columns_agree_on_many_records() -> None:
    """Columns of text only take the vectorised screens: a thousand records in chunks of 100, every screen
    finding failures."""
    cards = [f"310101{1950 + n % 60}0{1 + n % 9}1{n % 10}{n % 1000:03d}" for n in range(1000)]
    cards = [c + id_check_character(c) if n % 7 else c + "0" for n, c in enumerate(cards)]
    code = "91310101MA1FL0000"
    records = [
        {"id": f"p{n}", "card": c, "code": code + (credit_check_character(code) if n % 3 else "Y"),
         "mobile": f"1{3 + n % 9}00000000{n % 10}",
         "born": f"{c[6:10]}-{c[10:12]}-{c[12:14]}" if n % 11 else "1999-02-30",
         "sex": "男女"[(int(c[16]) + (n % 17 == 0)) % 2 == 0], "name": "上海市黄浦区1号" if n % 13 else "上海",
         "amount": str(n % 120), "status": "ab"[n % 2],
         "at": (AS_OF - timedelta(days=n % 40, seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        for n, c in enumerate(cards)
    ]  # fmt: skip
    reference = [{"card": c, "state": "a" if n % 4 else "b"} for n, c in enumerate(cards) if n % 2 == 0]
    want = evaluate_records(records, RULES, as_of=AS_OF, references={"R": reference})
    got = evaluate_columns(as_columns(records, items_read(RULES), size=100), RULES, as_of=AS_OF,
                           references={"R": reference})  # fmt: skip
    assert got == want
    passing = ("card-present", "name-present", "card-unique", "sex-coded")
    assert all(0 < o.failed < o.checked for o in want.outcomes if o.rule not in passing)


def test_the_whitespace_class_is_pythons() -> None:
    assert "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) == WHITESPACE
