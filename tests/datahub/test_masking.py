"""Masking by a data item's kind (cityos/datahub/masking.py): the table of each kind, odd inputs, flat
records and NGSI-LD entities in every form, and properties: a masked value never holds the hidden digits,
and nothing raises."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.datahub import mask_entity, mask_record, mask_value, masking
from cityos.datahub.masking import forget_masked, mask_column, mask_records, masker
from cityos.datahub.models import ITEM_KINDS

POINT = {"type": "Point", "coordinates": [121.4737, 31.2304]}
LINE = {"type": "LineString", "coordinates": [[1.23, 2.35], [3.46, 4.57]]}


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("id-card", "110101199001011234", "110101********1234"),
        ("id-card", "11010519491231002x", "110105********002x"),
        ("id-card", "110101900101123", "110101*****1123"),
        ("id-card", " 1101 0119 9001 0112 34 ", "110101********1234"),
        ("id-card", "11010119900101123", "***"),  # 17 digits: not an ID number
        ("mobile", "13800135678", "138****5678"),
        ("mobile", "+86 138-0013-5678", "138****5678"),
        ("mobile", "1380013567", "***"),
        ("phone", "021-63211234", "021-****1234"),
        ("phone", "(0571)87654321", "0571-****4321"),
        ("phone", "63211234", "****1234"),
        ("phone", "13800135678", "138****5678"),
        ("phone", "call me", "***"),
        ("name", "张三", "张*"),
        ("name", "王小明", "王**"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("name", "司马光", "司马*"),
        ("name", "欧阳", "欧*"),  # two characters: 欧 the surname, 阳 the name
        ("name", "阿依古丽·买买提", "阿*******"),
        ("name", "John Smith", "J***"),
        ("name", "张三13800135678", "***"),
        ("address", "上海市黄浦区南京东路123弄4号501室", "上海市黄浦区南京东路****"),
        ("address", "上海市黄浦区外滩街道中山东一路1号", "上海市黄浦区外滩街道****"),
        ("address", "浙江省嘉兴市平湖市新埭镇新中村5组", "浙江省嘉兴市平湖市新埭镇****"),
        ("address", "上海市黄浦区某某小区", "上海市黄浦区****"),
        ("address", "123号", "***"),
        ("address", "某某小区3号楼", "***"),
        ("email", "wang.li@example.org", "w***@example.org"),
        ("email", "not an address", "***"),
        ("credit-code", "91310101MA1FPX1234", "91310101**********"),
        ("credit-code", "91310101ma1fpx1234", "91310101**********"),
        ("credit-code", "9131010", "***"),
        ("geo", POINT, {"type": "Point", "coordinates": [121.47, 31.23]}),
        ("geo", [121.4737, 31.2304], [121.47, 31.23]),
        (
            "geo",
            {"type": "LineString", "coordinates": [[1.234, 2.345], [3.456, 4.567]]},
            LINE,
        ),
        ("geo", {"type": "Point", "coordinates": ["a", "b"]}, "***"),
        ("geo", "121.47,31.23", "***"),
        ("date", "1990-05-06", "1990"),
        ("date", "1990-05-06T08:00:00Z", "1990"),
        ("date", "1990年5月6日", "1990"),
        ("date", {"@type": "DateTime", "@value": "2024-01-02T03:04:05Z"}, {"@type": "DateTime", "@value": "2024"}),
        ("date", "yesterday", "***"),
        ("text", "any words", "***"),
        ("number", 42, "***"),
        ("code", "A-17", "***"),
        ("no-such-kind", "value", "***"),
        # wrong types are masked fully, never passed through
        ("id-card", 110101199001011234, "***"),
        ("mobile", 13800135678, "***"),
        ("name", ["张三"], "***"),
        ("address", {"street": "南京东路"}, "***"),
        ("geo", True, "***"),
        ("date", 1990, "***"),
        ("name", None, None),  # nothing to hide
    ],
)
def test_mask_value(kind: str, value: Any, shown: Any) -> None:
    assert mask_value(kind, value) == shown


def test_mask_record_masks_the_named_items_only_and_copies() -> None:
    record = {"id": "p1", "name": "张三", "idCard": "110101199001011234", "age": 34}
    out = mask_record(record, {"name": "name", "idCard": "id-card", "missing": "text"})
    assert out == {"id": "p1", "name": "张*", "idCard": "110101********1234", "age": 34}
    assert record["name"] == "张三"


def test_mask_entity_in_each_representation() -> None:
    masked = {"name": "name", "location": "geo", "bio": "text", "employer": "code", "mobile": "mobile"}
    normalized = {
        "id": "urn:ngsi-ld:Person:1",
        "type": "Person",
        "name": {"type": "Property", "value": "张三", "observedAt": "2026-01-01T00:00:00Z"},
        "location": {"type": "GeoProperty", "value": POINT},
        "bio": {"type": "LanguageProperty", "languageMap": {"zh": "住在南京东路", "en": "lives on Nanjing Rd"}},
        "employer": {"type": "Relationship", "object": "urn:ngsi-ld:Company:9"},
        "mobile": [
            {"type": "Property", "value": "13800135678", "datasetId": "urn:a"},
            {"type": "Property", "value": "13900135678", "datasetId": "urn:b"},
        ],
    }
    out = mask_entity(normalized, masked)
    assert out["name"] == {"type": "Property", "value": "张*", "observedAt": "2026-01-01T00:00:00Z"}
    assert out["location"] == {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.47, 31.23]}}
    assert out["bio"] == {"type": "LanguageProperty", "languageMap": {"zh": "***", "en": "***"}}
    assert out["employer"] == {"type": "Relationship", "object": "***"}
    assert [m["value"] for m in out["mobile"]] == ["138****5678", "139****5678"]
    assert out["id"] == normalized["id"] and normalized["name"]["value"] == "张三"

    concise = {
        "id": "urn:ngsi-ld:Person:1",
        "type": "Person",
        "name": {"value": "张三"},
        "location": POINT,
        "bio": {"languageMap": {"zh": "住在南京东路"}},
        "employer": {"object": "urn:ngsi-ld:Company:9"},
    }
    out = mask_entity(concise, masked)
    assert out["name"] == {"value": "张*"} and out["location"]["coordinates"] == [121.47, 31.23]
    assert out["bio"] == {"languageMap": {"zh": "***"}} and out["employer"] == {"object": "***"}

    key_values = {"id": "urn:ngsi-ld:Person:1", "type": "Person", "name": "张三", "location": POINT, "bio": {"a": 1}}
    out = mask_entity(key_values, masked)
    assert (out["name"], out["location"]["coordinates"], out["bio"]) == ("张*", [121.47, 31.23], "***")


def test_mask_entity_never_hides_id_or_type_and_survives_odd_shapes() -> None:
    entity = {"id": "x", "type": "T", "a": {"type": "Property"}, "b": {"languageMap": 5}, "c": [], "d": [POINT]}
    out = mask_entity(entity, {"id": "text", "type": "text", "a": "name", "b": "name", "c": "name", "d": "geo"})
    assert (out["id"], out["type"]) == ("x", "T")
    assert out["a"] == "***" and out["b"] == {"languageMap": "***"} and out["c"] == "***" and out["d"] == "***"


@given(head=st.sampled_from("123456789"), body=st.text(alphabet="0123456789", min_size=16, max_size=16),
       last=st.sampled_from("0123456789Xx"))  # fmt: skip
def test_an_id_number_shows_only_its_first_six_and_last_four(head: str, body: str, last: str) -> None:
    value = head + body + last
    shown = mask_value("id-card", value)
    assert shown == value[:6] + "********" + value[-4:]
    assert not any(c.isdigit() for c in shown[6:-4])


@given(second=st.sampled_from("3456789"), rest=st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_a_mobile_shows_only_its_first_three_and_last_four(second: str, rest: str) -> None:
    value = "1" + second + rest
    shown = mask_value("mobile", value)
    assert shown == value[:3] + "****" + value[-4:]


@given(code=st.from_regex(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}", fullmatch=True))
def test_a_credit_code_hides_its_last_ten(code: str) -> None:
    shown = mask_value("credit-code", code)
    assert shown == code[:8] + "*" * 10


@given(number=st.text(alphabet="0123456789", min_size=7, max_size=8), area=st.from_regex(r"0\d{2,3}", fullmatch=True))
def test_a_fixed_phone_shows_only_its_area_code_and_last_four(number: str, area: str) -> None:
    shown = mask_value("phone", f"{area}-{number}")
    assert shown == f"{area}-" + "*" * (len(number) - 4) + number[-4:]


@given(value=st.text(alphabet="0123456789 -+", min_size=12, max_size=30))
def test_a_long_number_never_shows_more_than_ten_of_its_digits(value: str) -> None:
    for kind in ("id-card", "mobile", "phone", "credit-code", "text", "number", "code", "name", "address", "date"):
        shown = str(mask_value(kind, value))
        assert sum(c.isdigit() for c in shown) <= 10


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(kind=st.sampled_from((*ITEM_KINDS, "unknown")), value=json_values)
def test_masking_never_raises_and_never_passes_a_value_through(kind: str, value: Any) -> None:
    shown = mask_value(kind, value)
    if value is not None and kind in ("text", "number", "code", "unknown"):
        assert shown == "***"
    mask_entity({"id": "x", "type": "T", "a": value}, {"a": kind})
    mask_record({"a": value}, {"a": kind})


# The fast forms of a page's masking (mask_records, masker) answer as mask_value does, for every input: values
# near the forms they take (and just off them) as well as any JSON value.
near_fast_forms = st.one_of(
    st.text(alphabet="0123456789Xx١ ", min_size=9, max_size=19),  # ID numbers, mobiles, Arabic-Indic digits
    st.text(alphabet="张王李欧阳司马三娜明 ·A", min_size=0, max_size=5),  # names, compound surnames
    st.from_regex(r"[12０]\d{3}-\d{2}-\d{2}", fullmatch=True),  # dates, a full-width digit
    st.text(alphabet="0123456789-年T ", min_size=8, max_size=12),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(("Point", "LineString")),
            "coordinates": st.lists(st.floats() | st.integers(), max_size=3),
        }
    ),
    st.fixed_dictionaries({"type": st.just("Point"), "coordinates": st.just([121.4, 31.2]), "bbox": st.just([1.0])}),
)


@given(kind=st.sampled_from((*ITEM_KINDS, "unknown")), value=near_fast_forms | json_values)
def test_the_fast_forms_mask_as_mask_value_does(kind: str, value: Any) -> None:
    assert masker(kind)(value) == mask_value(kind, value)
    page = [{"a": value, "b": "张三"}, {"b": None}]
    mask_records(page, {"a": kind, "b": "name"})
    assert page == [mask_record({"a": value, "b": "张三"}, {"a": kind, "b": "name"}), {"b": None}]


# A column of a page (mask_column) answers as mask_value does value by value: columns of values near the forms
# the column patterns take and just off them (spaces at either end, newlines inside, Unicode digits, None).
near_column_forms = st.one_of(
    near_fast_forms,
    st.text(alphabet="上海市黄浦区南京东路街道大镇乡1号 \n\t", max_size=14),  # addresses
    st.text(alphabet="wa.@example-org1 \n", max_size=14),  # e-mail addresses
    st.from_regex(r"[a-z]{1,3}@[a-z]{1,3}\.[a-z]{2}", fullmatch=True),
    st.from_regex(r"[1-9]\d{16}[0-9Xx]|1[3-9]\d{9}", fullmatch=True),
    st.sampled_from(("张三", "王小明", "欧阳娜", "司马光", "欧阳", "user1@example.org", "上海市黄浦区南京东路1弄",
                     "上海市黄浦区南京东路****", "1990-05-06", "13800135678", "110101199001011234", "", "\n")),
)  # fmt: skip


@given(kind=st.sampled_from((*ITEM_KINDS, "unknown")), values=st.lists(near_column_forms | json_values, max_size=8))
def test_a_column_masks_as_mask_value_does(kind: str, values: list[Any]) -> None:
    assert mask_column(kind, list(values)) == [mask_value(kind, v) for v in values]


@given(kind=st.sampled_from(("id-card", "mobile", "name", "date", "address", "email")),
       values=st.lists(near_column_forms, min_size=1, max_size=12))  # fmt: skip
def test_a_column_of_strings_masks_as_mask_value_does(kind: str, values: list[Any]) -> None:
    assert mask_column(kind, list(values)) == [mask_value(kind, v) for v in values]


def test_a_page_is_masked_item_by_item_in_place() -> None:
    page = [{"id": "a", "n": "张三", "m": "13800135678"}, {"id": "b", "m": None}, {"id": "c", "n": "欧阳娜娜"}]
    mask_records(page, {"n": "name", "m": "mobile", "absent": "text"})
    assert page == [{"id": "a", "n": "张*", "m": "138****5678"}, {"id": "b", "m": None}, {"id": "c", "n": "欧阳**"}]


# A page's points (a GeoJSON Point of two floats each) are masked a column at a time, their roundings kept per
# process: the same answers as mask_value, for columns of points and of points with odd ones among them.
points = st.fixed_dictionaries({"type": st.just("Point"), "coordinates": st.lists(st.floats(), min_size=2, max_size=2)})


@given(values=st.lists(points, min_size=1, max_size=12) | st.lists(points | near_fast_forms, min_size=1, max_size=6))
def test_a_column_of_points_masks_as_mask_value_does(values: list[Any]) -> None:
    assert mask_column("geo", list(values)) == [mask_value("geo", v) for v in values]
    assert mask_column("geo", list(values)) == [mask_value("geo", v) for v in values]  # the roundings kept


def test_masked_values_are_kept_per_process_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    forget_masked()
    column = ["110101199001011234", "张三", None, 7, "110101199001011234"]
    first = mask_column("id-card", column)
    assert first == [mask_value("id-card", v) for v in column]
    assert mask_column("id-card", column) == first  # from the kept values
    monkeypatch.setattr(masking, "MEMO_SIZE", 3)
    many = [f"11010119900101{n:04d}" for n in range(10)]
    assert mask_column("id-card", many) == [mask_value("id-card", v) for v in many]
    assert mask_column("id-card", many) == [mask_value("id-card", v) for v in many]
    forget_masked()
    assert mask_column("id-card", column) == first
